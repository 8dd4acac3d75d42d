import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../src/generate.js';

interface PackageJson {
  name: string;
  main?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const IMPORT = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)|require(?:\.resolve)?\('([^']+)'\)/gm;

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return entry === 'node_modules' || entry === 'dist' ? [] : tsFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`; undefined for relative and built-in modules. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const root = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] };

describe('workspaces', () => {
  for (const workspace of root.workspaces) {
    it(`${workspace} declares every package it imports, runtime imports as dependencies`, () => {
      const dir = path.join(REPO, workspace);
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
      const runtime = new Set(Object.keys(pkg.dependencies ?? {}));
      const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
      const problems: string[] = [];
      for (const file of tsFiles(dir)) {
        const inSrc = path.relative(dir, file).startsWith(`src${path.sep}`);
        for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
          if (/^\s*import\s+type\s/.test(m[0]) && !inSrc) continue;
          const name = packageOf(m[1] ?? m[2] ?? m[3] ?? '');
          if (name === undefined || name === pkg.name) continue;
          const declared = inSrc ? runtime.has(name) : runtime.has(name) || dev.has(name);
          if (!declared) problems.push(`${path.relative(REPO, file)} imports ${name}`);
        }
      }
      assert.deepEqual(problems, []);
      if (pkg.main !== undefined) {
        const source = path.join(dir, pkg.main.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
        assert.ok(existsSync(source), `main ${pkg.main} has no source ${path.relative(REPO, source)}`);
      }
    });
  }
});
