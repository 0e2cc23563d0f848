import { sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction, type Db } from '../../core/db.ts';
import { notFound } from '../../core/errors.ts';
import { requireUser } from '../observation-edit.ts';
import { getCoding } from '../observation.queries.ts';
import type { CodingView, PersonView } from '../observation.presenter.ts';
import { keepDecision, lockProposal, markObservationCoded, type ProposalRow } from './review-decision.ts';

/** A coding just reviewed: the coding as the API shows it, and who decided when. */
export type ReviewedCodingView = CodingView & { reviewedBy: PersonView; reviewedAt: string };

/**
 * Accepts a proposed coding as it stands: status accepted, reviewed by the actor now. The proposal is kept as a
 * revision and the event recorded in the same transaction; a proposal decided already is a 409.
 */
export async function acceptCoding(ctx: Ctx, codingId: string): Promise<ReviewedCodingView> {
  return inTransaction(ctx.db, async (tx) => acceptLocked(tx, ctx, await lockProposal(tx, codingId)));
}

/** Accepts an already locked proposal (also used by bulk review, one row at a time in one transaction). */
export async function acceptLocked(tx: Db, ctx: Ctx, row: ProposalRow): Promise<ReviewedCodingView> {
  const actor = requireUser(ctx, 'review codings');
  const now = ctx.now();
  await keepDecision(tx, actor, row, { reason: 'review-accept', event: 'coding.accepted' });
  await tx.execute(sql`UPDATE codings SET status = 'accepted', reviewed_by = ${actor.id}::uuid, reviewed_at = ${now.toISOString()}::timestamptz,
      revision = revision + 1 WHERE id = ${row.id}::uuid`);
  await markObservationCoded(tx, row.observation_id, now);
  return reviewedView(tx, row.id, { id: actor.id, displayName: actor.displayName }, now);
}

export async function reviewedView(db: Db, codingId: string, reviewer: PersonView, at: Date): Promise<ReviewedCodingView> {
  const view = await getCoding(db, codingId);
  if (!view) throw notFound('That coding');
  return { ...view, reviewedBy: reviewer, reviewedAt: at.toISOString() };
}
