/**
 * Redaction of secrets and personal data from log records, applied to every field before any transport sees it
 * (stdout and OTLP alike).
 */

export const REDACTED = '[REDACTED]';

// Field names whose values are credentials or session material, whatever their shape.
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|password|passwd|pwd|secret|client[-_]?secret|(access|refresh|id|auth|session|csrf)[-_]?token|token|jwt|session(id)?|credentials?)$/i;
const SECRET_KEY_PART = /(password|passwd|secret|token|api[-_]?key|authorization|cookie|credential)/i;
// Correlation fields look like tokens to the patterns above but must survive.
const KEEP_KEYS = new Set(['trace_id', 'span_id', 'trace_flags']);

const VALUE_PATTERNS: readonly [RegExp, string][] = [
  [/\b(Bearer|Basic|Digest)\s+[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/([a-z][a-z0-9+.-]*:\/\/)[^\s:/@]+:[^\s/@]*@/gi, `$1${REDACTED}@`],
  [/[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+/g, '[REDACTED:email]'],
];

const MAX_DEPTH = 8;

export function isSecretKey(key: string): boolean {
  return !KEEP_KEYS.has(key) && (SECRET_KEY.test(key) || SECRET_KEY_PART.test(key));
}

export function redactString(value: string): string {
  let out = value;
  for (const [pattern, replacement] of VALUE_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Returns a redacted copy of `value`: secret-named fields replaced, e-mail addresses, bearer tokens, JWTs and
 * URL credentials masked inside strings. Never mutates its input (callers may still use the object they logged).
 */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const out: Record<string, unknown> = { name: value.name, message: redactString(value.message) };
      if (value.stack !== undefined) out.stack = redactString(value.stack);
      for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : redactValue(v, depth + 1, seen);
      return out;
    }
    if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, seen));
    if (value instanceof Date) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redactValue(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * Redacts a log record's own string-keyed fields in place. In place because winston and the OTel transport keep
 * state under symbol keys (level, formatted message, the span context) that a copy would lose.
 */
export function redactRecord<T extends object>(record: T): T {
  const fields = record as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key === 'level') continue;
    fields[key] = isSecretKey(key) && fields[key] != null ? REDACTED : redactValue(fields[key]);
  }
  return record;
}
