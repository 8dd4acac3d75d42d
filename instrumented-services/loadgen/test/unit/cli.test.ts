import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const CLI = path.resolve(__dirname, '../../src/cli.js');

describe('loadgen run, as its users start it (stdout and stderr not terminals)', () => {
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(req.url?.startsWith('/api/orders') === true ? 201 : 200).end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('writes a plain progress line every LOADGEN_PROGRESS_SECONDS and the same summary fields as before', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--base-url', base, '--rate', '20', '--duration', '2.5s', '--seed', '3'], {
      env: { ...process.env, LOADGEN_PROGRESS_SECONDS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);

    assert.ok(!stderr.includes('\r') && !stderr.includes('\u001b'), `carriage returns or escapes in a non-terminal stream: ${JSON.stringify(stderr)}`);
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, stderr);
    for (const line of lines) assert.match(line, /^\[ {4}\ds\] \d+\.\d req\/s \(target 20\.0\) \| errors 0 \| p99 [\d.]+ ms \| in-flight \d+ \| total \d+ done/);

    const summary = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(summary), ['requests', 'completed', 'skipped', 'achievedRps', 'statusCodes', 'latencyMs']);
    assert.deepEqual(Object.keys(summary.latencyMs as object), ['p50', 'p90', 'p99', 'max']);
    assert.ok((summary.completed as number) >= 45 && (summary.completed as number) <= 52, `completed ${String(summary.completed)}`);
    assert.equal(summary.completed, Object.values(summary.statusCodes as Record<string, number>).reduce((a, b) => a + b, 0));
  });

  it('refuses a progress period that is not a whole number of seconds, by name', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--base-url', base, '--duration', '1s'], {
      env: { ...process.env, LOADGEN_PROGRESS_SECONDS: '0.5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /LOADGEN_PROGRESS_SECONDS/);
  });
});
