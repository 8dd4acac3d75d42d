/** One sample of a scraped Prometheus/OpenMetrics exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: { labels: Record<string, string>; value: number };
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*?)\})?\s+(\S+)(?:\s+\S+)?(?:\s+#\s+\{(.*?)\}\s+(\S+).*)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function labels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (text ?? '').matchAll(LABEL)) out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, '$1');
  return out;
}

/** Parses the text exposition format (and OpenMetrics exemplars); comments and blank lines are skipped. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const sample: Sample = { name: m[1] as string, labels: labels(m[2]), value: Number(m[3]) };
    if (m[4] !== undefined) sample.exemplar = { labels: labels(m[4]), value: Number(m[5]) };
    samples.push(sample);
  }
  return samples;
}

/** A label value to match: the value itself, or a test of it (the value is '' when the label is absent). */
export type LabelMatch = string | ((value: string) => boolean);

/** Matches a set `error_type`: the samples of failed operations. */
export const anyError: LabelMatch = (value) => value !== '';

/** Sum of the samples named `name` whose labels include `match`. */
export function sumOf(samples: readonly Sample[], name: string, match: Record<string, LabelMatch> = {}): number {
  return samples
    .filter(
      (s) =>
        s.name === name &&
        Object.entries(match).every(([k, v]) => (typeof v === 'string' ? (s.labels[k] ?? '') === v : v(s.labels[k] ?? ''))),
    )
    .reduce((total, s) => total + s.value, 0);
}

/** Fetches and parses `baseUrl/metrics`. */
export async function scrape(baseUrl: string): Promise<Sample[]> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}
