/**
 * Cross-validation folds that cannot leak: examples with the same text (after trimming, lower-casing and
 * collapsing whitespace) form one group, and a group goes to exactly one fold, so a duplicate of a test example
 * is never in the training set. Folds are stratified per behaviour (each behaviour's positives spread as evenly
 * as the groups allow), and deterministic for a given seed.
 */

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same sequence on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The key under which examples count as the same text. */
export function duplicateKey(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

export interface Group {
  members: number[];
  labels: Set<string>;
}

/** Groups example indexes by duplicate key, in order of first appearance; a group's labels are its members' union. */
export function groupDuplicates(examples: ReadonlyArray<{ text: string; labels: readonly string[] }>): Group[] {
  const byKey = new Map<string, Group>();
  examples.forEach((e, i) => {
    const key = duplicateKey(e.text);
    let group = byKey.get(key);
    if (!group) byKey.set(key, (group = { members: [], labels: new Set() }));
    group.members.push(i);
    for (const l of e.labels) group.labels.add(l);
  });
  return [...byKey.values()];
}

/**
 * Assigns groups to `k` folds: groups carrying rarer behaviours are placed first, each into the fold that most
 * lacks its rarest behaviour (then the fold with fewest examples, then the lowest fold), after a seeded shuffle
 * that breaks ties among equals. Returns each group's fold.
 */
export function stratifiedGroupFolds(groups: readonly Group[], k: number, seed: number): number[] {
  const random = seededRandom(seed);
  const frequency = new Map<string, number>();
  for (const g of groups) for (const l of g.labels) frequency.set(l, (frequency.get(l) ?? 0) + g.members.length);
  const rarest = (g: Group) => [...g.labels].sort((a, b) => frequency.get(a)! - frequency.get(b)! || (a < b ? -1 : 1))[0];
  const order = shuffled(groups.map((_, i) => i), random);
  // Stable sort after the shuffle: rarest behaviour first; unlabelled groups last.
  order.sort((a, b) => {
    const ra = rarest(groups[a]!);
    const rb = rarest(groups[b]!);
    const fa = ra === undefined ? Infinity : frequency.get(ra)!;
    const fb = rb === undefined ? Infinity : frequency.get(rb)!;
    return fa - fb;
  });
  const foldSize = new Array<number>(k).fill(0);
  const foldLabel = Array.from({ length: k }, () => new Map<string, number>());
  const assignment = new Array<number>(groups.length).fill(-1);
  for (const gi of order) {
    const g = groups[gi]!;
    const label = rarest(g);
    let best = 0;
    for (let f = 1; f < k; f++) {
      const byLabel = label === undefined ? 0 : (foldLabel[f]!.get(label) ?? 0) - (foldLabel[best]!.get(label) ?? 0);
      if (byLabel < 0 || (byLabel === 0 && foldSize[f]! < foldSize[best]!)) best = f;
    }
    assignment[gi] = best;
    foldSize[best]! += g.members.length;
    for (const l of g.labels) foldLabel[best]!.set(l, (foldLabel[best]!.get(l) ?? 0) + g.members.length);
  }
  return assignment;
}
