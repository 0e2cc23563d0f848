import type { SparseMatrix } from '../classify/offline/tfidf.ts';

/**
 * Spherical k-means over L2-normalised sparse rows (Dhillon and Modha 2001): each row joins the centroid it has
 * the highest cosine similarity with, and each centroid is the normalised sum of its rows. Seeded by k-means++
 * (Arthur and Vassilvitskii 2007) with a caller-supplied PRNG, and every tie broken by the lower index, so the
 * same input and seed always give the same clusters.
 */

export interface KMeansResult {
  k: number;
  /** Per row of `rows`: its cluster, 0..k-1. */
  assignments: Int32Array;
  /** Per row of `rows`: its cosine similarity with its cluster's centroid. */
  similarity: Float64Array;
  /** Unit-length dense centroids (all zero for a cluster that ended empty). */
  centroids: Float64Array[];
  /** Sum of `similarity`: higher is tighter. */
  objective: number;
}

/** The dot product of one matrix row with a dense vector. */
export function rowDot(m: SparseMatrix, row: number, dense: Float64Array): number {
  let sum = 0;
  for (let p = m.rowStart[row]!; p < m.rowStart[row + 1]!; p++) sum += m.values[p]! * dense[m.indices[p]!]!;
  return sum;
}

/** A row as a dense vector. */
export function denseRow(m: SparseMatrix, row: number): Float64Array {
  const out = new Float64Array(m.columns);
  for (let p = m.rowStart[row]!; p < m.rowStart[row + 1]!; p++) out[m.indices[p]!] = m.values[p]!;
  return out;
}

/**
 * Greedy k-means++ seeding on cosine distance (as scikit-learn does it): each next centre is the best, by the
 * total squared distance left, of 2 + ln k rows drawn with probability ∝ their squared distance to the nearest
 * centre so far. Sampling several candidates makes a bad draw (two centres in one topic) much rarer.
 */
export function kMeansPlusPlus(m: SparseMatrix, rows: Int32Array, k: number, random: () => number): Float64Array[] {
  const n = rows.length;
  const candidatesPerStep = 2 + Math.floor(Math.log(Math.max(1, k)));
  // One scratch vector for every candidate (scattered in, then cleared): a dense copy each would be mostly garbage.
  const scratch = new Float64Array(m.columns);
  // |a - b|² = 2 (1 - cos) for unit vectors.
  const distancesTo = (row: number, out: Float64Array) => {
    for (let p = m.rowStart[row]!; p < m.rowStart[row + 1]!; p++) scratch[m.indices[p]!] = m.values[p]!;
    for (let i = 0; i < n; i++) out[i] = Math.max(0, 2 * (1 - rowDot(m, rows[i]!, scratch)));
    for (let p = m.rowStart[row]!; p < m.rowStart[row + 1]!; p++) scratch[m.indices[p]!] = 0;
  };
  const first = rows[Math.min(n - 1, Math.floor(random() * n))]!;
  const centres = [denseRow(m, first)];
  const distance = new Float64Array(n);
  distancesTo(first, distance);
  let trial = new Float64Array(n);
  let best = new Float64Array(n);
  while (centres.length < Math.min(k, n)) {
    let total = 0;
    for (let i = 0; i < n; i++) total += distance[i]!;
    if (total <= 1e-12) break; // every row coincides with a centre already
    let bestPotential = Infinity;
    let bestRow = -1;
    for (let c = 0; c < candidatesPerStep; c++) {
      let target = random() * total;
      let pick = -1;
      for (let i = 0; i < n; i++) {
        if (distance[i]! <= 0) continue;
        pick = i;
        target -= distance[i]!;
        if (target <= 0) break;
      }
      distancesTo(rows[pick]!, trial);
      let potential = 0;
      for (let i = 0; i < n; i++) potential += Math.min(distance[i]!, trial[i]!);
      if (potential < bestPotential - 1e-12) {
        bestPotential = potential;
        bestRow = rows[pick]!;
        [best, trial] = [trial, best];
      }
    }
    centres.push(denseRow(m, bestRow));
    for (let i = 0; i < n; i++) distance[i] = Math.min(distance[i]!, best[i]!);
  }
  return centres;
}

/** Runs Lloyd iterations from the given centroids until no row moves (or `maxIterations`). */
export function sphericalKMeans(m: SparseMatrix, rows: Int32Array, initial: readonly Float64Array[], maxIterations = 50): KMeansResult {
  const k = initial.length;
  const n = rows.length;
  const centroids = initial.map((c) => Float64Array.from(c));
  const assignments = new Int32Array(n).fill(-1);
  const similarity = new Float64Array(n);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    let moved = 0;
    for (let i = 0; i < n; i++) {
      let bestCluster = 0;
      let bestSim = -Infinity;
      for (let c = 0; c < k; c++) {
        const s = rowDot(m, rows[i]!, centroids[c]!);
        if (s > bestSim) {
          bestSim = s;
          bestCluster = c;
        }
      }
      if (assignments[i] !== bestCluster) moved++;
      assignments[i] = bestCluster;
      similarity[i] = bestSim;
    }
    if (moved === 0 && iteration > 0) break;
    recomputeCentroids(m, rows, assignments, centroids, similarity);
  }
  let objective = 0;
  for (let i = 0; i < n; i++) objective += similarity[i]!;
  return { k, assignments, similarity, centroids, objective };
}

/** Each centroid becomes the normalised sum of its rows; an emptied one takes the row that fits its own worst. */
function recomputeCentroids(m: SparseMatrix, rows: Int32Array, assignments: Int32Array, centroids: Float64Array[], similarity: Float64Array): void {
  const counts = new Int32Array(centroids.length);
  for (const c of centroids) c.fill(0);
  for (let i = 0; i < rows.length; i++) {
    const c = centroids[assignments[i]!]!;
    counts[assignments[i]!]!++;
    const row = rows[i]!;
    for (let p = m.rowStart[row]!; p < m.rowStart[row + 1]!; p++) c[m.indices[p]!]! += m.values[p]!;
  }
  const taken = new Set<number>();
  for (let c = 0; c < centroids.length; c++) {
    if (counts[c] === 0) {
      let worst = -1;
      for (let i = 0; i < rows.length; i++) if (!taken.has(i) && (worst < 0 || similarity[i]! < similarity[worst]!)) worst = i;
      if (worst < 0) continue;
      taken.add(worst);
      centroids[c] = denseRow(m, rows[worst]!);
      continue;
    }
    const centroid = centroids[c]!;
    let norm = 0;
    for (let t = 0; t < centroid.length; t++) norm += centroid[t]! * centroid[t]!;
    if (norm > 0) {
      const scale = 1 / Math.sqrt(norm);
      for (let t = 0; t < centroid.length; t++) centroid[t]! *= scale;
    }
  }
}

/** The n×n cosine similarities of some rows (row-major), for the silhouette. */
export function pairwiseSimilarity(m: SparseMatrix, rows: Int32Array): Float64Array {
  const n = rows.length;
  const out = new Float64Array(n * n);
  const scratch = new Float64Array(m.columns);
  for (let a = 0; a < n; a++) {
    const ra = rows[a]!;
    for (let p = m.rowStart[ra]!; p < m.rowStart[ra + 1]!; p++) scratch[m.indices[p]!] = m.values[p]!;
    out[a * n + a] = 1;
    for (let b = a + 1; b < n; b++) {
      const s = rowDot(m, rows[b]!, scratch);
      out[a * n + b] = s;
      out[b * n + a] = s;
    }
    for (let p = m.rowStart[ra]!; p < m.rowStart[ra + 1]!; p++) scratch[m.indices[p]!] = 0;
  }
  return out;
}

/**
 * The mean silhouette (Rousseeuw 1987) on cosine distance, from a precomputed similarity matrix: for each row,
 * (b - a) / max(a, b) with a its mean distance to its own cluster and b to the nearest other one; rows alone in
 * their cluster count 0. Between -1 and 1; higher means better separated clusters.
 */
export function silhouette(similarities: Float64Array, assignments: Int32Array, k: number): number {
  const n = assignments.length;
  if (n < 2 || k < 2) return 0;
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) counts[assignments[i]!]!++;
  const sums = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sums[assignments[j]!]! += 1 - similarities[i * n + j]!;
    const own = assignments[i]!;
    if (counts[own]! <= 1) continue;
    const a = sums[own]! / (counts[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && counts[c]! > 0) b = Math.min(b, sums[c]! / counts[c]!);
    if (!Number.isFinite(b)) continue;
    const denominator = Math.max(a, b);
    total += denominator > 0 ? (b - a) / denominator : 0;
  }
  return total / n;
}
