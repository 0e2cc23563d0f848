import { adjustPValues, type Correction } from './multiple-comparisons.ts';
import { seededRandom } from '../../observations/classify/offline/folds.ts';

/**
 * Behaviour sequences packed flat: `codes` holds every observation's behaviours (as indices 0..size-1) in
 * transcript order, one observation after another; observation i is `codes[starts[i] .. starts[i+1])`.
 * Packed so the permutation test shuffles and counts over typed arrays without allocating.
 */
export interface PackedSequences { size: number; codes: Int32Array; starts: Int32Array }

/** Packs sequences (arrays of behaviour indices); sequences shorter than 2 hold no transition and are dropped. */
export function packSequences(sequences: ArrayLike<number>[], size: number): PackedSequences {
  const kept = sequences.filter((s) => s.length >= 2);
  const total = kept.reduce((n, s) => n + s.length, 0);
  const codes = new Int32Array(total);
  const starts = new Int32Array(kept.length + 1);
  let at = 0;
  kept.forEach((s, i) => {
    starts[i] = at;
    for (let j = 0; j < s.length; j++) {
      const code = s[j]!;
      if (!(code >= 0 && code < size)) throw new RangeError(`behaviour index ${code} outside 0..${size - 1}`);
      codes[at++] = code;
    }
  });
  starts[kept.length] = at;
  return { size, codes, starts };
}

export const sequenceCount = (p: PackedSequences) => p.starts.length - 1;

/** Transition counts: cell `from * size + to` counts how often `to` directly follows `from` within one sequence. */
export function countTransitions(p: PackedSequences, into = new Int32Array(p.size * p.size)): Int32Array {
  into.fill(0);
  const { codes, starts, size } = p;
  for (let s = 0; s < starts.length - 1; s++) {
    for (let i = starts[s]! + 1; i < starts[s + 1]!; i++) into[codes[i - 1]! * size + codes[i]!]!++;
  }
  return into;
}

/**
 * A random subset of the sequences holding about `maxCodes` codes (all of them when they hold fewer), drawn with
 * the seeded generator: the permutation test's cost is permutations x codes, so large selections are tested on a
 * sample to keep the page fast. Returns the sample and whether it is one.
 */
export function sampleSequences(p: PackedSequences, maxCodes: number, seed: number): { sample: PackedSequences; sampled: boolean } {
  if (p.codes.length <= maxCodes) return { sample: p, sampled: false };
  const n = sequenceCount(p);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed ^ 0x5eed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const picked: ArrayLike<number>[] = [];
  let codes = 0;
  for (const s of order) {
    if (codes >= maxCodes) break;
    const seq = p.codes.subarray(p.starts[s]!, p.starts[s + 1]!);
    picked.push(seq);
    codes += seq.length;
  }
  return { sample: packSequences(picked, p.size), sampled: true };
}

export interface PermutationResult {
  permutations: number;
  /** Observed counts per cell (from-major). */
  observed: Int32Array;
  /** Mean count per cell over the permutations: what chance alone gives, keeping each sequence's behaviours. */
  expected: Float64Array;
  /** One-sided p per cell, (b + 1) / (N + 1) where b permutations reached the observed count; NaN for cells never observed. */
  p: Float64Array;
}

/**
 * The permutation test for transitions: shuffles the behaviours within each sequence (Fisher-Yates, seeded), so
 * what each observation shows is kept and only the order is destroyed, and counts how often each cell's count
 * reaches the observed one. p = (b + 1) / (N + 1), the +1 counting the observed arrangement as one of the
 * permutations, so p is never 0. One-sided: the question is which transitions exceed chance. Cells never observed
 * cannot exceed chance and are not tested (p NaN), which keeps them out of the multiple-comparison correction.
 */
export function permutationTest(p: PackedSequences, permutations: number, seed: number): PermutationResult {
  const cells = p.size * p.size;
  const observed = countTransitions(p);
  const reached = new Int32Array(cells);
  const sums = new Float64Array(cells);
  const work: PackedSequences = { ...p, codes: Int32Array.from(p.codes) };
  const counts = new Int32Array(cells);
  const random = seededRandom(seed);
  const { starts } = p;
  const codes = work.codes;
  for (let k = 0; k < permutations; k++) {
    // Shuffling the previous permutation again is as uniform as shuffling the original, and needs no copy.
    for (let s = 0; s < starts.length - 1; s++) {
      const start = starts[s]!;
      for (let i = starts[s + 1]! - 1; i > start; i--) {
        const j = start + Math.floor(random() * (i - start + 1));
        const t = codes[i]!;
        codes[i] = codes[j]!;
        codes[j] = t;
      }
    }
    countTransitions(work, counts);
    for (let c = 0; c < cells; c++) {
      sums[c]! += counts[c]!;
      if (counts[c]! >= observed[c]!) reached[c]!++;
    }
  }
  const expected = sums.map((s) => (permutations > 0 ? s / permutations : NaN));
  const pValues = new Float64Array(cells);
  for (let c = 0; c < cells; c++) pValues[c] = observed[c]! > 0 ? (reached[c]! + 1) / (permutations + 1) : NaN;
  return { permutations, observed, expected, p: pValues };
}

export interface TransitionCell {
  from: number;
  to: number;
  /** Transitions over every sequence in the selection. */
  count: number;
  /** Over the sequences the test ran on (the same as `count` unless the test used a sample). */
  testedCount: number;
  expected: number;
  p: number | null;
  pAdjusted: number | null;
  /** p below alpha before correction. */
  nominal: boolean;
  /** Adjusted p below alpha: the transition exceeds chance. */
  significant: boolean;
}

export interface TransitionAnalysis {
  size: number;
  sequences: number;
  codes: number;
  transitions: number;
  tested: { sequences: number; codes: number; transitions: number; sampled: boolean };
  permutations: number;
  seed: number;
  alpha: number;
  correction: Correction;
  /** How many cells were tested (observed at least once): the m of the correction. */
  testedCells: number;
  /** The smallest p the test can give with this many permutations, 1 / (N + 1). */
  smallestP: number;
  cells: TransitionCell[];
}

export interface TransitionOptions { permutations: number; seed: number; alpha: number; correction: Correction; maxTestedCodes: number }

/** Counts transitions over all sequences and runs the permutation test (on a sample when the selection is large). */
export function analyseTransitions(sequences: PackedSequences, options: TransitionOptions): TransitionAnalysis {
  const all = countTransitions(sequences);
  const { sample, sampled } = sampleSequences(sequences, options.maxTestedCodes, options.seed);
  const test = permutationTest(sample, options.permutations, options.seed);
  const adjusted = adjustPValues(test.p, options.correction);
  const cells: TransitionCell[] = [];
  const size = sequences.size;
  const sum = (a: Int32Array) => a.reduce((n, v) => n + v, 0);
  for (let c = 0; c < size * size; c++) {
    const p = Number.isNaN(test.p[c]!) ? null : test.p[c]!;
    const pAdjusted = Number.isNaN(adjusted[c]!) ? null : adjusted[c]!;
    cells.push({
      from: Math.floor(c / size),
      to: c % size,
      count: all[c]!,
      testedCount: test.observed[c]!,
      expected: test.expected[c]!,
      p,
      pAdjusted,
      nominal: p !== null && p < options.alpha,
      significant: pAdjusted !== null && pAdjusted < options.alpha,
    });
  }
  const transitionsIn = (p: PackedSequences) => p.codes.length - sequenceCount(p);
  return {
    size,
    sequences: sequenceCount(sequences),
    codes: sequences.codes.length,
    transitions: sum(all),
    tested: { sequences: sequenceCount(sample), codes: sample.codes.length, transitions: transitionsIn(sample), sampled },
    permutations: options.permutations,
    seed: options.seed,
    alpha: options.alpha,
    correction: options.correction,
    testedCells: cells.filter((c) => c.p !== null).length,
    smallestP: 1 / (options.permutations + 1),
    cells,
  };
}
