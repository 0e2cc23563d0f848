export const corrections = ['holm', 'bonferroni', 'none'] as const;
export type Correction = (typeof corrections)[number];

/**
 * p-values adjusted for testing several hypotheses at once: Bonferroni (m·p) or Holm's step-down (uniformly more
 * powerful, same family-wise error control), capped at 1; `none` returns them unchanged. NaN entries (cells not
 * tested) stay NaN and do not count towards m.
 */
export function adjustPValues(p: ArrayLike<number>, correction: Correction): Float64Array {
  const out = Float64Array.from(p);
  if (correction === 'none') return out;
  const tested = [...out.keys()].filter((i) => !Number.isNaN(out[i]!));
  const m = tested.length;
  if (correction === 'bonferroni') {
    for (const i of tested) out[i] = Math.min(1, out[i]! * m);
    return out;
  }
  tested.sort((a, b) => p[a]! - p[b]!);
  let running = 0;
  tested.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p[i]!));
    out[i] = running;
  });
  return out;
}
