import { request } from 'undici';

export interface DrillOptions {
  /** Base URL of the service whose admin endpoint takes the fault. */
  target: string;
  adminToken: string;
  /** The fault as the admin endpoint takes it, e.g. `{ name: 'latency', ms: 500 }`. */
  fault: Record<string, unknown> & { name: string };
  durationSeconds: number;
}

async function call(method: 'POST' | 'DELETE' | 'GET', url: string, token: string, body?: unknown): Promise<unknown> {
  const res = await request(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new Error(`${method} ${url} answered ${res.statusCode}: ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

/** Switches a fault on (it also expires by itself after the duration, should the drill be interrupted). */
export function startFault(options: DrillOptions): Promise<unknown> {
  return call('POST', `${options.target}/admin/faults`, options.adminToken, {
    ...options.fault,
    durationSeconds: options.durationSeconds,
  });
}

export function stopFault(options: Pick<DrillOptions, 'target' | 'adminToken'> & { name: string }): Promise<unknown> {
  return call('DELETE', `${options.target}/admin/faults/${options.name}`, options.adminToken);
}

export function listFaults(options: Pick<DrillOptions, 'target' | 'adminToken'>): Promise<unknown> {
  return call('GET', `${options.target}/admin/faults`, options.adminToken);
}
