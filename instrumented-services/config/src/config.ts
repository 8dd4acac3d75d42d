import { z } from 'zod';

/** One invalid setting: the environment variable's name and what is wrong with it. */
export interface ConfigIssue {
  readonly setting: string;
  readonly message: string;
}

/** Thrown at start-up when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(
      `invalid configuration: ${issues.map((i) => `${i.setting}: ${i.message}`).join('; ')}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

// Values of these settings never appear in error messages.
const SECRET_SETTING = /PASSWORD|SECRET|TOKEN|KEY|URL/i;

/**
 * Parses environment variables with a zod object schema whose keys are the variable names.
 * Empty strings count as unset so that `FOO=` falls back to the default instead of failing as 0 or "".
 * Every problem is reported at once, each naming the variable to fix.
 */
export function parseEnv<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const setting = issue.path.map(String).join('.') || '(environment)';
      const raw = input[setting];
      const shown = raw === undefined || SECRET_SETTING.test(setting) ? '' : ` (got "${raw}")`;
      return { setting, message: `${issue.message}${shown}` };
    }),
  );
}

/** An integer setting within bounds, e.g. `PG_POOL_MAX: envInt(10, 1, 200)`. */
export function envInt(defaultValue: number, min: number, max: number) {
  return z
    .string()
    .regex(/^-?\d+$/, `expected an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(defaultValue);
}

/** A boolean setting: true/false, 1/0, yes/no, on/off. */
export function envBool(defaultValue: boolean) {
  return z.stringbool().default(defaultValue);
}

/** A URL setting restricted to the given schemes, e.g. `envUrl('redis://127.0.0.1:6379', ['redis:'])`. */
export function envUrl(defaultValue: string, protocols: readonly string[]) {
  return z
    .string()
    .refine((v) => URL.canParse(v), 'expected a URL')
    .refine(
      (v) => URL.canParse(v) && protocols.includes(new URL(v).protocol),
      `expected a URL with scheme ${protocols.join(' or ')}`,
    )
    .default(defaultValue);
}

/** A TCP port setting. */
export function envPort(defaultValue: number) {
  return envInt(defaultValue, 0, 65535);
}
