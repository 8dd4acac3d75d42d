import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Just enough of a Dockerfile interpreter to build the image's file tree without Docker: each stage's filesystem is
 * a directory standing for its `/`, COPY copies (honouring .dockerignore), RUN runs the shell form with `sh -c`. It
 * reads the recipe rather than restating it, so a step added to the Dockerfile is taken by the test as it is; what
 * it cannot reproduce faithfully (wildcards, `!` exceptions, exec-form RUN, an earlier stage reused after another
 * built on it) throws, naming the line.
 */

export interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/** The stages of a Dockerfile (instructions before the first FROM, global ARGs, are returned as `globals`). */
export function parseDockerfile(text: string): { globals: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const continued = trimmed.endsWith('\\');
    const body = continued ? trimmed.slice(0, -1) : trimmed;
    pending = pending === undefined ? { text: body, line: index + 1 } : { text: `${pending.text} ${body}`, line: pending.line };
    if (continued) return;
    const match = /^(\S+)\s*(.*)$/s.exec(pending.text);
    if (match !== null) instructions.push({ op: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim(), line: pending.line });
    pending = undefined;
  });
  const globals: Instruction[] = [];
  const stages: { base: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.op === 'FROM') {
      const [base = '', as, name] = instruction.args.split(/\s+/);
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      (stages.at(-1)?.instructions ?? globals).push(instruction);
    }
  }
  return { globals, stages };
}

/** A .dockerignore as a predicate on context-relative paths (`**`, `*`, `?`; an excluded folder excludes its contents). */
export function dockerignore(text: string): (relative: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const exception = patterns.find((p) => p.startsWith('!'));
  if (exception !== undefined) throw new Error(`.dockerignore: exceptions (${exception}) are not supported by this test`);
  const regexes = patterns.map((p) => {
    const source = p
      .replace(/^\/+|\/+$/g, '')
      .split(/(\*\*\/|\*|\?)/)
      .map((part) => (part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${source}(?:/.*)?$`);
  });
  return (relative) => regexes.some((r) => r.test(relative.split(path.sep).join('/')));
}

/** `$NAME` and `${NAME}` from `vars` (an unknown name is empty, as in Docker). */
export function substitute(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a?: string, b?: string) => vars[a ?? b ?? ''] ?? '');
}

/** `KEY=value KEY2="value 2"` (ENV and ARG defaults). */
function assignments(args: string): [string, string][] {
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=("[^"]*"|\S*))?/g)].map((m) => [m[1] ?? '', (m[2] ?? '').replace(/^"|"$/g, '')]);
}

export interface BuiltImage {
  /** The final stage's `/`. */
  readonly root: string;
  /** Its WORKDIR, as a host path. */
  readonly workdir: string;
  /** Its ENV, given the build args (ENV may use them, e.g. `SERVICE=${SERVICE}`). */
  env(buildArgs: Readonly<Record<string, string>>): Record<string, string>;
  /** Its CMD (exec form). */
  readonly cmd: readonly string[];
}

export interface BuildOptions {
  readonly dockerfile: string;
  readonly context: string;
  /** Where the stages' filesystems go: one folder per stage. */
  readonly dir: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Runs a RUN line: `sh -c script` in `cwd` with `env` added to the host's build environment. */
  run(script: string, cwd: string, env: Readonly<Record<string, string>>): Promise<void>;
}

/** Builds every stage of the Dockerfile in order and returns the last one. */
export async function buildImage(options: BuildOptions): Promise<BuiltImage> {
  const { globals, stages } = parseDockerfile(await readFile(options.dockerfile, 'utf8'));
  const ignored = dockerignore(await readFile(path.join(options.context, '.dockerignore'), 'utf8').catch(() => ''));
  const globalArgs: Record<string, string> = {};
  for (const g of globals.filter((i) => i.op === 'ARG')) {
    for (const [k, v] of assignments(g.args)) globalArgs[k] = options.buildArgs[k] ?? v;
  }
  interface Built {
    name: string | undefined;
    root: string;
    workdir: string;
    args: Record<string, string>;
    envLines: string[];
    env: Record<string, string>;
    cmd: string[];
    /** Another stage was built on top of this one's folder: it no longer holds this stage's result. */
    consumed: boolean;
  }
  const built: Built[] = [];
  const moved = new Set<string>();
  const at = (stage: Built, p: string) => path.join(stage.root, path.posix.resolve(stage.workdir, p));
  for (const [index, stage] of stages.entries()) {
    const parent = built.find((b) => b.name !== undefined && b.name === stage.base);
    let current: Built;
    if (parent === undefined) {
      current = { name: stage.name, root: path.join(options.dir, `stage-${index}`), workdir: '/', args: {}, envLines: [], env: {}, cmd: [], consumed: false };
      await mkdir(current.root, { recursive: true });
    } else {
      // Docker would add a layer on a copy; building in place is the same as long as nothing reads the parent again.
      parent.consumed = true;
      current = { ...parent, name: stage.name, args: {}, envLines: [...parent.envLines], env: { ...parent.env }, consumed: false };
    }
    built.push(current);
    for (const instruction of stage.instructions) {
      const where = `Dockerfile:${instruction.line}`;
      const vars = { ...current.args, ...current.env };
      switch (instruction.op) {
        case 'ARG':
          for (const [k, v] of assignments(instruction.args)) current.args[k] = options.buildArgs[k] ?? (v === '' ? (globalArgs[k] ?? '') : v);
          break;
        case 'ENV':
          current.envLines.push(instruction.args);
          for (const [k, v] of assignments(substitute(instruction.args, vars))) current.env[k] = v;
          break;
        case 'WORKDIR':
          current.workdir = path.posix.resolve(current.workdir, substitute(instruction.args, vars));
          await mkdir(path.join(current.root, current.workdir), { recursive: true });
          break;
        case 'RUN':
          if (instruction.args.startsWith('[')) throw new Error(`${where}: exec-form RUN is not supported by this test`);
          await options.run(instruction.args, path.join(current.root, current.workdir), vars);
          break;
        case 'COPY':
          await copy(instruction.args.split(/\s+/), current, where);
          break;
        case 'CMD':
          if (!instruction.args.startsWith('[')) throw new Error(`${where}: only an exec-form CMD is supported by this test`);
          current.cmd = JSON.parse(instruction.args) as string[];
          break;
        default:
          // USER, HEALTHCHECK, LABEL, EXPOSE: nothing to build.
          break;
      }
    }
  }

  async function copy(words: string[], into: Built, where: string): Promise<void> {
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const dest = paths.pop();
    if (dest === undefined || paths.length === 0) throw new Error(`${where}: COPY needs a source and a destination`);
    const fromName = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    const from = fromName === undefined ? undefined : built.find((b) => b.name === fromName);
    if (fromName !== undefined && (from === undefined || from.consumed)) throw new Error(`${where}: --from=${fromName} is not a stage this test can read`);
    for (const source of paths) {
      if (/[*?[]/.test(source)) throw new Error(`${where}: wildcards in COPY are not supported by this test`);
      const src = from === undefined ? path.join(options.context, source) : at(from, source);
      if ([...moved].some((m) => src === m || src.startsWith(m + path.sep))) throw new Error(`${where}: ${source} was moved by an earlier COPY --from; this test copies a path once`);
      const isDir = (await stat(src)).isDirectory();
      const target = isDir || !dest.endsWith('/') ? at(into, dest) : path.join(at(into, dest), path.basename(source));
      if (from !== undefined && !existsSync(target)) {
        // A finished stage's folder is read by nothing else but such copies: moving is copying, only faster (the
        // production node_modules is tens of thousands of files), as long as no later COPY reads the same path.
        await mkdir(path.dirname(target), { recursive: true });
        await rename(src, target);
        moved.add(src);
        continue;
      }
      await cp(src, target, {
        recursive: true,
        // Workspace links in node_modules are relative: they must stay links, as Docker keeps them.
        verbatimSymlinks: true,
        filter: (p) => from !== undefined || !ignored(path.relative(options.context, p)),
      });
    }
  }

  const last = built.at(-1);
  if (last === undefined) throw new Error('the Dockerfile has no stage');
  const envLines = last.envLines;
  return {
    root: last.root,
    workdir: path.join(last.root, last.workdir),
    cmd: last.cmd,
    env(buildArgs) {
      const env: Record<string, string> = {};
      for (const line of envLines) for (const [k, v] of assignments(substitute(line, { ...buildArgs, ...env }))) env[k] = v;
      return env;
    },
  };
}
