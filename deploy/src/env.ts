import { managementPortOf, serviceEnvironment, services, type ServiceSpec, type Wiring } from '@lookout/stack';
import { requiredSecretKeys } from './values.js';

/**
 * Each service's environment in Kubernetes comes from the same function as compose's and the native stack's
 * (`serviceEnvironment` of the stack model), with a wiring whose values are Helm expressions. Connection URLs that
 * carry passwords are not wired at all: they come from the service's Secret.
 */
const FROM_SECRET = '\u0000secret';

const fullname = '{{ include "lookout.fullname" $ }}';

export const kubernetesWiring: Wiring = {
  environment: '{{ $.Values.environment }}',
  host: '0.0.0.0',
  // The node's own collector (DaemonSet; its Service keeps traffic on the node).
  otlpEndpoint: `http://${fullname}-collector:4318`,
  demo: '{{ $.Values.demo }}',
  // From the Secret when set there (envFrom); demo mode uses the published token otherwise.
  adminToken: '',
  inboundTraceContext: '{{ $.Values.inboundTraceContext }}',
  port: (s) => s.port,
  managementPort: (s) => s.managementPort ?? 0,
  // The collector scrapes the management listener from another pod.
  managementHost: '0.0.0.0',
  postgresUrl: () => FROM_SECRET,
  redisUrl: FROM_SECRET,
  rabbitmqUrl: FROM_SECRET,
  serviceUrl: (name) => `http://${fullname}-${name}:${services.find((s) => s.name === name)?.port ?? 0}`,
};

/** `env:` entries of one service's container: plain values quoted, secret ones as secretKeyRef. */
export function containerEnv(s: ServiceSpec): string {
  const env = serviceEnvironment(s, kubernetesWiring);
  const secretKeys = new Set(requiredSecretKeys(s));
  const lines: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === FROM_SECRET) {
      if (!secretKeys.has(name)) throw new Error(`${s.name}: ${name} is wired from a Secret but is not one of its required keys`);
      lines.push(`- name: ${name}`, '  valueFrom:', `    secretKeyRef: { name: {{ (index $.Values.services "${s.name}").secretName | quote }}, key: ${name} }`);
    } else {
      lines.push(`- name: ${name}`, `  value: ${yamlValue(value)}`);
    }
  }
  for (const key of secretKeys) if (env[key] !== FROM_SECRET) throw new Error(`${s.name}: ${key} is required from its Secret but not wired`);
  return lines.join('\n');
}

/**
 * A value as YAML: a literal as a JSON string; one whole Helm expression piped to quote (a user's value may hold
 * anything); an expression inside a literal (a URL around the release name, a DNS name) in double quotes.
 */
function yamlValue(value: string): string {
  const whole = /^\{\{ ([^{}]+) \}\}$/.exec(value);
  if (whole !== null) return `{{ ${whole[1] ?? ''} | quote }}`;
  return value.includes('{{') ? `"${value}"` : JSON.stringify(value);
}

/** templates/_env.generated.tpl: one named template per service, `lookout.env.<service>`, included with the root context. */
export function envTemplates(list: readonly ServiceSpec[]): string {
  const blocks = list.map((s) => `{{- define "lookout.env.${s.name}" -}}\n${containerEnv(s)}\n{{- end }}`);
  return `${modelTemplate(list)}\n${blocks.join('\n\n')}\n`;
}

/**
 * `lookout.model`: what the templates need to know of each service (ports, who calls whom, its Secret's keys), as
 * JSON for `fromJson`. Structure, not settings: it follows the stack model and is not a value a user changes.
 */
export function modelTemplate(list: readonly ServiceSpec[]): string {
  const model = Object.fromEntries(
    list.map((s) => [
      s.name,
      {
        port: s.port,
        metricsPort: managementPortOf(s),
        ...(s.managementPort !== undefined && { managementPort: s.managementPort }),
        public: s.public === true,
        callers: list.filter((c) => c.calls.includes(s.name)).map((c) => c.name),
        secretKeys: requiredSecretKeys(s),
        description: s.description,
      },
    ]),
  );
  return `{{- define "lookout.model" -}}\n${JSON.stringify(model)}\n{{- end }}\n`;
}
