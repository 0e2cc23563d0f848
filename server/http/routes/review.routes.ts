import express, { type Request, type Router } from 'express';
import { AppError, forbidden, notFound } from '../../../core/errors.ts';
import { authorize, can } from '../../../core/policy.ts';
import { loadCodingRef } from '../../../observations/observation.queries.ts';
import { acceptCoding } from '../../../observations/review/accept-coding.command.ts';
import { isBlindTo } from '../../../observations/review/blind.queries.ts';
import { bulkReview } from '../../../observations/review/bulk-review.command.ts';
import { editCoding } from '../../../observations/review/edit-coding.command.ts';
import { reopenCoding } from '../../../observations/review/reopen-coding.command.ts';
import { rejectCoding } from '../../../observations/review/reject-coding.command.ts';
import { bulkReviewInputSchema, editInputSchema, rejectInputSchema, reviewQueueFiltersSchema } from '../../../observations/review/review.input.ts';
import { listReviewQueue } from '../../../observations/review/review.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

/** Why a reviewer coding an observation blind may not decide on others' codings of it. */
export const BLIND_REVIEW_REFUSAL = "You are coding this observation blind: submit your coding before reviewing others' codings of it.";

/**
 * Checks the actor may review the coding: it exists on an observation that is not deleted (else 404), the actor
 * may review codings of that observation (researchers), and they are not coding it blind (others' codings are
 * hidden from them until they submit). Shared by the API and the review page.
 */
export async function authorizeReview(deps: AppDeps, req: Request, codingId: string): Promise<{ observationId: string }> {
  const ref = await loadCodingRef(deps.db, codingId);
  if (!ref || ref.observation.deletedAt) throw notFound('That coding');
  authorize(req.auth.actor, 'observation.read', ref.observation);
  authorize(req.auth.actor, 'coding.review', ref.observation);
  const actor = req.auth.actor;
  if (actor.kind === 'user' && ref.coderId !== actor.id) {
    const blindAssignmentOpen = await isBlindTo(deps.db, actor, ref.observationId);
    if (!can(actor, 'coding.seeOthers', { blindAssignmentOpen })) throw forbidden(BLIND_REVIEW_REFUSAL);
  }
  return { observationId: ref.observationId };
}

/**
 * The review queue API: proposed codings (from classifiers) waiting for a person, and the decisions on them:
 * accept, reject (with a reason), edit-and-accept, undo of one's own recent decision (reopen), and bulk accept or
 * reject of a selection. A proposal decided
 * already is a 409 naming who decided it.
 */
export function reviewApi(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/review', async (req, res) => {
    authorize(req.auth.actor, 'coding.reviewQueue');
    const filters = parseOrThrow(reviewQueueFiltersSchema, req.query, 'The filters');
    res.json(await listReviewQueue(ctxOf(req, deps), filters));
  });

  router.post('/codings/:id/accept', async (req, res) => {
    const id = parseId(req.params.id, 'That coding');
    await authorizeReview(deps, req, id);
    res.json(await acceptCoding(ctxOf(req, deps), id));
  });

  router.post('/codings/:id/reject', async (req, res) => {
    const id = parseId(req.params.id, 'That coding');
    const { reason } = parseOrThrow(rejectInputSchema, req.body ?? {}, 'The rejection');
    await authorizeReview(deps, req, id);
    res.json(await rejectCoding(ctxOf(req, deps), id, reason));
  });

  router.post('/codings/:id/reopen', async (req, res) => {
    const id = parseId(req.params.id, 'That coding');
    await authorizeReview(deps, req, id);
    res.json(await reopenCoding(ctxOf(req, deps), id));
  });

  router.patch('/codings/:id', async (req, res) => {
    const id = parseId(req.params.id, 'That coding');
    const input = parseOrThrow(editInputSchema, req.body ?? {}, 'The edit');
    await authorizeReview(deps, req, id);
    res.json(await editCoding(ctxOf(req, deps), id, input));
  });

  router.post('/review/bulk', async (req, res) => {
    authorize(req.auth.actor, 'coding.reviewQueue');
    const input = parseOrThrow(bulkReviewInputSchema, req.body ?? {}, 'The bulk decision');
    const result = await bulkReview(ctxOf(req, deps), input, async (codingId) => {
      try {
        await authorizeReview(deps, req, codingId);
        return null;
      } catch (err) {
        if (err instanceof AppError && (err.id === 'not_found' || err.id === 'forbidden')) return err.message;
        throw err;
      }
    });
    res.json(result);
  });

  return router;
}
