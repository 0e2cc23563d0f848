import { createHash } from 'node:crypto';
import type { Ctx } from '../../core/context.ts';
import { clusterTexts, type ClusterOptions, type Clustering } from './cluster-texts.ts';
import { excerptAround, type Excerpt } from './excerpt.ts';
import type { SuggestFilters } from './suggest-filters.ts';
import { loadCandidates, type CandidateObservation } from './suggest.queries.ts';

/** Member links listed per cluster on the page; the rest are counted. */
export const MEMBERS_LISTED = 60;

export interface SuggestionMember { id: string; title: string; provider: string; model: string }

export interface SuggestionCluster {
  /** 1-based position on the page (clusters are ordered by size). */
  number: number;
  size: number;
  /** Mean cosine similarity of the members with the centroid. */
  cohesion: number;
  topTerms: string[];
  /** The most central members, each with an excerpt around the cluster's top terms. */
  representatives: Array<SuggestionMember & { excerpt: Excerpt }>;
  /** All member ids, most central first (what prompted a behaviour drafted from the cluster). */
  memberIds: string[];
  /** The first MEMBERS_LISTED members, most central first. */
  members: SuggestionMember[];
  providers: Array<{ name: string; count: number }>;
  models: Array<{ provider: string; model: string; count: number }>;
}

export interface Suggestions {
  /** Observations read (after the limit). */
  considered: number;
  /** More observations qualified than the limit let in. */
  truncated: boolean;
  limit: number;
  /** k-means' k (before small clusters were dissolved), its silhouette, and every k tried. */
  k: number;
  silhouette: number | null;
  tried: Array<{ k: number; silhouette: number }>;
  clusters: SuggestionCluster[];
  /** Observations in no clear cluster. */
  unclustered: number;
  /** The first MEMBERS_LISTED of them, newest first. */
  unclusteredMembers: SuggestionMember[];
  /** Wall-clock milliseconds spent loading and clustering, shown on the page. */
  timings: { loadMs: number; clusterMs: number };
  /** True when the clustering of exactly these observations (same ids and revisions) came from the cache. */
  cached: boolean;
}

/**
 * The last few clusterings, keyed by the observations' ids and revisions and the options: clustering is
 * deterministic, so the same input gives the same clusters, and a researcher going back and forth between the
 * page and a form (or two researchers on the same filters) pays for it once. A new, coded, edited or deleted
 * observation changes the key.
 */
const CACHE_SIZE = 8;
const cache = new Map<string, Clustering>();

function cacheKey(observations: readonly CandidateObservation[], options: ClusterOptions): string {
  const hash = createHash('sha256').update(JSON.stringify(options));
  for (const o of observations) hash.update(`${o.id}:${o.revision};`);
  return hash.digest('hex');
}

function clusterWithCache(observations: readonly CandidateObservation[], options: ClusterOptions): { clustering: Clustering; cached: boolean } {
  const key = cacheKey(observations, options);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit); // most recently used last
    return { clustering: hit, cached: true };
  }
  const clustering = clusterTexts(observations.map(observationClusterText), options);
  cache.set(key, clustering);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return { clustering, cached: false };
}

/** The text the clustering reads: what the observer wrote (title, surprise) and what the model said. */
export const observationClusterText = (o: CandidateObservation) => `${o.title}\n${o.surprise}\n${o.assistantText}`;

function tally<T>(items: readonly T[], key: (item: T) => string): Array<{ key: string; count: number; item: T }> {
  const counts = new Map<string, { key: string; count: number; item: T }>();
  for (const item of items) {
    const k = key(item);
    const entry = counts.get(k) ?? { key: k, count: 0, item };
    entry.count++;
    counts.set(k, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/**
 * Clusters of uncoded observations that might be a behaviour the ethogram lacks: loads the candidates under the
 * filters (suggest.queries.ts), clusters their text (cluster-texts.ts) and presents each cluster with its top
 * terms, representative excerpts, members, providers and models. Runs in the request: 2,000 observations take
 * about 0.7 s of CPU to cluster (see README.md for the measured figures); repeated views hit a small cache.
 */
export async function findSuggestions(ctx: Ctx, filters: SuggestFilters, options: ClusterOptions = {}): Promise<Suggestions> {
  const loadStarted = performance.now();
  const { observations, truncated } = await loadCandidates(ctx, filters);
  const clusterStarted = performance.now();
  const { clustering, cached } = clusterWithCache(observations, options);
  const clusterMs = performance.now() - clusterStarted;
  const member = (i: number): SuggestionMember => {
    const o = observations[i]!;
    return { id: o.id, title: o.title, provider: o.provider, model: o.model };
  };
  const clusters = clustering.clusters.map((c, index): SuggestionCluster => {
    const memberObservations = c.members.map((i) => observations[i]!);
    return {
      number: index + 1,
      size: c.members.length,
      cohesion: c.cohesion,
      topTerms: c.topTerms,
      representatives: c.representatives.map((i) => {
        const o = observations[i]!;
        return { ...member(i), excerpt: excerptAround([o.assistantText, o.surprise, o.title], c.topTerms) };
      }),
      memberIds: memberObservations.map((o) => o.id),
      members: c.members.slice(0, MEMBERS_LISTED).map(member),
      providers: tally(memberObservations, (o) => o.provider).map((t) => ({ name: t.key, count: t.count })),
      models: tally(memberObservations, (o) => `${o.provider}\u0000${o.model}`).map((t) => ({ provider: t.item.provider, model: t.item.model, count: t.count })),
    };
  });
  return {
    considered: observations.length,
    truncated,
    limit: filters.limit,
    k: clustering.k,
    silhouette: clustering.silhouette,
    tried: clustering.tried,
    clusters,
    unclustered: clustering.remainder.length,
    unclusteredMembers: clustering.remainder.slice(0, MEMBERS_LISTED).map(member),
    timings: { loadMs: clusterStarted - loadStarted, clusterMs },
    cached,
  };
}
