import net from 'node:net';
import pg from 'pg';
import type { Probe } from './programs.js';

function tcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
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

/** One readiness check; never throws. */
export async function probe(p: Probe): Promise<boolean> {
  try {
    switch (p.kind) {
      case 'tcp':
        return await tcp(p.port);
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
