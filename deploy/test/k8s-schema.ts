import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { versions } from '@lookout/native-stack';
import { Ajv, type ValidateFunction } from 'ajv';

const exec = promisify(execFile);

/**
 * Offline validation of rendered Kubernetes objects against the API server's own OpenAPI v3 schemas, strictly: an
 * unknown field (a misspelt `readOnlyRootFileSystem` that the API server would drop with a warning) is an error, as
 * with `kubectl apply --validate=strict`. The schemas are the ones sigs.k8s.io/kubectl-validate embeds for each
 * Kubernetes minor version, fetched as a Go module (no build; `go mod download` from the module proxy, cached).
 */
export class KubernetesSchemas {
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

  private constructor(private readonly dir: string) {}

  /** The schemas of Kubernetes `KUBERNETES_SCHEMA_VERSION` from kubectl-validate `KUBECTL_VALIDATE_VERSION` (versions.env). */
  static async load(): Promise<KubernetesSchemas> {
    const v = versions();
    const module = `sigs.k8s.io/kubectl-validate@v${v.KUBECTL_VALIDATE_VERSION ?? ''}`;
    const { stdout } = await exec('go', ['mod', 'download', '-json', module], { cwd: path.resolve(__dirname), maxBuffer: 16 * 1024 * 1024 });
    const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
    if (dir === undefined) throw new Error(`go mod download ${module}: no directory in ${stdout}`);
    return new KubernetesSchemas(path.join(dir, 'pkg/openapiclient/builtins', v.KUBERNETES_SCHEMA_VERSION ?? ''));
  }

  /** The schema problems of one object; empty when it is valid. Throws for a kind these schemas do not have. */
  validate(object: { apiVersion?: unknown; kind?: unknown }): string[] {
    const check = this.validator(String(object.apiVersion), String(object.kind));
    if (check(object)) return [];
    return (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
  }

  private validator(apiVersion: string, kind: string): ValidateFunction {
    const key = `${apiVersion}/${kind}`;
    const known = this.compiled.get(key);
    if (known !== undefined) return known;
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const file = group === '' ? path.join(this.dir, 'api', `${version ?? ''}.json`) : path.join(this.dir, 'apis', group ?? '', `${version ?? ''}.json`);
    const schemas = (JSON.parse(readFileSync(file, 'utf8')) as { components: { schemas: Record<string, Schema> } }).components.schemas;
    const name = Object.keys(schemas).find((n) =>
      (schemas[n]?.['x-kubernetes-group-version-kind'] ?? []).some((g) => g.group === group && g.version === version && g.kind === kind),
    );
    if (name === undefined) throw new Error(`no schema for ${key} in ${file}`);
    const definitions = Object.fromEntries(Object.entries(schemas).map(([n, s]) => [n, strict(s)]));
    const check = this.ajv.compile({ $ref: `#/definitions/${name}`, definitions });
    this.compiled.set(key, check);
    return check;
  }
}

interface Schema {
  [key: string]: unknown;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

/**
 * The OpenAPI schema as JSON Schema for ajv: references into `definitions`, int-or-string as either, and
 * `additionalProperties: false` on every object that lists its properties and does not keep unknown fields.
 */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const s = node as Record<string, unknown>;
  if (s['x-kubernetes-int-or-string'] === true) return { anyOf: [{ type: 'integer' }, { type: 'string' }] };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace('#/components/schemas/', '#/definitions/');
    else if (k === 'properties' && v !== null && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, strict(ps)]));
    else out[k] = strict(v);
  }
  if (out.properties !== undefined && out.additionalProperties === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}
