import { seededRandom, shuffled } from '../classify/offline/folds.ts';
import type { SparseMatrix } from '../classify/offline/tfidf.ts';
import { kMeansPlusPlus, pairwiseSimilarity, rowDot, silhouette, sphericalKMeans, type KMeansResult } from './spherical-kmeans.ts';
import { textVectors, type TextVectorOptions } from './text-vectors.ts';

export interface ClusterOptions extends TextVectorOptions {
  /** PRNG seed for the sample and k-means++ (default 1): the same texts and seed give the same clusters. */
  seed?: number;
  /** The numbers of clusters tried (default 2..12); the one with the best silhouette on the sample wins. */
  minK?: number;
  maxK?: number;
  /** Texts the silhouette is computed on (default 300): its cost grows with the square of this. */
  sampleSize?: number;
  /**
   * k-means++ restarts per k on the sample; the tightest is kept (default 2). A smaller sample gets more, up to
   * 20, for about the same work as this many on a full sample: with a few dozen texts two starts too often both
   * land in a poor local optimum (two topics merged, one split), and the silhouette then prefers a wrong k.
   */
  restarts?: number;
  /** Clusters with fewer members are dissolved into the remainder (default 3). */
  minClusterSize?: number;
  /** Members less similar than this (cosine) to their cluster's centroid go to the remainder (default 0.05). */
  minSimilarity?: number;
  /**
   * Members must be at least this much more similar (cosine) to their cluster's centroid than to the centroid of
   * the whole set (default 0.01): a text that merely shares the common vocabulary is like every cluster a bit
   * and like the whole set most, and belongs to no clear cluster.
   */
  minLift?: number;
  /** Distinguishing terms reported per cluster (default 8). */
  topTerms?: number;
  /** Representative members reported per cluster (default 3). */
  representatives?: number;
}

export interface TextCluster {
  /** Indexes into the input texts, most central first. */
  members: number[];
  /** Each member's cosine similarity with the centroid, in the same order. */
  similarity: number[];
  /** Terms weighing most in the centroid compared with the whole set, best first. */
  topTerms: string[];
  /** The `representatives` most central members (a prefix of `members`). */
  representatives: number[];
  /** Mean similarity of the members with the centroid (0..1): how tight the cluster is. */
  cohesion: number;
}

export interface Clustering {
  /** The number of clusters k-means ran with (before small ones were dissolved); 0 when too few texts. */
  k: number;
  /** The mean silhouette of that k on the sample; null when it was not computed (fewer than two clusters possible). */
  silhouette: number | null;
  /** The ks tried and their silhouettes, for the page's "how k was chosen". */
  tried: Array<{ k: number; silhouette: number }>;
  clusters: TextCluster[];
  /** Texts in no clear cluster (including texts with no term shared with any other), in input order. */
  remainder: number[];
  terms: number;
}

const MAX_RESTARTS = 20;
const DEFAULTS = { seed: 1, minK: 2, maxK: 12, sampleSize: 300, restarts: 2, minClusterSize: 3, minSimilarity: 0.05, minLift: 0.01, topTerms: 8, representatives: 3 };

/**
 * Groups texts by what they talk about: TF-IDF vectors over unigrams and bigrams of content words, spherical
 * k-means with k chosen by the silhouette on a sample, then the loose ends dropped (members far from their
 * centroid, clusters smaller than `minClusterSize`). Pure and deterministic: no I/O, no clock, seeded PRNG.
 */
export function clusterTexts(texts: readonly string[], options: ClusterOptions = {}): Clustering {
  const o = { ...DEFAULTS, ...options };
  const { terms, matrix } = textVectors(texts, options);
  const usable = Int32Array.from(texts.keys()).filter((i) => matrix.rowStart[i + 1]! > matrix.rowStart[i]!);
  const empty: Clustering = { k: 0, silhouette: null, tried: [], clusters: [], remainder: [...texts.keys()], terms: terms.length };
  if (usable.length < o.minClusterSize) return empty;

  const random = seededRandom(o.seed);
  const sample = usable.length <= o.sampleSize ? usable : Int32Array.from(shuffled([...usable], random).slice(0, o.sampleSize)).sort();
  const maxK = Math.min(o.maxK, Math.floor(sample.length / o.minClusterSize));
  const tried: Array<{ k: number; silhouette: number }> = [];
  let chosen: KMeansResult | null = null;
  let chosenSilhouette: number | null = null;
  const restarts = Math.max(o.restarts, Math.min(MAX_RESTARTS, Math.floor((o.restarts * o.sampleSize) / sample.length)));
  if (maxK >= o.minK && maxK >= 2) {
    const similarities = pairwiseSimilarity(matrix, sample);
    for (let k = Math.max(2, o.minK); k <= maxK; k++) {
      let best: KMeansResult | null = null;
      for (let r = 0; r < restarts; r++) {
        const run = sphericalKMeans(matrix, sample, kMeansPlusPlus(matrix, sample, k, random));
        if (!best || run.objective > best.objective + 1e-9) best = run;
      }
      const score = silhouette(similarities, best!.assignments, k);
      tried.push({ k, silhouette: score });
      // Strictly better only: on a tie the smaller k (fewer, broader suggestions) stays.
      if (chosenSilhouette === null || score > chosenSilhouette + 1e-9) {
        chosen = best;
        chosenSilhouette = score;
      }
    }
  } else {
    chosen = sphericalKMeans(matrix, sample, kMeansPlusPlus(matrix, sample, 1, random));
  }

  const final = sphericalKMeans(matrix, usable, chosen!.centroids);
  const corpusMean = meanVector(matrix, usable);
  const corpusDirection = unit(corpusMean);
  // A member must be close to its centroid and closer to it than to the whole set (see minLift).
  const fits = (i: number, centroid: Float64Array, similarity: number) =>
    similarity >= o.minSimilarity && similarity - rowDot(matrix, usable[i]!, corpusDirection) >= o.minLift;
  const fitting = new Int32Array(final.k);
  for (let i = 0; i < usable.length; i++) if (fits(i, final.centroids[final.assignments[i]!]!, final.similarity[i]!)) fitting[final.assignments[i]!]!++;
  const kept = [...Array(final.k).keys()].filter((c) => fitting[c]! >= o.minClusterSize);
  const membersOf = new Map<number, Array<{ index: number; similarity: number }>>(kept.map((c) => [c, []]));
  for (let i = 0; i < usable.length; i++) {
    let cluster = final.assignments[i]!;
    let similarity = final.similarity[i]!;
    if (!membersOf.has(cluster)) {
      // Its cluster was too small (often a few near-duplicates): it may still fit the nearest cluster kept.
      cluster = -1;
      for (const c of kept) {
        const s = rowDot(matrix, usable[i]!, final.centroids[c]!);
        if (cluster < 0 || s > similarity) [cluster, similarity] = [c, s];
      }
      if (cluster < 0) continue;
    }
    if (fits(i, final.centroids[cluster]!, similarity)) membersOf.get(cluster)!.push({ index: usable[i]!, similarity });
  }
  const clusters: TextCluster[] = [];
  const inCluster = new Uint8Array(texts.length);
  for (const members of membersOf.values()) {
    members.sort((a, b) => b.similarity - a.similarity || a.index - b.index);
    const memberRows = Int32Array.from(members, (m) => m.index);
    for (const m of members) inCluster[m.index] = 1;
    clusters.push({
      members: members.map((m) => m.index),
      similarity: members.map((m) => m.similarity),
      topTerms: distinguishingTerms(terms, meanVector(matrix, memberRows), corpusMean, o.topTerms),
      representatives: members.slice(0, o.representatives).map((m) => m.index),
      cohesion: members.reduce((sum, m) => sum + m.similarity, 0) / members.length,
    });
  }
  clusters.sort((a, b) => b.members.length - a.members.length || a.members[0]! - b.members[0]!);
  return {
    k: final.k,
    silhouette: chosenSilhouette,
    tried,
    clusters,
    remainder: [...texts.keys()].filter((i) => !inCluster[i]),
    terms: terms.length,
  };
}

function unit(v: Float64Array): Float64Array {
  let norm = 0;
  for (let t = 0; t < v.length; t++) norm += v[t]! * v[t]!;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return v.map((x) => x * scale);
}

function meanVector(m: SparseMatrix, rows: Int32Array): Float64Array {
  const out = new Float64Array(m.columns);
  for (const row of rows) for (let p = m.rowStart[row]!; p < m.rowStart[row + 1]!; p++) out[m.indices[p]!]! += m.values[p]!;
  if (rows.length > 0) for (let t = 0; t < out.length; t++) out[t]! /= rows.length;
  return out;
}

/**
 * The terms whose mean weight in the cluster most exceeds their mean weight in the whole set. A term whose
 * words are all already covered by better terms ("loop" after "repetition loop") is skipped, so the list names
 * more different things.
 */
export function distinguishingTerms(terms: readonly string[], clusterMean: Float64Array, corpusMean: Float64Array, count: number): string[] {
  const scored: Array<{ t: number; score: number }> = [];
  for (let t = 0; t < terms.length; t++) {
    const score = clusterMean[t]! - corpusMean[t]!;
    if (score > 0) scored.push({ t, score });
  }
  scored.sort((a, b) => b.score - a.score || (terms[a.t]! < terms[b.t]! ? -1 : 1));
  const picked: string[] = [];
  const covered = new Set<string>();
  for (const { t } of scored) {
    if (picked.length >= count) break;
    const words = terms[t]!.split(' ');
    if (words.every((w) => covered.has(w))) continue;
    picked.push(terms[t]!);
    for (const w of words) covered.add(w);
  }
  return picked;
}
