import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Who is emitting telemetry: the resource attributes every signal carries. */
export interface ServiceIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly version: string;
  readonly environment: string;
  readonly instanceId: string;
}

interface PackageJson {
  name?: string;
  version?: string;
}

function nearestPackageJson(start: string): PackageJson | undefined {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) return JSON.parse(readFileSync(candidate, 'utf8')) as PackageJson;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** `key1=value1,key2=value2` as the OTel spec defines it, values percent-decoded. */
function resourceAttributesFromEnv(env: NodeJS.ProcessEnv): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    try {
      attributes.set(pair.slice(0, eq).trim(), decodeURIComponent(pair.slice(eq + 1).trim()));
    } catch {
      // a malformed value is ignored here; the SDK's own env detector reports it
    }
  }
  return attributes;
}

let cached: ServiceIdentity | undefined;

/**
 * The service's identity, resolved once per process. Precedence follows the OTel spec: OTEL_SERVICE_NAME, then
 * OTEL_RESOURCE_ATTRIBUTES, then our defaults: the name and version of the package.json nearest to the main script
 * (scope stripped: `@lookout/catalog` -> `catalog`), namespace `lookout`, DEPLOYMENT_ENVIRONMENT or `local`, and a random instance id.
 */
export function serviceIdentity(env: NodeJS.ProcessEnv = process.env): ServiceIdentity {
  if (cached !== undefined && env === process.env) return cached;
  const mainScript = process.argv[1];
  const pkg = mainScript === undefined ? undefined : nearestPackageJson(path.dirname(path.resolve(mainScript)));
  const fromEnv = resourceAttributesFromEnv(env);
  const identity: ServiceIdentity = {
    name:
      env.OTEL_SERVICE_NAME?.trim() ||
      fromEnv.get('service.name') ||
      pkg?.name?.replace(/^@[^/]+\//, '') ||
      'unknown_service:node',
    namespace: fromEnv.get('service.namespace') ?? 'lookout',
    version: fromEnv.get('service.version') ?? pkg?.version ?? '0.0.0',
    environment: fromEnv.get('deployment.environment.name') ?? (env.DEPLOYMENT_ENVIRONMENT?.trim() || 'local'),
    instanceId: fromEnv.get('service.instance.id') ?? randomUUID(),
  };
  if (env === process.env) cached = identity;
  return identity;
}
