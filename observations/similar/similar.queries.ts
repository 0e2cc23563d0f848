import { sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { rowsOf } from '../../core/db.ts';
import type { ObservationStatus } from '../observation.schema.ts';
import type { Transcript } from '../transcript.schema.ts';
import { transcriptFingerprint } from './fingerprint-pending.ts';
import { estimateSimilarity, type Fingerprint } from './minhash.ts';

/** An observation that looks like another (or like a draft), with the estimated share of shingles in common. */
export interface SimilarObservation {
  id: string;
  title: string;
  model: string;
  status: ObservationStatus;
  duplicateOf: string | null;
  observedAt: string;
  /** Estimated Jaccard similarity of the transcripts' word 3-shingles, 0 to 1. */
  similarity: number;
}

/** Below this estimated similarity a candidate is not offered ("this looks like ..." should mean it). */
export const DEFAULT_MIN_SIMILARITY = 0.5;

/**
 * Observations the actor may see whose transcripts look like the fingerprint's: candidates share a band hash
 * (GIN index on minhash_bands), then are ranked by the signature estimate; at most `limit`, most similar first.
 */
export async function findSimilarObservations(
  ctx: Ctx,
  print: Fingerprint,
  opts: { excludeId?: string; limit?: number; minSimilarity?: number } = {},
): Promise<SimilarObservation[]> {
  const limit = opts.limit ?? 5;
  const min = opts.minSimilarity ?? DEFAULT_MIN_SIMILARITY;
  const visible = ctx.actor.kind === 'user' ? sql`o.deleted_at IS NULL` : sql`o.deleted_at IS NULL AND o.visibility = 'public'`;
  const rows = rowsOf<{
    id: string; title: string; model: string; status: ObservationStatus; duplicate_of: string | null;
    observed_at: string | Date; minhash: number[] | string;
  }>(
    await ctx.db.execute(sql`SELECT o.id, o.title, o.model, o.status, o.duplicate_of, o.observed_at, o.minhash
      FROM observations o
      WHERE o.minhash_bands && ${`{${print.bands.join(',')}}`}::int[] AND ${visible}
        ${opts.excludeId ? sql`AND o.id <> ${opts.excludeId}::uuid` : sql``}
      LIMIT 500`),
  );
  return rows
    .map((r) => ({
      id: r.id,
      title: r.title,
      model: r.model,
      status: r.status,
      duplicateOf: r.duplicate_of,
      observedAt: new Date(r.observed_at).toISOString(),
      similarity: estimateSimilarity(print.signature, intArray(r.minhash)),
    }))
    .filter((r) => r.similarity >= min)
    .sort((a, b) => b.similarity - a.similarity || a.id.localeCompare(b.id))
    .slice(0, limit);
}

/** The stored fingerprint of an observation: null when not yet fingerprinted or when it has no words. */
export async function loadFingerprint(ctx: Ctx, id: string): Promise<Fingerprint | null> {
  const rows = rowsOf<{ minhash: number[] | string | null; minhash_bands: number[] | string | null }>(
    await ctx.db.execute(sql`SELECT minhash, minhash_bands FROM observations WHERE id = ${id}::uuid`),
  );
  const row = rows[0];
  if (!row || row.minhash === null || row.minhash_bands === null) return null;
  const signature = intArray(row.minhash);
  return signature.length === 0 ? null : { signature, bands: intArray(row.minhash_bands) };
}

/**
 * The fingerprint to find an observation's look-alikes with: the stored one, or the one its transcript gives while
 * the search indexer has not fingerprinted it yet (new observations wait for it), so the page someone lands on after
 * saving already lists them. Null when the transcript has no words.
 */
export async function lookAlikeFingerprint(ctx: Ctx, observation: { id: string; transcript: Transcript }): Promise<Fingerprint | null> {
  return (await loadFingerprint(ctx, observation.id)) ?? transcriptFingerprint(observation.transcript);
}

/** node-postgres and PGlite both parse int[] to arrays; a text form (`{1,2}`) is read too. */
function intArray(value: number[] | string): number[] {
  if (Array.isArray(value)) return value.map(Number);
  const inner = value.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map(Number) : [];
}
