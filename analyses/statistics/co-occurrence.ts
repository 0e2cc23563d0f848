/** How often two behaviours were coded on the same observation, with two association measures. */
export interface CoOccurrenceCell {
  a: string;
  b: string;
  /** Observations showing both (on the diagonal: observations showing `a`). */
  both: number;
  /** |A ∩ B| / |A ∪ B|: the share of observations showing either that show both (0..1). */
  jaccard: number | null;
  /** P(A and B) / (P(A) P(B)) over the coded observations: 1 is what independence gives, above 1 together more often. */
  lift: number | null;
}

/**
 * Co-occurrence from counts: `showing` is how many observations show each behaviour, `pairs` how many show both
 * of a pair (either order), `observations` how many were coded at all. Returns every ordered pair of the listed
 * behaviours (a symmetric matrix; the diagonal carries each behaviour's own count).
 */
export function coOccurrence(
  behaviours: string[],
  showing: Map<string, number>,
  pairs: Array<{ a: string; b: string; both: number }>,
  observations: number,
): CoOccurrenceCell[] {
  const both = new Map<string, number>();
  for (const p of pairs) {
    both.set(`${p.a} ${p.b}`, (both.get(`${p.a} ${p.b}`) ?? 0) + p.both);
    if (p.a !== p.b) both.set(`${p.b} ${p.a}`, (both.get(`${p.b} ${p.a}`) ?? 0) + p.both);
  }
  const cells: CoOccurrenceCell[] = [];
  for (const a of behaviours) {
    for (const b of behaviours) {
      const na = showing.get(a) ?? 0;
      const nb = showing.get(b) ?? 0;
      const nab = a === b ? na : (both.get(`${a} ${b}`) ?? 0);
      const union = na + nb - nab;
      cells.push({
        a,
        b,
        both: nab,
        jaccard: union > 0 ? nab / union : null,
        lift: na > 0 && nb > 0 && observations > 0 ? (nab * observations) / (na * nb) : null,
      });
    }
  }
  return cells;
}
