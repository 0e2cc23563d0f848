import { sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction, type Db } from '../../core/db.ts';
import { requireUser } from '../observation-edit.ts';
import { reviewedView, type ReviewedCodingView } from './accept-coding.command.ts';
import { keepDecision, lockProposal, type ProposalRow } from './review-decision.ts';

/**
 * Rejects a proposed coding, with an optional reason (kept in the event). The row stays, status rejected, so
 * classifier precision can count it; the proposal is kept as a revision. A proposal decided already is a 409.
 */
export async function rejectCoding(ctx: Ctx, codingId: string, reason = ''): Promise<ReviewedCodingView> {
  return inTransaction(ctx.db, async (tx) => rejectLocked(tx, ctx, await lockProposal(tx, codingId), reason));
}

export async function rejectLocked(tx: Db, ctx: Ctx, row: ProposalRow, reason: string): Promise<ReviewedCodingView> {
  const actor = requireUser(ctx, 'review codings');
  const now = ctx.now();
  await keepDecision(tx, actor, row, { reason: 'review-reject', event: 'coding.rejected', payload: reason ? { reason } : {} });
  await tx.execute(sql`UPDATE codings SET status = 'rejected', reviewed_by = ${actor.id}::uuid, reviewed_at = ${now.toISOString()}::timestamptz,
      revision = revision + 1 WHERE id = ${row.id}::uuid`);
  return reviewedView(tx, row.id, { id: actor.id, displayName: actor.displayName }, now);
}
