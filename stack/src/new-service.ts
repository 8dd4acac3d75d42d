#!/usr/bin/env node
// `npm run new-service -- NAME [--description TEXT] [--port N]`: an instrumented service wired into the stack model,
// so that the native stack, docker-compose.yml and the collector's scrape targets pick it up.
//   1. instrumented-services/NAME from stack/templates/service (express via @lookout/http-kit, config, a test)
//   2. its entry in stack/src/services.ts, a workspace in package.json, a reference in tsconfig.json
//   3. unless --no-install: npm install (links the workspace) and npm run gen (compose, scrape targets)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './generate.js';
import { services } from './model.js';

const MARKER = '  // new services are added above this line by `npm run new-service`';

interface Options {
  name: string;
  description: string;
  port: number;
  root: string;
  install: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const usage = 'usage: npm run new-service -- NAME [--description TEXT] [--port N] [--no-install]';
  const args = [...argv];
  const options: Partial<Options> = { root: REPO, install: true };
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === '--description') options.description = args.shift();
    else if (arg === '--port') options.port = Number(args.shift());
    else if (arg === '--root') options.root = path.resolve(args.shift() ?? '.');
    else if (arg === '--no-install') options.install = false;
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}\n${usage}`);
    else if (options.name === undefined) options.name = arg;
    else throw new Error(`one name only\n${usage}`);
  }
  const name = options.name ?? '';
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(name)) throw new Error(`NAME must be 2-31 lower-case letters, digits or dashes, starting with a letter\n${usage}`);
  if (services.some((s) => s.name === name)) throw new Error(`a service named ${name} is already in stack/src/services.ts`);
  const taken = new Set(services.map((s) => s.port));
  const port = options.port ?? Math.max(...taken) + 1;
  if (!Number.isInteger(port) || port < 1024 || port > 65535 || taken.has(port)) throw new Error(`--port: ${port} is not a free port from 1024 to 65535`);
  return { name, description: options.description ?? `The ${name} service`, port, root: options.root ?? REPO, install: options.install ?? true };
}

function render(template: string, o: Options): string {
  return template.replaceAll('__NAME__', o.name).replaceAll('__DESCRIPTION__', o.description).replaceAll('__PORT__', String(o.port));
}

/** Copies the template tree, dropping `.tmpl` and filling in the placeholders. */
function copyTemplate(from: string, to: string, o: Options): string[] {
  const written: string[] = [];
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const source = path.join(from, entry);
    if (statSync(source).isDirectory()) {
      written.push(...copyTemplate(source, path.join(to, entry), o));
      continue;
    }
    const target = path.join(to, entry.replace(/\.tmpl$/, '').replace(/^service\.test\.ts$/, `${o.name}.test.ts`));
    writeFileSync(target, render(readFileSync(source, 'utf8'), o));
    written.push(target);
  }
  return written;
}

/** Adds the service to the model, the npm workspaces and the TypeScript project references. */
function register(o: Options): void {
  const modelFile = path.join(o.root, 'stack/src/services.ts');
  const model = readFileSync(modelFile, 'utf8');
  if (!model.includes(MARKER)) throw new Error(`${modelFile}: the line "${MARKER.trim()}" is missing`);
  const entry = [
    '  {',
    `    name: '${o.name}',`,
    `    description: ${JSON.stringify(o.description).replace(/^"|"$/g, "'")},`,
    `    port: ${o.port},`,
    '    calls: [],',
    '  },',
  ].join('\n');
  writeFileSync(modelFile, model.replace(MARKER, `${entry}\n${MARKER}`));

  const pkgFile = path.join(o.root, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { workspaces: string[] };
  const workspace = `instrumented-services/${o.name}`;
  const services = pkg.workspaces.indexOf('instrumented-services/gateway');
  if (!pkg.workspaces.includes(workspace)) pkg.workspaces.splice(services + 1, 0, workspace);
  writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);

  const tsFile = path.join(o.root, 'tsconfig.json');
  const ts = JSON.parse(readFileSync(tsFile, 'utf8')) as { references: { path: string }[] };
  if (!ts.references.some((r) => r.path === workspace)) {
    ts.references.splice(ts.references.findIndex((r) => r.path === 'instrumented-services/gateway') + 1, 0, { path: workspace });
  }
  writeFileSync(tsFile, `${JSON.stringify(ts, null, 2)}\n`);
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const dir = path.join(o.root, 'instrumented-services', o.name);
  if (existsSync(dir)) throw new Error(`${dir} already exists`);
  const written = copyTemplate(path.join(REPO, 'stack/templates/service'), dir, o);
  register(o);
  for (const file of written) process.stdout.write(`created ${path.relative(o.root, file)}\n`);
  process.stdout.write(`added ${o.name} (port ${o.port}) to stack/src/services.ts, package.json and tsconfig.json\n`);
  if (o.install) {
    const run = (args: string[]) => execFileSync('npm', args, { cwd: o.root, stdio: 'inherit' });
    run(['install', '--no-audit', '--no-fund']);
    run(['run', 'gen']);
  }
  process.stdout.write(
    `\nnext: edit instrumented-services/${o.name}/src/routes.ts, declare any metric of its own in ` +
      'instrumented-services/telemetry/src/contract.ts, then npm test\n',
  );
}

try {
  main();
} catch (err) {
  process.stderr.write(`new-service: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
