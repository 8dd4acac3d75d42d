// Where a service's CPU time went: self time of a V8 .cpuprofile (node --cpu-prof, e.g. from
// `BENCH_CPU_PROF=<dir> npm run bench:overhead`) summed by package and by function, idle time left out.
//   node e2e/dist/bench/cpu-profile-summary.js <file.cpuprofile> [top=25] [skipSeconds=0]
// skipSeconds leaves out the start of the profile (module loading, warm-up) so that the steady state shows.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package a script belongs to: its npm name, a workspace of this repository, Node itself, or V8's pseudo-frames. */
export function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node (core)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/');
    return first?.startsWith('@') === true ? `${first}/${second ?? ''}` : (first ?? url);
  }
  const workspace = /\/instrumented-services\/([^/]+)\//.exec(url);
  if (workspace?.[1] !== undefined) return `@lookout/${workspace[1]}`;
  return url;
}

export function summarise(profile: CpuProfile, skipSeconds = 0): { total: number; byPackage: Map<string, number>; byFunction: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let elapsed = 0;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's delta is the time since the previous one: the time to charge to this sample's frame.
    const delta = profile.timeDeltas[i] ?? 0;
    elapsed += delta;
    if (elapsed < skipSeconds * 1e6) continue;
    const node = nodes.get(profile.samples[i] ?? -1);
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    const frame = node.callFrame;
    const pkg = packageOf(frame.url, frame.functionName);
    const file = frame.url.slice(frame.url.lastIndexOf('/') + 1);
    const fn = `${frame.functionName || '(anonymous)'} ${pkg}${file === '' ? '' : ` ${file}:${frame.lineNumber + 1}`}`;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + delta);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + delta);
    total += delta;
  }
  return { total, byPackage, byFunction };
}

function main(): void {
  const [file, topArg, skipArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: cpu-profile-summary <file.cpuprofile> [top] [skipSeconds]');
  const top = Number(topArg ?? 25);
  const { total, byPackage, byFunction } = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(skipArg ?? 0));
  const table = (title: string, entries: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`);
    for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((100 * micros) / total).toFixed(1).padStart(6)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}\n`);
    }
  };
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s of CPU (idle excluded)\n`);
  table('self time by package', byPackage);
  table('self time by function', byFunction);
}

if (require.main === module) main();
