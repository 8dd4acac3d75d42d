/** A measurement over the rounds of a run: its median and its range. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function spread(values: readonly number[], digits = 2): Spread {
  if (values.length === 0) throw new Error('no values to summarise');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median: round(median, digits), min: round(sorted[0] ?? 0, digits), max: round(sorted.at(-1) ?? 0, digits) };
}

/** `value / baseline` to three decimals; NaN (written as null) when the baseline is 0. */
export function ratio(value: number, baseline: number): number {
  return round(value / baseline, 3);
}
