import { infraOf, services, type ServiceSpec } from '@lookout/stack';
import { z } from 'zod';

/**
 * The chart's values: one zod schema from which both values.yaml (the defaults, with a comment per setting) and
 * values.schema.json (what `helm install` checks) are written, so the two cannot drift. Every object is strict: a
 * misspelt key fails `helm install` instead of being ignored.
 */

/** The shop's services the chart deploys: every service of the model but the local pager (Alertmanager's webhook sink). */
export const CHART_SERVICES: readonly ServiceSpec[] = services.filter((s) => s.name !== 'alert-receiver');

/** The variables a service's Secret must hold, from what it uses in the stack model. */
export function requiredSecretKeys(s: ServiceSpec): string[] {
  const keys: Record<string, string> = { postgres: 'DATABASE_URL', redis: 'REDIS_URL', rabbitmq: 'RABBITMQ_URL' };
  return infraOf(s).map((i) => keys[i] as string);
}

const quantity = z
  .union([z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, 'a Kubernetes quantity such as 250m, 1 or 256Mi'), z.number().positive()]);

const resources = z
  .strictObject({
    requests: z.strictObject({ cpu: quantity, memory: quantity }),
    limits: z.strictObject({ cpu: quantity.optional(), memory: quantity }),
  })
  .describe('Requests and limits (quantities such as 250m, 1, 256Mi); a memory limit is required.');

const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 name').max(63);
const labels = z.record(z.string().min(1).max(63), z.string().max(63));

const autoscaling = z.strictObject({
  enabled: z.boolean().describe('A HorizontalPodAutoscaler on CPU (the replicas setting is then only the starting count).'),
  minReplicas: z.int().min(1).max(100),
  maxReplicas: z.int().min(1).max(1000),
  targetCPUUtilizationPercentage: z.int().min(10).max(100),
});

const serviceValues = (s: ServiceSpec) =>
  z.strictObject({
    enabled: z.boolean(),
    replicas: z.int().min(0).max(1000).describe('Pods when autoscaling is off.'),
    secretName: k8sName.describe(
      `Existing Secret whose keys become environment variables${requiredSecretKeys(s).length > 0 ? `; must hold ${requiredSecretKeys(s).join(', ')}` : ''} (ADMIN_TOKEN optional${s.public === true ? '; API_KEYS or JWT_SECRET with JWT_ISSUER and JWT_AUDIENCE unless demo' : ''}). Never put secrets in values.`,
    ),
    resources,
    autoscaling,
    podDisruptionBudget: z.strictObject({ enabled: z.boolean(), maxUnavailable: z.int().min(1) }),
    env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'), z.string()).describe('Further settings of the service (plain values, not secrets), e.g. LOG_LEVEL.'),
    ...(s.public === true && {
      service: z.strictObject({
        type: z.enum(['ClusterIP', 'LoadBalancer', 'NodePort']).describe('How the public edge is exposed; an Ingress or Gateway in front of a ClusterIP is the usual choice.'),
        annotations: labels,
      }),
    }),
  });

const image = z.strictObject({
  registry: z.string().describe('Registry and path the services\' images are pushed to (empty: a local name, e.g. for kind or minikube).'),
  repositoryPrefix: z.string().min(1).describe('Image name = registry/<prefix><service>; build each with `docker build -f instrumented-services/Dockerfile --build-arg SERVICE=<service> .`'),
  tag: z.string().describe('Empty: the chart\'s appVersion.'),
  pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
});

export function valuesSchema() {
  return z.strictObject({
    nameOverride: z.string().max(40),
    image,
    imagePullSecrets: z.array(z.strictObject({ name: k8sName })),
    demo: z.boolean().describe('LOOKOUT_DEMO: the published demo API keys and admin token work (never in production).'),
    environment: z.string().min(1).describe('deployment.environment.name of every span, log record and metric.'),
    inboundTraceContext: z.enum(['continue', 'link', 'ignore']).describe('What the public edge makes of an outside traceparent (INBOUND_TRACE_CONTEXT).'),
    services: z.strictObject(Object.fromEntries(CHART_SERVICES.map((s) => [s.name, serviceValues(s)]))),
    loadgen: z.strictObject({
      enabled: z.boolean().describe('Steady demo traffic through the gateway.'),
      rate: z.int().min(1).max(10_000).describe('Requests per second.'),
      secretName: k8sName.describe('Existing Secret holding LOADGEN_API_KEY, its own client key (the gateway\'s API_KEYS lists it); not needed in demo mode.'),
      resources,
    }),
    collector: z.strictObject({
      enabled: z.boolean(),
      image: z.strictObject({ repository: z.string().min(1), tag: z.string().min(1), pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']) }),
      resources,
      queueSizeLimit: quantity.describe('emptyDir size of the persistent sending queues (survives a collector crash or kill, not the pod\'s deletion).'),
      tempoOtlpGrpcEndpoint: z.string().min(1).describe('host:port of Tempo\'s OTLP gRPC receiver (the distributor in the distributed chart).'),
      lokiOtlpEndpoint: z.url().describe('Loki\'s OTLP base URL (…/otlp), through its gateway.'),
      prometheusOtlpMetricsUrl: z.url().describe('Prometheus\'s (or Mimir\'s) OTLP metrics URL.'),
      serviceMonitor: z.strictObject({ enabled: z.boolean().describe('A ServiceMonitor so that the Prometheus Operator scrapes the collector\'s own metrics as job otel-collector.'), labels }),
    }),
    prometheusRules: z.strictObject({ enabled: z.boolean().describe('The alert and recording rules as PrometheusRule objects (Prometheus Operator).'), labels }),
    grafana: z.strictObject({
      dashboards: z.strictObject({ enabled: z.boolean(), label: z.string().min(1), labelValue: z.string(), folder: z.string().min(1).describe('Folder annotation for the sidecar (grafana_folder).') }),
      datasources: z.strictObject({
        enabled: z.boolean(),
        label: z.string().min(1),
        labelValue: z.string(),
        prometheusUrl: z.url(),
        tempoUrl: z.url(),
        lokiUrl: z.url(),
        alertmanagerUrl: z.url(),
      }),
    }),
    networkPolicy: z.strictObject({
      enabled: z.boolean().describe('Ingress policies: only the gateway is reachable from outside the release; each service only from its callers and the collector.'),
      monitoringNamespace: z.string().min(1).describe('Namespace of the Prometheus that scrapes the collector\'s own metrics.'),
    }),
  });
}

export type Values = z.infer<ReturnType<typeof valuesSchema>>;

/**
 * Resources from the measured footprint (docs/benchmarks.md): a service idles at 140-170 MiB RSS and stayed under
 * 330 MiB at saturation in the overhead benchmark; one core serves about 1,000-1,500 requests/s of the shop's mix.
 * The collector idled at 92 MiB and used 3.3% of a core per 1,000 spans + log records/s.
 */
const SERVICE_RESOURCES = { requests: { cpu: '250m', memory: '192Mi' }, limits: { cpu: '1', memory: '384Mi' } };

export function defaultValues(v: Record<string, string>): Values {
  return {
    nameOverride: '',
    image: { registry: '', repositoryPrefix: 'lookout-', tag: '', pullPolicy: 'IfNotPresent' },
    imagePullSecrets: [],
    demo: false,
    environment: 'kubernetes',
    inboundTraceContext: 'link',
    services: Object.fromEntries(
      CHART_SERVICES.map((s) => [
        s.name,
        {
          enabled: true,
          replicas: 2,
          secretName: `lookout-${s.name}`,
          resources: SERVICE_RESOURCES,
          autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70 },
          podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
          env: {},
          ...(s.public === true && { service: { type: 'ClusterIP', annotations: {} } }),
        },
      ]),
    ),
    loadgen: { enabled: false, rate: 5, secretName: 'lookout-loadgen', resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } } },
    collector: {
      enabled: true,
      image: { repository: 'otel/opentelemetry-collector-contrib', tag: need(v, 'OTELCOL_VERSION'), pullPolicy: 'IfNotPresent' },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      queueSizeLimit: '2Gi',
      tempoOtlpGrpcEndpoint: 'tempo:4317',
      lokiOtlpEndpoint: 'http://loki-gateway/otlp',
      prometheusOtlpMetricsUrl: 'http://prometheus-operated:9090/api/v1/otlp/v1/metrics',
      serviceMonitor: { enabled: false, labels: {} },
    },
    prometheusRules: { enabled: true, labels: {} },
    grafana: {
      dashboards: { enabled: true, label: 'grafana_dashboard', labelValue: '1', folder: 'Lookout' },
      datasources: {
        enabled: true,
        label: 'grafana_datasource',
        labelValue: '1',
        prometheusUrl: 'http://prometheus-operated:9090',
        tempoUrl: 'http://tempo:3200',
        lokiUrl: 'http://loki-gateway',
        alertmanagerUrl: 'http://alertmanager-operated:9093',
      },
    },
    networkPolicy: { enabled: true, monitoringNamespace: 'monitoring' },
  };
}

function need(v: Record<string, string>, key: string): string {
  const value = v[key];
  if (value === undefined || value === '') throw new Error(`versions.env: ${key} is not set`);
  return value;
}
