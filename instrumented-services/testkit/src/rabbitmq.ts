import { readdirSync, readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRoot, run, systemUserIds, tcpReachable } from '@lookout/native-stack';
import { freePort, waitFor } from './ports.js';

/**
 * A real RabbitMQ node of its own (Debian's rabbitmq-server): its node name, AMQP and distribution ports, data,
 * logs and config all live in one temporary directory, so it never touches the system node. When run as root the
 * Debian wrapper drops to the rabbitmq user, so that directory belongs to rabbitmq. Stops and restarts on the same
 * port and data (outage tests); durable queues and persistent messages survive that.
 */
export class RabbitMQServer {
  readonly port: number;
  readonly distPort: number;
  readonly dir: string;
  private child: ChildProcess | undefined;

  private constructor(port: number, distPort: number, dir: string) {
    this.port = port;
    this.distPort = distPort;
    this.dir = dir;
  }

  static async create(): Promise<RabbitMQServer> {
    const dir = await mkdtemp(path.join(tmpdir(), 'lookout-rabbitmq-'));
    const server = new RabbitMQServer(await freePort(), await freePort(), dir);
    await writeFile(
      path.join(dir, 'rabbitmq.conf'),
      [`listeners.tcp.1 = 127.0.0.1:${server.port}`, 'log.console = false', 'log.file.level = warning', ''].join('\n'),
    );
    await writeFile(path.join(dir, 'enabled_plugins'), '[].\n');
    if (isRoot()) {
      const { uid, gid } = await systemUserIds('rabbitmq');
      for (const p of [dir, path.join(dir, 'rabbitmq.conf'), path.join(dir, 'enabled_plugins')]) await chown(p, uid, gid);
    }
    await server.start();
    return server;
  }

  get nodeName(): string {
    return `lookout-${this.port}@localhost`;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  private get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: path.join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: path.join(this.dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(this.dir, 'enabled_plugins'),
    };
  }

  async start(): Promise<void> {
    const binary = process.env.RABBITMQ_SERVER_BIN ?? '/usr/sbin/rabbitmq-server';
    const child = spawn(binary, [], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    let failed: Error | undefined;
    child.once('error', (err) => {
      failed = new Error(`cannot start ${binary}: ${err.message} (install the rabbitmq-server package)`);
    });
    child.once('exit', (code) => {
      if (code !== 0) failed ??= new Error(`rabbitmq-server exited with ${code}; logs in ${this.dir}/log`);
    });
    await waitFor(
      `rabbitmq on port ${this.port}`,
      async () => {
        if (failed) throw failed;
        return (await tcpReachable(this.port)) ? true : undefined;
      },
      60_000,
      200,
    );
  }

  async stop(): Promise<void> {
    if (this.child === undefined) return;
    const child = this.child;
    this.child = undefined;
    try {
      await run('rabbitmqctl', ['-n', this.nodeName, 'shutdown']);
    } catch {
      // not running, or not answering: make sure below
    }
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await exited;
    }
    await waitFor(`rabbitmq port ${this.port} to close`, async () => ((await tcpReachable(this.port)) ? undefined : true));
  }

  /**
   * Freezes the broker (SIGSTOP to its process group) or thaws it (SIGCONT): it keeps its connections open but
   * answers nothing, the failure a closed port does not show (a hung host, a stalled VM).
   */
  freeze(frozen: boolean): void {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('rabbitmq is not running');
    // Only the Erlang VM, which rabbitmq-server starts in a session of its own: stopping the `su` above it as well
    // would stop it for good (su stops itself when its child stops, and stays stopped after a SIGCONT).
    const vms = descendants(pid).filter((p) => commandName(p) === 'beam.smp');
    if (vms.length === 0) throw new Error('no beam.smp process under rabbitmq-server');
    for (const vm of vms) process.kill(vm, frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  async destroy(): Promise<void> {
    if (this.child?.pid !== undefined) {
      try {
        this.freeze(false);
      } catch {
        // the VM already exited
      }
    }
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return ''; // exited meanwhile
  }
}

/** Every process below `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // The command name may hold spaces and parentheses: the fields after its last ')' are fixed.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = children.get(queue.shift() as number) ?? [];
    found.push(...next);
    queue = [...queue, ...next];
  }
  return found;
}
