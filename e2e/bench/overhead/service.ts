import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitFor } from '@lookout/testkit';

/**
 * A service process of the bench: `node [--require <preload>] <entry>`, pinned to one core with taskset when given
 * (taskset execs node, so the child's pid is the service's own, which /proc is read for). Its stdout (the access
 * log) goes to /dev/null, as cheap a destination as a log pipe; stderr is kept for a failure message.
 */
export class BenchService {
  private readonly stderr: string[] = [];
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly name: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(chunk);
      if (this.stderr.length > 50) this.stderr.shift();
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  static async start(options: {
    name: string;
    entry: string;
    preload: string | undefined;
    env: Record<string, string>;
    taskset?: { path: string; cpu: number } | undefined;
    nodeArgs?: readonly string[];
  }): Promise<BenchService> {
    const port = await freePort();
    const nodeArgs = [...(options.nodeArgs ?? []), ...(options.preload === undefined ? [] : ['--require', options.preload]), options.entry];
    const [command, args] =
      options.taskset === undefined
        ? [process.execPath, nodeArgs]
        : [options.taskset.path, ['-c', String(options.taskset.cpu), process.execPath, ...nodeArgs]];
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env, HOST: '127.0.0.1', PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const service = new BenchService(child, `http://127.0.0.1:${port}`, options.name);
    const exitedEarly = service.exited.then(() => {
      throw new Error(`${options.name} exited before it was healthy:\n${service.stderr.join('')}`);
    });
    exitedEarly.catch(() => undefined);
    await Promise.race([
      waitFor(
        `${options.name} to answer /healthz`,
        async () => {
          const res = await fetch(`${service.baseUrl}/healthz`).catch(() => undefined);
          return res?.ok === true ? true : undefined;
        },
        60_000,
        100,
      ),
      exitedEarly,
    ]);
    return service;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
