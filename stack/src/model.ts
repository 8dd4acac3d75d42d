import { SERVICES } from './services.js';
import type { ServiceSpec } from './spec.js';

export type { ServiceSpec };

/** The infrastructure the shop's services use: each runs once per stack. */
export type Infra = 'postgres' | 'redis' | 'rabbitmq';

export const INFRA: Readonly<Record<Infra, { port: number }>> = {
  postgres: { port: 5432 },
  redis: { port: 6379 },
  rabbitmq: { port: 5672 },
};

/** How one deployment (native, compose, a test) reaches things: everything that differs between them. */
export interface Wiring {
  readonly environment: string;
  readonly host: string;
  readonly otlpEndpoint: string;
  /** LOOKOUT_DEMO: whether the published demo credentials work (see SECURITY.md). */
  readonly demo: string;
  /** ADMIN_TOKEN; '' leaves it unset (in demo mode the services then use the published demo token). */
  readonly adminToken: string;
  /** INBOUND_TRACE_CONTEXT of public services: continue, link or ignore an outside caller's trace. */
  readonly inboundTraceContext: string;
  port(service: ServiceSpec): number;
  /** MANAGEMENT_PORT of a service with a `managementPort`. */
  managementPort(service: ServiceSpec): number;
  /** MANAGEMENT_HOST: where the scrapers reach the management listener from (loopback natively, the network in compose). */
  readonly managementHost: string;
  /** The URL of `database` for the service `role` (compose gives each service its own login role). */
  postgresUrl(database: string, role: string): string;
  readonly redisUrl: string;
  readonly rabbitmqUrl: string;
  serviceUrl(name: string): string;
}

export const services: readonly ServiceSpec[] = SERVICES;

export function service(name: string): ServiceSpec {
  const found = SERVICES.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no service named ${name} in stack/src/services.ts`);
  return found;
}

/** The variable that names a service's URL for its callers, and its port in the native stack. */
export const urlVariable = (name: string) => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
export const portVariable = (name: string) => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PORT`;
export const managementPortVariable = (name: string) => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_MANAGEMENT_PORT`;

/** The port of a service's /metrics, /readyz and /admin: its management port when it has one. */
export const managementPortOf = (s: ServiceSpec): number => s.managementPort ?? s.port;

/** The infrastructure a service uses. */
export function infraOf(s: ServiceSpec): Infra[] {
  return (['postgres', 'redis', 'rabbitmq'] as const).filter((i) => (i === 'postgres' ? s.postgres !== undefined : s[i] === true));
}

/** The services that must be ready before `s` starts: the ones it calls and the ones it starts after. */
export function serviceDependencies(s: ServiceSpec): string[] {
  return [...new Set([...s.calls, ...(s.startsAfter ?? [])])];
}

/** Every database of the stack, once each. */
export function databases(): string[] {
  return [...new Set(SERVICES.flatMap((s) => (s.postgres ? [s.postgres.database] : [])))];
}

/** The named services and everything they need, in an order in which each starts after its dependencies. */
export function startOrder(names: readonly string[] = SERVICES.map((s) => s.name)): ServiceSpec[] {
  const ordered: ServiceSpec[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (ordered.some((s) => s.name === name)) return;
    if (visiting.has(name)) throw new Error(`stack/src/services.ts: dependency cycle through ${name}`);
    visiting.add(name);
    const s = service(name);
    for (const dep of serviceDependencies(s)) visit(dep);
    visiting.delete(name);
    ordered.push(s);
  };
  for (const name of names) visit(name);
  return ordered;
}

/** The environment of one service in one deployment: the wiring, then the service's own settings. */
export function serviceEnvironment(s: ServiceSpec, w: Wiring): Record<string, string> {
  const env: Record<string, string> = {
    HOST: w.host,
    PORT: String(w.port(s)),
    OTEL_EXPORTER_OTLP_ENDPOINT: w.otlpEndpoint,
    DEPLOYMENT_ENVIRONMENT: w.environment,
    LOOKOUT_DEMO: w.demo,
    ...(w.adminToken !== '' && { ADMIN_TOKEN: w.adminToken }),
    LOG_LEVEL: 'info',
  };
  // The public edge decides what an outside trace context means; behind it, services continue the edge's traces.
  if (s.public === true) env.INBOUND_TRACE_CONTEXT = w.inboundTraceContext;
  if (s.managementPort !== undefined) {
    env.MANAGEMENT_PORT = String(w.managementPort(s));
    env.MANAGEMENT_HOST = w.managementHost;
  }
  if (s.postgres) env.DATABASE_URL = w.postgresUrl(s.postgres.database, s.name);
  if (s.redis === true) env.REDIS_URL = w.redisUrl;
  if (s.rabbitmq === true) env.RABBITMQ_URL = w.rabbitmqUrl;
  for (const callee of s.calls) env[urlVariable(callee)] = w.serviceUrl(callee);
  return { ...env, ...s.env };
}

/**
 * A config written with compose's addresses (`http://alert-receiver:8090`) with every service's address replaced
 * by `address(name)`: how the native stack reuses such a file with its loopback ports.
 */
export function rewriteServiceUrls(text: string, address: (name: string) => string): string {
  let out = text;
  for (const s of SERVICES) out = out.replaceAll(`://${s.name}:${s.port}`, `://${address(s.name)}`);
  return out;
}

/** Checks the model itself: unique names and ports, known dependencies, no cycle. Throws naming the problem. */
export function validateModel(): void {
  const problems: string[] = [];
  const names = new Set<string>();
  const ports = new Map<number, string>(Object.entries(INFRA).map(([k, v]) => [v.port, k]));
  for (const s of SERVICES) {
    if (!/^[a-z][a-z0-9-]{1,30}$/.test(s.name)) problems.push(`${s.name}: a name is lower-case letters, digits and dashes`);
    if (names.has(s.name)) problems.push(`${s.name}: declared twice`);
    names.add(s.name);
    for (const port of s.managementPort === undefined ? [s.port] : [s.port, s.managementPort]) {
      const taken = ports.get(port);
      if (taken !== undefined) problems.push(`${s.name}: port ${port} is also ${taken}'s`);
      ports.set(port, s.name);
    }
    if (s.managementPort !== undefined && s.public !== true) problems.push(`${s.name}: a management port is for public services (the others serve everything on their port)`);
  }
  for (const s of SERVICES) {
    for (const dep of serviceDependencies(s)) if (!names.has(dep)) problems.push(`${s.name}: depends on unknown service ${dep}`);
  }
  if (problems.length === 0) {
    try {
      startOrder();
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (problems.length > 0) throw new Error(`invalid stack model: ${problems.join('; ')}`);
}
