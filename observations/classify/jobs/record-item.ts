import { and, eq, sql } from 'drizzle-orm';
import { inTransaction, type Db } from '../../../core/db.ts';
import { recordEvent } from '../../../core/history.ts';
import { codings } from '../../observation.schema.ts';
import { classificationItems } from '../classify.schema.ts';
import type { ItemResult } from './classifier-runner.ts';

export interface RecordContext {
  db: Db;
  now: Date;
  jobId: string;
  classifierId: string;
  ethogramVersionId: string;
  method: 'llm_judge' | 'classifier' | 'rule';
  behaviourIds: ReadonlyMap<string, string>;
  /** The job's creator: the coder of record of its proposals (and their reviewer when auto-accepted). */
  creatorId: string;
  autoAccept?: { minConfidence: number } | undefined;
}

/**
 * Writes one observation's proposals and marks its item done, in one transaction with an event. The item is
 * claimed first (`pending` -> `done`): if it is no longer pending (another worker finished it after this one's
 * claim lapsed, or a person's pause let a second worker in), nothing is written, so no observation is proposed
 * for twice by one job. Returns how many codings were written (null: the item was already done).
 */
export async function recordItemDone(ctx: RecordContext, observationId: string, result: ItemResult): Promise<{ proposed: number; accepted: number } | null> {
  return inTransaction(ctx.db, async (tx) => {
    const rows = result.proposals.filter((p) => ctx.behaviourIds.has(p.code));
    const accepted = rows.filter((p) => ctx.autoAccept && p.confidence !== null && p.confidence >= ctx.autoAccept.minConfidence).length;
    const outcome = { ...result.outcome, proposed: rows.length, accepted };
    const [claimed] = await tx
      .update(classificationItems)
      .set({ status: 'done', outcome, attempts: sql`${classificationItems.attempts} + 1`, finishedAt: ctx.now, error: null })
      .where(and(eq(classificationItems.jobId, ctx.jobId), eq(classificationItems.observationId, observationId), eq(classificationItems.status, 'pending')))
      .returning({ position: classificationItems.position });
    if (!claimed) return null;
    if (rows.length) {
      await tx.insert(codings).values(
        rows.map((p) => {
          const accept = !!ctx.autoAccept && p.confidence !== null && p.confidence >= ctx.autoAccept.minConfidence;
          return {
            observationId,
            ethogramVersionId: ctx.ethogramVersionId,
            behaviourId: ctx.behaviourIds.get(p.code)!,
            messageId: p.span?.messageId ?? null,
            partIndex: p.span?.partIndex ?? null,
            charStart: p.span?.charStart ?? null,
            charEnd: p.span?.charEnd ?? null,
            quote: p.span?.quote ?? null,
            coderId: ctx.creatorId,
            method: ctx.method,
            confidence: p.confidence,
            rationale: p.rationale.slice(0, 5000),
            status: accept ? ('accepted' as const) : ('proposed' as const),
            classifierId: ctx.classifierId,
            jobId: ctx.jobId,
            provenance: p.provenance,
            reviewedBy: accept ? ctx.creatorId : null,
            reviewedAt: accept ? ctx.now : null,
            createdAt: ctx.now,
          };
        }),
      );
    }
    await recordEvent(tx, {
      type: 'classification.item_done',
      entityType: 'observation',
      entityId: observationId,
      actorId: ctx.creatorId,
      payload: { jobId: ctx.jobId, classifierId: ctx.classifierId, proposed: rows.length, accepted },
    });
    return { proposed: rows.length, accepted };
  });
}

/** Marks one item failed with its reason (the job goes on); false when it was no longer pending. */
export async function recordItemFailed(ctx: RecordContext, observationId: string, error: { id: string; message: string }, outcome?: Record<string, unknown>): Promise<boolean> {
  return inTransaction(ctx.db, async (tx) => {
    const [claimed] = await tx
      .update(classificationItems)
      .set({ status: 'failed', error, outcome: outcome ?? null, attempts: sql`${classificationItems.attempts} + 1`, finishedAt: ctx.now })
      .where(and(eq(classificationItems.jobId, ctx.jobId), eq(classificationItems.observationId, observationId), eq(classificationItems.status, 'pending')))
      .returning({ position: classificationItems.position });
    if (!claimed) return false;
    await recordEvent(tx, {
      type: 'classification.item_failed',
      entityType: 'observation',
      entityId: observationId,
      actorId: ctx.creatorId,
      payload: { jobId: ctx.jobId, classifierId: ctx.classifierId, error: error.id },
    });
    return true;
  });
}
