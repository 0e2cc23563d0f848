import type { Ctx } from '../../core/context.ts';
import { inTransaction } from '../../core/db.ts';
import { AppError } from '../../core/errors.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { acceptLocked } from './accept-coding.command.ts';
import { rejectLocked } from './reject-coding.command.ts';
import { BULK_LIMIT, reviewQueueFiltersSchema, type BulkReviewInput } from './review.input.ts';
import { lockProposal } from './review-decision.ts';
import { reviewQueueIds } from './review.queries.ts';

export interface BulkReviewResult {
  action: 'accept' | 'reject';
  /** Ids decided by this request. */
  decided: string[];
  /** Ids left as they were, with the reason (decided meanwhile by someone else, withdrawn, not found). */
  skipped: { id: string; reason: string }[];
}

/**
 * Accepts or rejects a selection of proposals at once: listed ids, or every proposal matching queue filters (at
 * most BULK_LIMIT, oldest first). Each proposal is decided as a single accept or reject would be (revision and
 * event each), all in one transaction; proposals decided meanwhile by someone else are skipped and reported,
 * not overwritten. `authorizeEach` is the route's check of each proposal: null to go on, or why it is skipped.
 */
export async function bulkReview(
  ctx: Ctx,
  input: BulkReviewInput,
  authorizeEach: (codingId: string) => Promise<string | null>,
): Promise<BulkReviewResult> {
  const ids = input.ids ?? (await reviewQueueIds(ctx, parseOrThrow(reviewQueueFiltersSchema, input.filter ?? {}, 'The filter'), BULK_LIMIT));
  const unique = [...new Set(ids)];
  const result: BulkReviewResult = { action: input.action, decided: [], skipped: [] };
  const allowed: string[] = [];
  for (const id of unique) {
    const refusal = await authorizeEach(id);
    if (refusal) result.skipped.push({ id, reason: refusal });
    else allowed.push(id);
  }
  await inTransaction(ctx.db, async (tx) => {
    for (const id of allowed) {
      try {
        // A savepoint per proposal: one that cannot be decided leaves the others' decisions intact.
        await inTransaction(tx, async (sp) => {
          const row = await lockProposal(sp, id);
          if (input.action === 'accept') await acceptLocked(sp, ctx, row);
          else await rejectLocked(sp, ctx, row, input.reason);
        });
        result.decided.push(id);
      } catch (err) {
        if (!(err instanceof AppError) || (err.id !== 'conflict' && err.id !== 'not_found')) throw err;
        result.skipped.push({ id, reason: err.message });
      }
    }
  });
  return result;
}
