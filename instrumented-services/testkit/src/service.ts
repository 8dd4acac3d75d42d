import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort, waitFor } from './ports.js';

export interface LogLine {
  readonly [field: string]: unknown;
  readonly level?: string;
  readonly message?: string;
  readonly trace_id?: string;
  readonly span_id?: string;
}

/**
 * A service started the way users start it — `node --require @lookout/telemetry/register <entry>` — as a child
 * process on a free loopback port. Its stdout JSON log lines are collected for assertions.
 */
export class ServiceProcess {
  readonly baseUrl: string;
  readonly port: number;
  /**
   * Where /metrics, /readyz and /admin answer: the management listener (MANAGEMENT_PORT) of a service that has
   * one, else `baseUrl`.
   */
  readonly managementUrl: string;
  /** The management port, when the service has a management listener. */
  readonly managementPort: number | undefined;
  readonly logs: LogLine[] = [];
  readonly rawOutput: string[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, port: number, managementPort: number | undefined) {
    this.child = child;
    this.port = port;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.managementPort = managementPort;
    this.managementUrl = managementPort === undefined ? this.baseUrl : `http://127.0.0.1:${managementPort}`;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.rawOutput.push(line);
        if (process.env.TESTKIT_ECHO === '1') process.stderr.write(`[service:${port}] ${line}\n`);
        try {
          const parsed: unknown = JSON.parse(line);
          if (typeof parsed === 'object' && parsed !== null) this.logs.push(parsed as LogLine);
        } catch {
          // not a log line (a diagnostic from the SDK, say): kept in rawOutput
        }
      });
    }
  }

  /**
   * Starts `entry` with `env` added to this process's environment and PORT/HOST set, and waits until /healthz
   * answers (or the process exits, which fails with its output). MANAGEMENT_PORT 0 is a free port too, chosen
   * here so that the test knows it (`managementUrl`).
   */
  static async start(entry: string, env: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<ServiceProcess> {
    const port = env.PORT === undefined ? await freePort() : Number(env.PORT);
    const requested = env.MANAGEMENT_PORT?.trim();
    // Empty: no management listener (the service reads it as unset).
    const managementPort = requested === undefined || requested === '' ? undefined : requested === '0' ? await freePort() : Number(requested);
    const child = spawn(process.execPath, ['--require', require.resolve('@lookout/telemetry/register'), entry], {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        ...env,
        PORT: String(port),
        ...(managementPort !== undefined && { MANAGEMENT_PORT: String(managementPort) }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(child, port, managementPort);
    let exited = false;
    const exitedEarly = service.exited.then((code) => {
      exited = true;
      throw new Error(`${entry} exited with ${code} before it was healthy:\n${service.rawOutput.join('\n')}`);
    });
    const healthy = waitFor(
      `${entry} to answer /healthz`,
      async () => {
        if (exited) return false;
        const res = await fetch(`${service.baseUrl}/healthz`).catch(() => undefined);
        return res?.ok === true ? true : undefined;
      },
      options.timeoutMs ?? 60_000,
      100,
    );
    await Promise.race([healthy, exitedEarly]);
    exitedEarly.catch(() => undefined);
    return service;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** The exit code once the process has exited on its own. */
  waitForExit(): Promise<number | null> {
    return this.exited;
  }

  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, init);
  }

  /** A request to the management listener (/metrics, /readyz, /admin), or to `baseUrl` when there is none. */
  manage(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.managementUrl}${path}`, init);
  }
}

export { freePort };

/** An HTTP answer with its body parsed as JSON (or `{ text }` when it is not JSON). */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  contentType: string;
  body: Record<string, unknown>;
}

export async function fetchJson(url: string, init?: RequestInit): Promise<JsonAnswer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, headers: res.headers, contentType: res.headers.get('content-type') ?? '', body };
}
