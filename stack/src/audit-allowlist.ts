import { z } from 'zod';

/** One accepted advisory: which one, in which package, why, and until when the acceptance holds. */
export interface AllowlistEntry {
  readonly id: string;
  readonly package: string;
  readonly reason: string;
  /** Last day (UTC, YYYY-MM-DD) the entry applies; after it the gate fails until someone looks again. */
  readonly expires: string;
}

/** Thrown when the allow-list file cannot be used; every problem is listed, each naming the file and the entry. */
export class AllowlistError extends Error {
  readonly issues: readonly string[];

  constructor(file: string, issues: readonly string[]) {
    super(`${file} is not a valid allow-list:\n${issues.map((i) => `  ${i}`).join('\n')}`);
    this.name = 'AllowlistError';
    this.issues = issues;
  }
}

const GHSA = /^GHSA-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/;

function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

const entrySchema = z.strictObject({
  id: z.string().regex(GHSA, 'expected a GitHub advisory id such as GHSA-xxxx-xxxx-xxxx'),
  package: z.string().trim().min(1, 'expected the name of the vulnerable package'),
  reason: z.string().trim().min(1, 'expected why the advisory does not apply or what we wait for'),
  expires: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
    .refine(isCalendarDate, 'expected a real calendar date'),
});

/** Parses the allow-list file's text; `file` is the name used in error messages. */
export function parseAllowlist(text: string, file: string): AllowlistEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AllowlistError(file, [`not valid JSON: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (!Array.isArray(json)) throw new AllowlistError(file, ['expected a JSON array of entries ([] when nothing is accepted)']);
  const issues: string[] = [];
  const entries: AllowlistEntry[] = [];
  const seen = new Map<string, number>();
  json.forEach((raw: unknown, index) => {
    const label = entryLabel(raw, index);
    const result = entrySchema.safeParse(raw);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const field = issue.path.map(String).join('.');
        issues.push(`${label}: ${field === '' ? '' : `${field}: `}${issue.message}`);
      }
      return;
    }
    const key = `${result.data.id}\u0000${result.data.package}`;
    const first = seen.get(key);
    if (first !== undefined) issues.push(`${label}: duplicates entry ${first + 1}`);
    else seen.set(key, index);
    entries.push(result.data);
  });
  if (issues.length > 0) throw new AllowlistError(file, issues);
  return entries;
}

/** "entry 2 (GHSA-… in pkg)": the position counts from 1, as a reader of the file counts. */
function entryLabel(raw: unknown, index: number): string {
  const fields = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const names = [fields.id, fields.package].filter((v): v is string => typeof v === 'string' && v !== '');
  return `entry ${index + 1}${names.length === 0 ? '' : ` (${names.join(' in ')})`}`;
}
