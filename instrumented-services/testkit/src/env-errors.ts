/** What the check needs of a service's zod object schema: its fields by variable name, each parsable alone. */
export interface EnvSchema {
  readonly shape: Readonly<Record<string, { safeParse(value: unknown): { success: boolean } }>>;
}

/** A value no setting may repeat in its error when the setting holds a secret. */
const SECRET_VALUE = 'sekrit-7f3a';

/**
 * Values tried on every variable; each is tried where the variable's own schema refuses it. The first ones look
 * like what secrets are set to (a password, a URL with credentials, a JSON key list), the rest are numbers out of
 * any range and not integers.
 */
const INVALID_VALUES = [
  SECRET_VALUE,
  `mysql://user:${SECRET_VALUE}@db.invalid/x`,
  `[{"id":"x","sha256":"${SECRET_VALUE}","scopes":["read"]}]`,
  '-1',
  '99999999999',
  '1.5',
];

/** Settings whose values are secrets (as @lookout/config decides): their errors must not repeat the value. */
const SECRET_SETTING = /PASSWORD|SECRET|TOKEN|KEY|URL/i;

function issuesOf(loadConfig: (env: NodeJS.ProcessEnv) => unknown, env: NodeJS.ProcessEnv): { message: string; settings: string[] } | string {
  try {
    loadConfig(env);
  } catch (err) {
    const issues = (err as { issues?: unknown }).issues;
    if (!(err instanceof Error) || !Array.isArray(issues)) return `threw ${String(err)} instead of a ConfigError`;
    return { message: err.message, settings: (issues as { setting?: unknown }[]).map((i) => String(i.setting)) };
  }
  return 'started';
}

/** Whether an issue's setting is `name` itself or a part of it (`API_KEYS.0.sha256`). */
const isAbout = (setting: string, name: string) => setting === name || setting.startsWith(`${name}.`);

/**
 * Sets every variable of `schema` to each value it refuses, one variable at a time and then all at once, and lists
 * what is wrong with the start-up errors of `loadConfig`: each must be a ConfigError naming the variable (and only
 * it), and a secret's must not repeat the value. `anyString` lists the variables that take any text, each with
 * why; the list is checked too, so that it cannot hide a variable that does validate. An empty result passes.
 */
export function envErrorFailures(
  schema: EnvSchema,
  loadConfig: (env: NodeJS.ProcessEnv) => unknown,
  anyString: Readonly<Record<string, string>>,
): string[] {
  const failures: string[] = [];
  const names = Object.keys(schema.shape);
  const firstInvalid = new Map<string, string>();
  // A variable without a default is missing from every other variable's run: that issue is not the one under test.
  const empty = issuesOf(loadConfig, {});
  const required = typeof empty === 'string' ? [] : empty.settings;
  for (const name of Object.keys(anyString)) {
    if (!names.includes(name)) failures.push(`${name}: allow-listed as any text, but not a variable of the schema`);
  }
  for (const name of names) {
    const field = schema.shape[name];
    const invalid = INVALID_VALUES.filter((value) => field?.safeParse(value).success === false);
    if (name in anyString) {
      if (invalid.length > 0) failures.push(`${name}: allow-listed as any text, but refuses ${JSON.stringify(invalid[0])}`);
      continue;
    }
    if (invalid.length === 0) {
      failures.push(`${name}: accepts every test value; allow-list it with the reason, or give it a validation`);
      continue;
    }
    firstInvalid.set(name, invalid[0] ?? '');
    for (const value of invalid) {
      const found = issuesOf(loadConfig, { [name]: value });
      const shown = `${name}=${JSON.stringify(value)}`;
      if (typeof found === 'string') {
        failures.push(`${shown}: ${found}`);
        continue;
      }
      if (!found.message.includes(name) || found.settings.length === 0) failures.push(`${shown}: the error does not name it: ${found.message}`);
      const others = found.settings.filter((s) => !isAbout(s, name) && !required.includes(s));
      if (others.length > 0) failures.push(`${shown}: the error also names ${others.join(', ')}`);
      if (SECRET_SETTING.test(name) && (found.message.includes(value) || found.message.includes(SECRET_VALUE))) {
        failures.push(`${shown}: the error repeats the secret value: ${found.message}`);
      }
    }
  }
  const all = issuesOf(loadConfig, Object.fromEntries(firstInvalid));
  if (typeof all === 'string') failures.push(`all invalid at once: ${all}`);
  else {
    const unnamed = [...firstInvalid.keys()].filter((name) => !all.settings.some((s) => isAbout(s, name)));
    if (unnamed.length > 0) failures.push(`all invalid at once: the error leaves out ${unnamed.join(', ')}`);
  }
  return failures;
}
