import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { postgresBin, REPO, run } from '@lookout/native-stack';
import { databases, serviceDependencies, serviceEnvironment, startOrder, type ServiceSpec } from '@lookout/stack';
import { ADMIN_TOKEN, freePort, PostgresServer, RabbitMQServer, READ_KEY, RedisServer, sleep, waitFor, WRITE_KEY } from '@lookout/testkit';
import { buildImage, parseDockerfile, type BuiltImage } from './dockerfile.js';

/**
 * The services' image, built without Docker: the Dockerfile's COPY and RUN steps replayed in a temporary folder
 * (npm ci, tsc, `npm prune --omit=dev`, the deletions), then every service started from the final stage's tree with
 * the image's CMD, against real Postgres, Redis and RabbitMQ. A runtime import that only a devDependency provides
 * (as `jose` once was for the gateway) is absent from that tree and fails here with the process's stderr.
 */

// The build context: this work tree, or another checkout (`git archive HEAD | tar -x -C DIR`) while it is mid-edit.
const CONTEXT = path.resolve(process.env.PRODUCTION_TREE_CONTEXT ?? REPO);
const DOCKERFILE = path.join(CONTEXT, 'instrumented-services/Dockerfile');
const JWT_SECRET = 'production-tree-test-secret-0123456789';
const JWT_ISSUER = 'https://issuer.production-tree.test';
const JWT_AUDIENCE = 'lookout-api';

// The host's environment minus what would leak the repository's own install into the copy: npm's lifecycle
// variables (npm_config_local_prefix among them) and node_modules/.bin folders on PATH. The Node that runs the
// test (24, the image's major) comes first.
const PATH_VALUE = [
  path.dirname(process.execPath),
  ...(process.env.PATH ?? '').split(path.delimiter).filter((p) => p !== '' && !p.includes(`node_modules${path.sep}.bin`)),
].join(path.delimiter);
const buildEnv = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && !['NODE', 'NODE_OPTIONS', 'NODE_PATH'].includes(k))),
  PATH: PATH_VALUE,
});

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
}

/** A stand-in for the collector that only records which service sent which signal (any encoding). */
class OtlpRecorder {
  readonly received = new Set<string>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<OtlpRecorder> {
    const port = await freePort();
    const server = createServer((req, res) => {
      const match = /^\/([a-z0-9-]+)\/v1\/(traces|logs|metrics)$/.exec(req.url ?? '');
      req.resume();
      req.on('end', () => {
        if (match !== null) recorder.received.add(`${match[1] ?? ''}:${match[2] ?? ''}`);
        // An empty body is an empty Export*ServiceResponse in both protobuf and JSON encodings.
        res.writeHead(match === null ? 404 : 200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
      });
    });
    const recorder = new OtlpRecorder(server, port);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return recorder;
  }

  endpoint(service: string): string {
    return `http://127.0.0.1:${this.port}/${service}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An HS256 JWT, as an identity provider would issue it (the gateway verifies it with jose). */
function jwt(claims: Record<string, unknown>, secret = JWT_SECRET): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

describe('the production tree (the service image built without Docker)', () => {
  const procs = new Set<Proc>();
  const ports = new Map<string, number>();
  /** Management ports of the services with one (the gateway's /metrics, /readyz, /admin). */
  const managementPorts = new Map<string, number>();
  const timings: string[] = [];
  let work: string | undefined;
  let image: BuiltImage | undefined;
  let postgres: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let rabbitmq: RabbitMQServer | undefined;
  let otlp: OtlpRecorder | undefined;

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not set up (see the first failure)`);
    return value;
  };

  async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await step();
    timings.push(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  }

  /** Starts a process in its own process group (so that it and anything it forks can be stopped together). */
  function launch(name: string, command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Proc {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout: string[] = [];
    const stderr: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', (err) => {
        stderr.push(String(err));
        resolve(-1);
      });
      child.once('exit', (code) => resolve(code));
    });
    const proc = { name, child, stdout, stderr, exited };
    procs.add(proc);
    void exited.then(() => procs.delete(proc));
    return proc;
  }

  async function stop(proc: Proc): Promise<void> {
    const group = proc.child.pid;
    if (group === undefined) return;
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-group, s);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const killer = setTimeout(() => signal('SIGKILL'), 5_000);
    await proc.exited;
    clearTimeout(killer);
    signal('SIGKILL');
  }

  const tail = (chunks: readonly string[], lines: number) => chunks.join('').trimEnd().split('\n').slice(-lines).join('\n');

  /** The image's CMD for `service`, with the image's ENV and the deployment's; resolves once /readyz answers 200. */
  async function startService(service: string, env: Record<string, string>): Promise<Proc> {
    const built = need(image, 'the image');
    const [command = 'sh', ...args] = built.cmd;
    const proc = launch(service, command, args, built.workdir, {
      // Nothing of the host's Node setup: what the container would have, plus the wiring.
      PATH: PATH_VALUE,
      HOME: need(work, 'the work folder'),
      ...built.env({ SERVICE: service }),
      ...env,
    });
    // Readiness is on the management port of a service that has one.
    const port = env.MANAGEMENT_PORT ?? env.PORT ?? '';
    let exitCode: number | null | undefined;
    void proc.exited.then((code) => (exitCode = code));
    const outcome = await waitFor(
      `${service} to answer /readyz 200`,
      async () => {
        if (exitCode !== undefined) return `exited with ${String(exitCode)}`;
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        await res?.body?.cancel();
        return res?.status === 200 ? 'ready' : undefined;
      },
      60_000,
      200,
    ).catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (outcome !== 'ready') {
      await stop(proc);
      throw new Error(
        `${service} did not become ready from the production tree (${outcome}); a module missing from its ` +
          `package.json "dependencies" shows here as "Cannot find module".\n--- stderr ---\n${tail(proc.stderr, 60)}\n` +
          `--- stdout (last lines) ---\n${tail(proc.stdout, 15)}`,
      );
    }
    return proc;
  }

  /** The deployment's environment of a service, as the stack model wires it, on this test's servers and ports. */
  function environmentOf(name: string): Record<string, string> {
    const spec = startOrder([name]).at(-1);
    if (spec === undefined) throw new Error(`no service ${name}`);
    const wiring = {
      environment: 'test',
      host: '127.0.0.1',
      otlpEndpoint: need(otlp, 'the OTLP recorder').endpoint(name),
      demo: 'true',
      adminToken: ADMIN_TOKEN,
      inboundTraceContext: 'link',
      port: (s: ServiceSpec) => need(ports.get(s.name), `a port for ${s.name}`),
      managementPort: (s: ServiceSpec) => need(managementPorts.get(s.name), `a management port for ${s.name}`),
      managementHost: '127.0.0.1',
      postgresUrl: (db: string) => need(postgres, 'postgres').url(db),
      redisUrl: need(redis, 'redis').url,
      rabbitmqUrl: need(rabbitmq, 'rabbitmq').url,
      serviceUrl: (callee: string) => `http://127.0.0.1:${need(ports.get(callee), `a port for ${callee}`)}`,
    };
    return {
      ...serviceEnvironment(spec, wiring),
      // Quick batches, so that the export check below need not wait the SDK's default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BLRP_SCHEDULE_DELAY: '200',
      ...(name === 'catalog' && { SEED_PRODUCTS: '1000' }),
      ...(name === 'orders' && { OUTBOX_POLL_INTERVAL_MS: '200' }),
      // JWT verification on: the code path that imports jose at run time is configured, not only loaded.
      ...(name === 'gateway' && { LOOKOUT_DEMO: 'true', JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE }),
    };
  }

  // The tests below need every service: when one did not start, its failure above says why, once.
  let allReady = false;
  const skipUnlessReady = (t: TestContext): boolean => {
    if (!allReady) t.skip('not every service started (see the start-up test)');
    return !allReady;
  };

  const gateway = (p: string, init?: RequestInit) => fetch(`http://127.0.0.1:${need(ports.get('gateway'), 'the gateway')}${p}`, init);

  before(
    async () => {
      work = await mkdtemp(path.join(tmpdir(), 'lookout-prodtree-'));
      const dir = work;
      for (const s of startOrder()) {
        ports.set(s.name, await freePort());
        if (s.managementPort !== undefined) managementPorts.set(s.name, await freePort());
      }
      const build = timed('image tree (copy, npm ci, tsc, prune, final stage)', async () => {
        image = await buildImage({
          dockerfile: DOCKERFILE,
          context: CONTEXT,
          dir,
          // SERVICE only guards the prune stage (checked below): one tree serves every service.
          buildArgs: { SERVICE: 'gateway' },
          run: async (script, cwd, env) => {
            const proc = launch(`RUN ${script}`, 'sh', ['-c', script], cwd, {
              ...buildEnv(),
              // The lockfile fixes every version and integrity: the warm cache changes the speed, not the tree.
              npm_config_prefer_offline: 'true',
              ...env,
            });
            const started = performance.now();
            const code = await proc.exited;
            timings.push(`  RUN ${script.slice(0, 60)}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
            if (code !== 0) throw new Error(`RUN ${script} exited with ${code}:\n${tail(proc.stderr, 40)}\n${tail(proc.stdout, 20)}`);
          },
        });
      });
      // The servers start while npm installs: they compete for CPU little, and it saves their start-up time.
      const servers = timed('postgres, redis, rabbitmq', async () => {
        await Promise.all([
          PostgresServer.create().then((s) => (postgres = s)),
          RedisServer.create().then((s) => (redis = s)),
          RabbitMQServer.create().then((s) => (rabbitmq = s)),
          OtlpRecorder.start().then((s) => (otlp = s)),
        ]);
        const createdb = path.join(postgresBin(), 'createdb');
        for (const db of databases()) {
          await run(createdb, ['-h', '127.0.0.1', '-p', String(need(postgres, 'postgres').port), '-U', 'postgres', db]);
        }
      });
      // Settled, not all: on a failure every server that did start is known to after() and stopped.
      const failed = (await Promise.allSettled([build, servers])).find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    },
    { timeout: 10 * 60_000 },
  );

  after(async () => {
    await Promise.all([...procs].map(stop));
    await Promise.allSettled([postgres?.destroy(), redis?.destroy(), rabbitmq?.destroy(), otlp?.stop()]);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('is one tree for every service: the Dockerfile uses SERVICE only to guard the build and in the image', async () => {
    const { stages } = parseDockerfile(await readFile(DOCKERFILE, 'utf8'));
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN'));
    const perService = runs.filter((i) => i.args.includes('SERVICE') && !i.args.startsWith('test -n "$SERVICE"'));
    assert.deepEqual(perService, [], 'a RUN step now depends on $SERVICE: build one tree per service in this test');
  });

  it('holds no test code, sources or dev-only packages', (t) => {
    const built = need(image, 'the image');
    const { stdout } = spawnSync('find', ['.', '-name', 'node_modules', '-prune', '-o', '-type', 'd', '(', '-name', 'test', '-o', '-name', 'src', '-o', '-name', 'testkit', ')', '-print'], {
      cwd: path.join(built.workdir, 'instrumented-services'),
      encoding: 'utf8',
    });
    // dist/src is the compiled service; a `src` or `test` folder elsewhere is what the prune step deletes.
    const left = stdout.split('\n').filter((p) => p !== '' && !p.endsWith('/dist/src'));
    assert.deepEqual(left, []);
    for (const devOnly of ['typescript', 'eslint', 'fast-check']) {
      const found = spawnSync('test', ['-e', path.join(built.workdir, 'node_modules', devOnly)]).status === 0;
      assert.equal(found, false, `${devOnly} is in the production node_modules`);
    }
    t.diagnostic(timings.join('\n'));
  });

  it('starts every service with the image CMD and each answers /readyz 200', { timeout: 5 * 60_000 }, async (t) => {
    const started = performance.now();
    // Each starts once what it calls or follows is ready, as compose's depends_on orders them.
    const ready = new Map<string, Promise<Proc>>();
    for (const spec of startOrder()) {
      const deps = serviceDependencies(spec).map((d) => need(ready.get(d), `${d} (a dependency of ${spec.name})`));
      ready.set(spec.name, Promise.all(deps).then(() => startService(spec.name, environmentOf(spec.name))));
    }
    const results = await Promise.allSettled(ready.values());
    // A dependant of a failed service fails with the same error: each is reported once.
    const failures = new Set(results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : [])));
    if (failures.size > 0) assert.fail([...failures].join('\n\n'));
    allReady = true;
    t.diagnostic(`services ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  it('serves a product through the gateway from the catalog, with an API key and with a JWT', async (t) => {
    if (skipUnlessReady(t)) return;
    const byKey = await gateway('/api/products/7', { headers: { 'x-api-key': READ_KEY } });
    const product = (await byKey.json()) as { id?: number };
    assert.equal(byKey.status, 200, JSON.stringify(product));
    assert.equal(product.id, 7);

    const claims = { sub: 'production-tree', scope: 'read', iss: JWT_ISSUER, aud: JWT_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 };
    const byJwt = await gateway('/api/products/8', { headers: { authorization: `Bearer ${jwt(claims)}` } });
    const body = await byJwt.text();
    assert.equal(byJwt.status, 200, body);
    const forged = await gateway('/api/products/8', { headers: { authorization: `Bearer ${jwt(claims, 'another-secret-of-32-characters-at-least')}` } });
    await forged.body?.cancel();
    assert.equal(forged.status, 401);
  });

  it('takes an order through gateway, orders, RabbitMQ and fulfillment to confirmed', async (t) => {
    if (skipUnlessReady(t)) return;
    const placed = await gateway('/api/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': WRITE_KEY, 'idempotency-key': randomUUID() },
      body: JSON.stringify({ customerEmail: 'prod-tree@example.com', items: [{ productId: 3, quantity: 1 }] }),
    });
    const order = (await placed.json()) as { id?: number };
    assert.equal(placed.status, 201, JSON.stringify(order));
    await waitFor(
      `order ${String(order.id)} confirmed by fulfillment`,
      async () => {
        const res = await gateway(`/api/orders/${String(order.id)}`, { headers: { 'x-api-key': WRITE_KEY } });
        const body = (await res.json()) as { status?: string };
        return body.status === 'confirmed' ? true : undefined;
      },
      30_000,
      200,
    );
  });

  it('exports traces over OTLP (the default http/protobuf) from every shop service', async (t) => {
    if (skipUnlessReady(t)) return;
    const recorder = need(otlp, 'the OTLP recorder');
    const expected = ['catalog', 'orders', 'fulfillment', 'gateway'].map((s) => `${s}:traces`);
    await waitFor(
      `traces from ${expected.join(', ')} (got ${[...recorder.received].join(', ')})`,
      () => (expected.every((e) => recorder.received.has(e)) ? true : undefined),
      15_000,
      200,
    );
  });

  it('runs loadgen from it against the gateway for two seconds, exiting 0', async (t) => {
    if (skipUnlessReady(t)) return;
    const built = need(image, 'the image');
    // compose's command for loadgen (the image's CMD runs it with --duration 0, until stopped).
    const proc = launch('loadgen', 'node', ['instrumented-services/loadgen/dist/src/cli.js', 'run', '--duration', '2s', '--rate', '2', '--products', '1000'], built.workdir, {
      PATH: PATH_VALUE,
      HOME: need(work, 'the work folder'),
      ...built.env({ SERVICE: 'loadgen' }),
      LOADGEN_BASE_URL: `http://127.0.0.1:${need(ports.get('gateway'), 'the gateway')}`,
    });
    const code = await Promise.race([proc.exited, sleep(30_000).then(() => 'timeout' as const)]);
    assert.equal(code, 0, `loadgen exited with ${String(code)}:\n${tail(proc.stderr, 40)}`);
    const summary = JSON.parse(proc.stdout.join('')) as { completed: number; statusCodes: Record<string, number> };
    assert.ok(summary.completed >= 2, JSON.stringify(summary));
    assert.deepEqual(
      Object.keys(summary.statusCodes).filter((s) => s.startsWith('5')),
      [],
      `server errors under load: ${JSON.stringify(summary.statusCodes)}`,
    );
  });

  // Last: it breaks the tree. Proves the check above can fail, i.e. nothing outside the tree (NODE_PATH, the
  // repository's node_modules) supplies a module.
  it('fails start-up with "Cannot find module" and the stderr when a runtime dependency is missing', async () => {
    const built = need(image, 'the image');
    await rm(path.join(built.workdir, 'node_modules/jose'), { recursive: true, force: true });
    const env = { ...environmentOf('gateway'), PORT: String(await freePort()), MANAGEMENT_PORT: String(await freePort()) };
    await assert.rejects(startService('gateway', env), (err: Error) => {
      assert.match(err.message, /gateway did not become ready from the production tree \(exited with 1\)/);
      assert.match(err.message, /Cannot find (module|package) 'jose'/);
      return true;
    });
  });
});

describe('scripts/compose-smoke.sh', () => {
  const script = path.join(REPO, 'scripts/compose-smoke.sh');

  it('is valid bash', () => {
    const result = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });

  it('is clean under shellcheck', (t) => {
    const version = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    if (version.status !== 0) {
      t.skip('shellcheck is not installed (apt-get install -y shellcheck)');
      return;
    }
    const result = spawnSync('shellcheck', ['--severity=style', script], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
