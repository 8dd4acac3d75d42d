import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every common Linux build when getconf is missing. */
const CLK_TCK = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/**
 * User plus system CPU time a process has used, in seconds (utime + stime of /proc/<pid>/stat): the process's own
 * threads only, so neither the load tool nor the OTLP sink is counted.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the man page are at 11 and 12 once pid and comm (1 and 2) are gone and state is at 0.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size (VmRSS of /proc/<pid>/status) in MiB. */
export function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** util-linux's taskset, when installed. */
export function tasksetPath(): string | undefined {
  return ['/usr/bin/taskset', '/bin/taskset', '/usr/local/bin/taskset'].find((p) => existsSync(p));
}

/** Pins every thread of this process (and so what it starts later) to `cpu`. */
export function pinSelf(taskset: string, cpu: number): void {
  execFileSync(taskset, ['-a', '-cp', String(cpu), String(process.pid)], { stdio: 'ignore' });
}
