/**
 * Least-squares straight line through (x, y) points: the slope is the marginal cost per unit of x, the intercept
 * what the process spends with no load. Undefined with fewer than two distinct x values.
 */
export function fitLine(points: readonly { x: number; y: number }[]): { slope: number; intercept: number } | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));
