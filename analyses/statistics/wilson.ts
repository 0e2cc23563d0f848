/** A proportion with its Wilson score interval. */
export interface RateWithInterval { count: number; effort: number; rate: number | null; low: number | null; high: number | null }

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/**
 * The rate `count / effort` and its Wilson score interval (95% by default). Wilson rather than the normal
 * approximation because rare behaviours and small efforts are common here: it stays inside [0, 1] and is not
 * degenerate at 0 or n. Null when there is no effort (nothing to divide by).
 */
export function wilsonInterval(count: number, effort: number, z = Z95): RateWithInterval {
  if (effort <= 0) return { count, effort, rate: null, low: null, high: null };
  const p = count / effort;
  const z2 = z * z;
  const denominator = 1 + z2 / effort;
  const centre = (p + z2 / (2 * effort)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / effort + z2 / (4 * effort * effort))) / denominator;
  return { count, effort, rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
