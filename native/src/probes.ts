import pg from 'pg';
import type { Probe } from './programs.js';
import { tcpReachable } from './system.js';

/** One readiness check; never throws. */
export async function probe(p: Probe): Promise<boolean> {
  try {
    switch (p.kind) {
      case 'tcp':
        return await tcpReachable(p.port, 1000);
      case 'http': {
        const res = await fetch(p.url, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        return res.ok;
      }
      case 'postgres': {
        const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${p.port}/postgres`, connectionTimeoutMillis: 1000 });
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return true;
      }
    }
  } catch {
    return false;
  }
}
