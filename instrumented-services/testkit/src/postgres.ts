import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asUser, isRoot, postgresBin, run, systemUserIds } from '@lookout/native-stack';
import { freePort } from './ports.js';

/**
 * A real PostgreSQL server of its own: a fresh cluster in a temporary directory, listening on 127.0.0.1 on a free
 * port, with `trust` auth for the superuser `postgres`. It can be stopped and started again on the same port and
 * data (outage tests), and `destroy()` removes everything.
 */
export class PostgresServer {
  readonly port: number;
  readonly dir: string;
  private readonly bin: string;

  private constructor(port: number, dir: string, bin: string) {
    this.port = port;
    this.dir = dir;
    this.bin = bin;
  }

  static async create(): Promise<PostgresServer> {
    const bin = postgresBin();
    const dir = await mkdtemp(path.join(tmpdir(), 'lookout-pg-'));
    if (isRoot()) {
      // initdb refuses to run as root; the cluster belongs to the postgres system user.
      const { uid, gid } = await systemUserIds('postgres');
      await chown(dir, uid, gid);
    }
    const server = new PostgresServer(await freePort(), dir, bin);
    await run(
      ...asUser('postgres', path.join(bin, 'initdb'), [
        '-D',
        server.dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]),
    );
    await server.start();
    return server;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** A connection URL for `database` (default `postgres`). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      // Durability is not under test here; speed is welcome.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    await run(
      ...asUser('postgres', path.join(this.bin, 'pg_ctl'), [
        '-D',
        this.dataDir,
        '-o',
        options,
        '-l',
        path.join(this.dir, 'server.log'),
        '-w',
        '-t',
        '60',
        'start',
      ]),
    );
  }

  /** Fast shutdown: open connections are terminated, as in a real outage. */
  async stop(): Promise<void> {
    await run(...asUser('postgres', path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']));
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } catch {
      // already stopped
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
