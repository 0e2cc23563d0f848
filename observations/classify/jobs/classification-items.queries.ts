import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../../core/db.ts';
import { behaviours } from '../../../ethograms/ethogram.schema.ts';
import { codings, observations } from '../../observation.schema.ts';
import type { Transcript } from '../../transcript.schema.ts';
import { classificationItems } from '../classify.schema.ts';

/** Positions and observation ids of a job's pending items, in order. */
export async function pendingItemIds(db: Db, jobId: string): Promise<string[]> {
  const rows = await db
    .select({ observationId: classificationItems.observationId })
    .from(classificationItems)
    .where(and(eq(classificationItems.jobId, jobId), eq(classificationItems.status, 'pending')))
    .orderBy(asc(classificationItems.position));
  return rows.map((r) => r.observationId);
}

export interface ItemObservation {
  id: string;
  transcript: Transcript;
  stopReason: string | undefined;
  deleted: boolean;
}

/** The observations behind some items (transcripts and stop reasons). */
export async function itemObservations(db: Db, ids: readonly string[]): Promise<Map<string, ItemObservation>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: observations.id, transcript: observations.transcript, provenance: observations.provenance, deletedAt: observations.deletedAt })
    .from(observations)
    .where(inArray(observations.id, [...ids]));
  return new Map(
    rows.map((r) => {
      const stop = (r.provenance as unknown as Record<string, unknown>).stopReason;
      return [r.id, { id: r.id, transcript: r.transcript, stopReason: typeof stop === 'string' ? stop : undefined, deleted: r.deletedAt !== null }];
    }),
  );
}

export interface ItemTotals {
  total: number;
  done: number;
  failed: number;
  pending: number;
  proposed: number;
  accepted: number;
  droppedQuotes: number;
  rejectedFindings: number;
  unclear: number;
  unmapped: number;
  inputTokens: number;
  outputTokens: number;
  /** Summed estimated cost; null when some item's cost was unknown (then `costUsdKnownPart` has the known part). */
  costUsd: number | null;
  costUsdKnownPart: number;
}

/** A job's items summed from the database (right across pauses, resumes and workers). */
export async function itemTotals(db: Db, jobId: string): Promise<ItemTotals> {
  const num = (key: string) => sql<number>`coalesce(sum((${classificationItems.outcome}->>${key})::numeric), 0)::float8`;
  const [row] = await db
    .select({
      total: sql<number>`count(*)::int`,
      done: sql<number>`count(*) FILTER (WHERE ${classificationItems.status} = 'done')::int`,
      failed: sql<number>`count(*) FILTER (WHERE ${classificationItems.status} = 'failed')::int`,
      proposed: num('proposed'),
      accepted: num('accepted'),
      droppedQuotes: num('droppedQuotes'),
      rejectedFindings: num('rejectedFindings'),
      unclear: num('unclear'),
      unmapped: num('unmapped'),
      inputTokens: num('inputTokens'),
      outputTokens: num('outputTokens'),
      costKnown: num('costUsd'),
      costUnknown: sql<number>`count(*) FILTER (WHERE ${classificationItems.outcome} ? 'costUsd' AND ${classificationItems.outcome}->'costUsd' = 'null'::jsonb)::int`,
    })
    .from(classificationItems)
    .where(eq(classificationItems.jobId, jobId));
  const r = row!;
  const n = (v: unknown) => Number(v ?? 0);
  const costKnownPart = Math.round(n(r.costKnown) * 1e6) / 1e6;
  return {
    total: n(r.total),
    done: n(r.done),
    failed: n(r.failed),
    pending: n(r.total) - n(r.done) - n(r.failed),
    proposed: n(r.proposed),
    accepted: n(r.accepted),
    droppedQuotes: n(r.droppedQuotes),
    rejectedFindings: n(r.rejectedFindings),
    unclear: n(r.unclear),
    unmapped: n(r.unmapped),
    inputTokens: n(r.inputTokens),
    outputTokens: n(r.outputTokens),
    costUsd: n(r.costUnknown) > 0 ? null : costKnownPart,
    costUsdKnownPart: costKnownPart,
  };
}

/** Codings a job proposed, counted by behaviour code. */
export async function proposalsByBehaviour(db: Db, jobId: string): Promise<Record<string, number>> {
  const rows = await db
    .select({ code: behaviours.code, n: sql<number>`count(*)::int` })
    .from(codings)
    .innerJoin(behaviours, eq(behaviours.id, codings.behaviourId))
    .where(eq(codings.jobId, jobId))
    .groupBy(behaviours.code)
    .orderBy(sql`count(*) DESC`, behaviours.code);
  return Object.fromEntries(rows.map((r) => [r.code, Number(r.n)]));
}

export interface ItemFailure {
  observationId: string;
  title: string;
  position: number;
  error: { id: string; message: string };
}

/** A job's failed items with their reasons, in job order (at most `limit`). */
export async function itemFailures(db: Db, jobId: string, limit = 100): Promise<ItemFailure[]> {
  const rows = await db
    .select({ observationId: classificationItems.observationId, title: observations.title, position: classificationItems.position, error: classificationItems.error })
    .from(classificationItems)
    .innerJoin(observations, eq(observations.id, classificationItems.observationId))
    .where(and(eq(classificationItems.jobId, jobId), eq(classificationItems.status, 'failed')))
    .orderBy(asc(classificationItems.position))
    .limit(limit);
  return rows.map((r) => ({ observationId: r.observationId, title: r.title, position: r.position, error: r.error ?? { id: 'internal', message: 'No reason was recorded.' } }));
}
