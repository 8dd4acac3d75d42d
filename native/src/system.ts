import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

// What running real servers on this machine needs, shared by the native stack and the test harness.

const execFileAsync = promisify(execFile);

/** Runs a command, failing with its stderr in the message. */
export async function run(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { ...options, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** True when this process runs as root, where servers that refuse root are run as their own system user. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Prefix that runs a command as `user` when we are root, nothing otherwise. */
export function asUser(user: string, command: string, args: readonly string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', user, '--', command, ...args]] : [command, [...args]];
}

/** uid and gid of a system user (postgres, rabbitmq), to hand it the directories it will own. */
export async function systemUserIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** The newest PostgreSQL server binaries from Debian's packages, or PG_BIN. */
export function postgresBin(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) {
    throw new Error('PostgreSQL server binaries not found: run scripts/install-system-deps.sh, or set PG_BIN');
  }
  return path.join(base, newest, 'bin');
}

/** Whether something accepts TCP connections on 127.0.0.1:port (within `timeoutMs`); never throws. */
export function tcpReachable(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
