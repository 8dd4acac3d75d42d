import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureBinaries } from '@lookout/native-stack';
import { serviceEnvironment, services } from '@lookout/stack';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_DIR, chartFiles, REPO } from '../src/chart.js';
import { kubernetesWiring } from '../src/env.js';
import { CHART_SERVICES, requiredSecretKeys } from '../src/values.js';
import { KubernetesSchemas } from './k8s-schema.js';

const exec = promisify(execFile);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
}

interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  volumes?: Record<string, unknown>[];
  hostNetwork?: boolean;
  hostPID?: boolean;
}

const RELEASE = 'shop';
const VALUE_FILES = { default: [], small: ['ci/small-values.yaml'], production: ['ci/production-values.yaml'] } as const;
type Flavour = keyof typeof VALUE_FILES;

let helm = '';
let otelcol = '';
let schemas: KubernetesSchemas;
/** The prometheus-operator CRD models (an ES module): validate() checks an object against the CRD's schema. */
let operatorModels: Map<string, new (data: never) => { validate(): void }>;
const rendered = new Map<Flavour, K8sObject[]>();

async function template(files: readonly string[], extra: string[] = []): Promise<K8sObject[]> {
  const args = ['template', RELEASE, CHART_DIR, '--namespace', 'shop', '--kube-version', '1.30.0', ...files.flatMap((f) => ['-f', path.join(CHART_DIR, f)]), ...extra];
  const { stdout } = await exec(helm, args, { maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const podSpec = (o: K8sObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;
const workloads = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
const named = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

describe('the Helm chart deploy/helm/lookout', { timeout: 30 * 60 * 1000 }, () => {
  before(async () => {
    const bins = await ensureBinaries((line) => process.stderr.write(`# ${line}\n`));
    helm = path.join(bins.helm, 'helm');
    otelcol = path.join(bins.otelcol, 'otelcol-lookout');
    schemas = await KubernetesSchemas.load();
    const operator = await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');
    operatorModels = new Map<string, new (data: never) => { validate(): void }>([['PrometheusRule', operator.PrometheusRule], ['ServiceMonitor', operator.ServiceMonitor]]);
    for (const flavour of Object.keys(VALUE_FILES) as Flavour[]) rendered.set(flavour, await template(VALUE_FILES[flavour]));
  });
  const objects = (flavour: Flavour = 'default') => rendered.get(flavour) ?? [];

  it('has its generated files up to date (npm run gen)', () => {
    for (const [file, content] of chartFiles()) {
      assert.ok(readFileSync(path.join(CHART_DIR, file), 'utf8') === content, `deploy/helm/lookout/${file} is stale: run npm run gen`);
    }
  });

  it('passes helm lint --strict with the default, small and production-like values', async () => {
    for (const [flavour, files] of Object.entries(VALUE_FILES)) {
      const { stdout } = await exec(helm, ['lint', '--strict', CHART_DIR, ...files.flatMap((f) => ['-f', path.join(CHART_DIR, f)])]).catch((err: unknown) => {
        const { stdout: out = '', stderr = '' } = err as { stdout?: string; stderr?: string };
        throw new Error(`helm lint (${flavour}): ${out}${stderr}`);
      });
      assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/, `${flavour}: ${stdout}`);
    }
  });

  it('renders only objects valid against the Kubernetes 1.30 OpenAPI schemas (unknown fields refused) and the prometheus-operator CRDs', () => {
    for (const flavour of Object.keys(VALUE_FILES) as Flavour[]) {
      const list = objects(flavour);
      assert.ok(list.length > 20, `${flavour}: only ${list.length} objects`);
      for (const o of list) {
        const where = `${flavour}: ${o.kind} ${o.metadata.name}`;
        if (o.apiVersion === 'monitoring.coreos.com/v1') {
          const Model = operatorModels.get(o.kind);
          assert.ok(Model !== undefined, `${where}: no schema for this kind`);
          assert.doesNotThrow(() => new Model(o as never).validate(), where);
        } else {
          assert.deepEqual(schemas.validate(o), [], where);
        }
        assert.ok(o.metadata.name.length <= 63 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.metadata.name), `${where}: not a valid name`);
      }
    }
  });

  it('the schema validation itself refuses a misspelt field and a wrong type', () => {
    const deployment = objects().find((o) => o.kind === 'Deployment');
    assert.ok(deployment !== undefined);
    const typo = structuredClone(deployment);
    const container = podSpec(typo).containers[0] as Container & { securityContext: Record<string, unknown> };
    container.securityContext.readOnlyRootFileSystem = true;
    assert.match(schemas.validate(typo).join('\n'), /readOnlyRootFileSystem/);
    const wrongType = structuredClone(deployment);
    (wrongType.spec as Record<string, unknown>).revisionHistoryLimit = 'five';
    assert.match(schemas.validate(wrongType).join('\n'), /revisionHistoryLimit/);
  });

  it('refuses wrong values at install time, naming the setting (values.schema.json)', async () => {
    const refused = async (set: string[], pattern: RegExp) => {
      const err = await template([], set).then(() => undefined, (e: unknown) => (e as { stderr?: string }).stderr ?? 'failed without stderr');
      assert.ok(err !== undefined, `helm accepted ${set.join(' ')}`);
      assert.match(err, pattern, err);
    };
    await refused(['--set', 'services.gateway.replicas=two'], /replicas/);
    await refused(['--set', 'services.catalog.replicaz=2'], /replicaz/);
    await refused(['--set', 'services.orders.secretName=Not_A_Name'], /secretName/);
    await refused(['--set', 'inboundTraceContext=trust'], /inboundTraceContext/);
    await refused(['--set', 'collector.lokiOtlpEndpoint=loki'], /lokiOtlpEndpoint/);
    await refused(['--set', 'services.catalog.resources.limits.memory=lots'], /memory/);
    await refused(['--set', 'services.catalog.autoscaling.minReplicas=9'], /minReplicas \(9\) is above maxReplicas/);
    // and accepts a right one
    assert.ok((await template([], ['--set', 'services.gateway.replicas=3'])).length > 0);
  });

  it('runs every container non-root with a read-only root filesystem, no privilege escalation, no capabilities, and resources', () => {
    for (const flavour of Object.keys(VALUE_FILES) as Flavour[]) {
      const list = workloads(objects(flavour));
      assert.ok(list.length >= CHART_SERVICES.length + 1, `${flavour}: ${list.length} workloads`);
      for (const w of list) {
        const pod = podSpec(w);
        const where = `${flavour}: ${w.metadata.name}`;
        assert.equal(pod.securityContext?.runAsNonRoot, true, where);
        assert.ok(Number(pod.securityContext.runAsUser) > 0, where);
        assert.notEqual(pod.hostNetwork, true, where);
        assert.notEqual(pod.hostPID, true, where);
        assert.ok(!(pod.volumes ?? []).some((v) => 'hostPath' in v), `${where}: hostPath volume`);
        for (const c of pod.containers) {
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, where);
          assert.equal(c.securityContext.allowPrivilegeEscalation, false, where);
          assert.deepEqual((c.securityContext.capabilities as { drop?: string[] } | undefined)?.drop, ['ALL'], where);
          assert.ok(c.resources?.requests?.cpu !== undefined && c.resources.requests.memory !== undefined, `${where}: requests`);
          assert.ok(c.resources.limits?.memory !== undefined, `${where}: memory limit`);
        }
      }
    }
  });

  it('never holds a secret: no Secret object, credentials only by reference to existing Secrets', () => {
    for (const flavour of Object.keys(VALUE_FILES) as Flavour[]) {
      const list = objects(flavour);
      assert.ok(!list.some((o) => o.kind === 'Secret'), `${flavour}: renders a Secret`);
      for (const w of workloads(list)) {
        for (const c of podSpec(w).containers) {
          for (const e of c.env ?? []) {
            assert.ok(!/PASSWORD|SECRET|TOKEN|API_KEYS|DATABASE_URL|REDIS_URL|RABBITMQ_URL/.test(e.name) || e.value === undefined, `${w.metadata.name}: ${e.name} as a plain value`);
          }
        }
      }
    }
  });

  it('wires each service as the stack model does: its environment, its Secret\'s keys, probes on /healthz and /readyz', () => {
    const list = objects();
    for (const s of CHART_SERVICES) {
      const d = named(list, 'Deployment', `${RELEASE}-lookout-${s.name}`);
      assert.ok(d !== undefined, `no Deployment for ${s.name}`);
      const c = podSpec(d).containers[0] as Container;
      const env = new Map((c.env ?? []).map((e) => [e.name, e]));
      for (const key of Object.keys(serviceEnvironment(s, kubernetesWiring))) assert.ok(env.has(key), `${s.name}: ${key} missing`);
      for (const key of requiredSecretKeys(s)) assert.deepEqual(env.get(key)?.valueFrom?.secretKeyRef, { name: `lookout-${s.name}`, key }, `${s.name}: ${key}`);
      assert.deepEqual(c.envFrom, [{ secretRef: { name: `lookout-${s.name}` } }]);
      // every address a service is given resolves to a Service of the release on that port
      for (const [key, e] of env) {
        const m = /^http:\/\/([a-z0-9-]+):(\d+)/.exec(e.value ?? '');
        if (m === null) continue;
        const target = list.find((o) => o.kind === 'Service' && o.metadata.name === m[1]);
        assert.ok(target !== undefined, `${s.name}: ${key}=${e.value ?? ''} names no Service`);
        assert.ok((target.spec?.ports as { port: number }[]).some((p) => p.port === Number(m[2])), `${s.name}: ${key}: no port ${m[2] ?? ''}`);
      }
      assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
      assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
      const metricsPortName = s.managementPort !== undefined ? 'management' : 'http';
      assert.equal(c.readinessProbe.httpGet.port, metricsPortName, `${s.name}: /readyz answers on its ${metricsPortName} port`);
      assert.equal(c.ports?.find((p) => p.name === metricsPortName)?.containerPort, s.managementPort ?? s.port);
      const svc = named(list, 'Service', `${RELEASE}-lookout-${s.name}`);
      assert.deepEqual((svc?.spec?.ports as { port: number }[]).map((p) => p.port), [s.port], `${s.name}: the Service exposes its API port only`);
    }
  });

  it('scales the stateless services (HPA) and bounds disruptions (PDB), each selecting its own Deployment', () => {
    const list = objects('production');
    for (const s of CHART_SERVICES) {
      const name = `${RELEASE}-lookout-${s.name}`;
      const hpa = named(list, 'HorizontalPodAutoscaler', name);
      assert.equal((hpa?.spec?.scaleTargetRef as { name?: string } | undefined)?.name, name);
      const deployment = named(list, 'Deployment', name);
      assert.equal(deployment?.spec?.replicas, undefined, `${s.name}: replicas set although the HPA owns them`);
      const pdb = named(list, 'PodDisruptionBudget', name);
      const podLabels = (deployment?.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
      for (const [k, v] of Object.entries((pdb?.spec?.selector as { matchLabels: Record<string, string> }).matchLabels)) assert.equal(podLabels[k], v, `${s.name}: PDB selector`);
    }
    const small = objects('small');
    assert.ok(!small.some((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'PodDisruptionBudget'));
    assert.equal(named(small, 'Deployment', `${RELEASE}-lookout-gateway`)?.spec?.replicas, 1);
  });

  it('leaves only the gateway reachable from outside (NetworkPolicies), every other service only from its callers and the collector', () => {
    const list = objects();
    const policies = list.filter((o) => o.kind === 'NetworkPolicy');
    const deny = policies.find((p) => p.metadata.name.endsWith('default-deny'));
    assert.deepEqual(deny?.spec?.policyTypes, ['Ingress']);
    assert.equal((deny.spec as { ingress?: unknown }).ingress, undefined, 'the default policy allows nothing');
    type Rule = { from?: { podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: string }[] };
    for (const s of CHART_SERVICES) {
      const p = named(list, 'NetworkPolicy', `${RELEASE}-lookout-${s.name}`);
      const rules = (p?.spec as { ingress: Rule[] }).ingress;
      const open = rules.filter((r) => r.from === undefined);
      if (s.public === true) assert.deepEqual(open.map((r) => r.ports.map((x) => x.port)), [['http']], `${s.name}: public on its API port only`);
      else assert.deepEqual(open, [], `${s.name}: reachable from anywhere`);
      const from = rules.flatMap((r) => (r.from ?? []).map((f) => f.podSelector?.matchLabels['app.kubernetes.io/name']));
      const callers = services.filter((c) => c.calls.includes(s.name) && CHART_SERVICES.includes(c)).map((c) => c.name);
      assert.deepEqual(from.filter((n) => n !== 'collector').sort(), s.public === true ? [] : callers.sort(), `${s.name}: allowed callers`);
      assert.ok(from.includes('collector'), `${s.name}: the collector cannot scrape it`);
    }
  });

  it('runs the collector with the same configuration as compose and native, plus a Kubernetes scrape overlay', () => {
    const list = objects();
    const config = named(list, 'ConfigMap', `${RELEASE}-lookout-collector`);
    assert.equal(config?.data?.['config.yaml'], readFileSync(path.join(REPO, 'otel-collector/config.yaml'), 'utf8').trimEnd());
    const overlay = parse(config.data['kubernetes.yaml'] ?? '') as { receivers: { prometheus: { config: { scrape_configs: { job_name: string; kubernetes_sd_configs?: unknown[] }[] } } } };
    const jobs = overlay.receivers.prometheus.config.scrape_configs;
    assert.deepEqual(jobs.map((j) => j.job_name), ['lookout-services']);
    assert.ok(jobs[0]?.kubernetes_sd_configs !== undefined);
    const ds = named(list, 'DaemonSet', `${RELEASE}-lookout-collector`);
    const c = podSpec(ds as K8sObject).containers[0] as Container & { args: string[] };
    assert.deepEqual(c.args, ['--config=/etc/otelcol/config.yaml', '--config=/etc/otelcol/kubernetes.yaml']);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    // every variable the config reads for an address is set
    for (const name of ['TEMPO_OTLP_GRPC_ENDPOINT', 'LOKI_OTLP_ENDPOINT', 'PROMETHEUS_OTLP_METRICS_URL', 'OTELCOL_STORAGE_DIR']) {
      assert.ok(config.data['config.yaml'].includes(`\${env:${name}`), `${name} is not read by the config`);
      assert.ok(env[name] !== undefined, `${name} not set`);
    }
    assert.equal(c.image, `otel/opentelemetry-collector-contrib:${readFileSync(path.join(REPO, 'versions.env'), 'utf8').match(/^OTELCOL_VERSION=(.+)$/m)?.[1] ?? '?'}`);
    const svc = named(list, 'Service', `${RELEASE}-lookout-collector`);
    assert.equal(svc?.spec?.internalTrafficPolicy, 'Local');
  });

  it('gives the collector a configuration its own binary accepts, the scrape targets replaced by pod discovery on its node', async () => {
    const list = objects();
    const config = named(list, 'ConfigMap', `${RELEASE}-lookout-collector`);
    const ds = named(list, 'DaemonSet', `${RELEASE}-lookout-collector`);
    assert.ok(config?.data !== undefined && ds !== undefined);
    const c = podSpec(ds).containers[0] as Container & { args: string[] };
    // The ConfigMap mounted where the args point, the container's environment with the node the pod landed on.
    const dir = mkdtempSync(path.join(tmpdir(), 'lookout-otelcol-'));
    try {
      for (const [file, text] of Object.entries(config.data)) writeFileSync(path.join(dir, file), text);
      const args = c.args.map((a) => a.replace('/etc/otelcol', dir));
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', K8S_NODE_NAME: 'node-a' };
      for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      env.OTELCOL_STORAGE_DIR = path.join(dir, 'queue');
      await exec(otelcol, ['validate', ...args], { env });
      const { stdout } = await exec(otelcol, ['print-config', '--mode=unredacted', '--format=json', ...args], { env, maxBuffer: 16 * 1024 * 1024 });
      interface Scrape { job_name: string; file_sd_configs?: unknown; kubernetes_sd_configs?: { selectors?: { field?: string }[] }[]; relabel_configs: { regex?: string }[] }
      const merged = JSON.parse(stdout) as { receivers: { prometheus: { config: { scrape_configs: Scrape[] } } }; exporters: Record<string, { endpoint?: string; metrics_endpoint?: string }> };
      const jobs = merged.receivers.prometheus.config.scrape_configs;
      assert.equal(jobs.length, 1, 'the overlay must replace the file targets, not add to them');
      assert.equal(jobs[0]?.file_sd_configs, undefined);
      assert.equal(jobs[0]?.kubernetes_sd_configs?.[0]?.selectors?.[0]?.field, 'spec.nodeName=node-a');
      assert.ok(jobs[0].relabel_configs.some((r) => r.regex === `true;${RELEASE}`), 'pods of other releases are scraped');
      assert.equal(merged.exporters['otlp_grpc/tempo']?.endpoint, env.TEMPO_OTLP_GRPC_ENDPOINT);
      assert.equal(merged.exporters['otlp_http/prometheus']?.metrics_endpoint, env.PROMETHEUS_OTLP_METRICS_URL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('carries the alert and recording rules as PrometheusRule objects equal to the generated rules', () => {
    const rules = objects().filter((o) => o.kind === 'PrometheusRule');
    const files = readdirSync(path.join(REPO, 'prometheus/rules')).filter((f) => f.endsWith('.yml')).sort();
    assert.equal(rules.length, files.length);
    for (const file of files) {
      const rule = rules.find((r) => r.metadata.name === `${RELEASE}-lookout-${file.replace(/\.yml$/, '')}`);
      assert.deepEqual(rule?.spec, parse(readFileSync(path.join(REPO, 'prometheus/rules', file), 'utf8')), file);
    }
    const labels = objects('production').find((o) => o.kind === 'PrometheusRule')?.metadata.labels ?? {};
    assert.equal(labels.release, 'kube-prometheus-stack');
  });

  it('carries every dashboard as a ConfigMap for the Grafana sidecar, equal to the generated JSON', () => {
    const maps = objects().filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    const files = readdirSync(path.join(REPO, 'grafana/dashboards')).filter((f) => f.endsWith('.json')).sort();
    assert.equal(maps.length, files.length);
    for (const file of files) {
      const map = maps.find((m) => m.data?.[file] !== undefined);
      assert.ok(map !== undefined, file);
      assert.deepEqual(JSON.parse(map.data?.[file] ?? ''), JSON.parse(readFileSync(path.join(REPO, 'grafana/dashboards', file), 'utf8')), file);
      assert.equal(map.metadata.annotations?.grafana_folder, 'Lookout');
    }
  });

  it('provisions the datasources with every correlation, at the URLs of the values', () => {
    const source = parse(readFileSync(path.join(REPO, 'grafana/provisioning/datasources/datasources.yaml'), 'utf8')) as { datasources: { uid: string; url: string }[] };
    for (const flavour of ['default', 'production'] as const) {
      const map = objects(flavour).find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_datasource === '1');
      const provisioned = parse(map?.data?.['lookout-datasources.yaml'] ?? '') as typeof source;
      assert.deepEqual(provisioned.datasources.map((d) => ({ ...d, url: '' })), source.datasources.map((d) => ({ ...d, url: '' })), 'correlations differ from grafana/provisioning');
      const urls = Object.fromEntries(provisioned.datasources.map((d) => [d.uid, d.url]));
      if (flavour === 'production') {
        assert.deepEqual(urls, {
          prometheus: 'http://mimir-gateway.observability/prometheus',
          tempo: 'http://tempo-query-frontend.observability:3200',
          loki: 'http://loki-gateway.observability',
          alertmanager: 'http://kube-prometheus-stack-alertmanager.monitoring:9093',
        });
      }
      for (const url of Object.values(urls)) assert.match(url, /^http:\/\/[a-z]/);
    }
  });

  it('runs the load generator only when asked, against the gateway, with its own client key', () => {
    assert.ok(!objects().some((o) => o.metadata.name.endsWith('-loadgen')));
    const loadgen = named(objects('small'), 'Deployment', `${RELEASE}-lookout-loadgen`);
    const env = Object.fromEntries((podSpec(loadgen as K8sObject).containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.LOADGEN_BASE_URL, `http://${RELEASE}-lookout-gateway:8080`);
  });
});
