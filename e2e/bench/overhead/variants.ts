import path from 'node:path';

// The zero-code entry is the one the telemetry package depends on, resolved from there rather than from e2e.
const telemetryDir = path.dirname(require.resolve('@lookout/telemetry/package.json'));
const zeroCodeRegister = require.resolve('@opentelemetry/auto-instrumentations-node/register', { paths: [telemetryDir] });

/** The four ways a service runs in the overhead bench, from no telemetry at all to OpenTelemetry's zero-code setup. */
export type VariantName = 'none' | 'lookout' | 'lookout-10pct' | 'zero-code';

export interface Variant {
  name: VariantName;
  label: string;
  /** The module given to `node --require`, or none. */
  preload: string | undefined;
  /** Added to the service's environment (the OTLP endpoint is set per variant by the bench). */
  env: Record<string, string>;
}

export const VARIANTS: readonly Variant[] = [
  {
    name: 'none',
    label: 'no telemetry (no SDK, no RED middleware, no access log)',
    // No --require: no SDK and no instrumentation is loaded. OTEL_SDK_DISABLED guards against anything starting it.
    preload: undefined,
    env: { OTEL_SDK_DISABLED: 'true', REQUEST_TELEMETRY: 'false', ACCESS_LOG_LEVEL: 'off' },
  },
  {
    name: 'lookout',
    label: 'Lookout telemetry, 100% of traces sampled',
    preload: require.resolve('@lookout/telemetry/register'),
    env: { OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
  },
  {
    name: 'lookout-10pct',
    label: 'Lookout telemetry, 10% head sampling (access log and metrics unchanged)',
    preload: require.resolve('@lookout/telemetry/register'),
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
  },
  {
    name: 'zero-code',
    label: 'OpenTelemetry zero-code (auto-instrumentations-node/register, defaults), no Lookout RED middleware or access log',
    preload: zeroCodeRegister,
    env: { REQUEST_TELEMETRY: 'false', ACCESS_LOG_LEVEL: 'off' },
  },
];

/** BENCH_VARIANTS=none,lookout (for development runs); all four otherwise. `none` is always kept: ratios need it. */
export function selectedVariants(list: string | undefined): Variant[] {
  if (list === undefined || list.trim() === '') return [...VARIANTS];
  const names = new Set(list.split(',').map((s) => s.trim()));
  const unknown = [...names].filter((n) => !VARIANTS.some((v) => v.name === n));
  if (unknown.length > 0) throw new Error(`BENCH_VARIANTS: unknown ${unknown.join(', ')} (known: ${VARIANTS.map((v) => v.name).join(', ')})`);
  return VARIANTS.filter((v) => v.name === 'none' || names.has(v.name));
}
