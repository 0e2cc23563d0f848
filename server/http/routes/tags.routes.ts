import express, { type Router } from 'express';
import { z } from 'zod';
import type { Actor } from '../../../accounts/actor.ts';
import type { Ctx } from '../../../core/context.ts';
import { AppError, notFound } from '../../../core/errors.ts';
import { authorize, can } from '../../../core/policy.ts';
import { bulkTag, bulkTagSchema } from '../../../observations/bulk-tag.command.ts';
import { loadObservationRefs, suggestTags } from '../../../observations/tag-suggestions.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseOrThrow } from '../validate.ts';

const suggestQuery = z.object({
  prefix: z.string().max(50, 'prefix is at most 50 characters').default(''),
  limit: z.coerce.number().int('limit must be a whole number').min(1, 'limit must be 1 to 50').max(50, 'limit must be 1 to 50').default(10),
});

/**
 * Loads every selected observation and checks the actor may tag each one, before anything is written: unknown
 * (or deleted) ids are 404 naming how many, one the actor may not tag is 403 naming it. Used by the API and the
 * list page's bulk form alike.
 */
export async function authorizeBulkTagging(ctx: Ctx, actor: Actor, ids: readonly string[]): Promise<void> {
  authorize(actor, 'observation.list');
  const refs = await loadObservationRefs(ctx, ids);
  const missing = ids.filter((id) => !refs.get(id) || refs.get(id)!.ref.deletedAt);
  if (missing.length > 0) throw notFound(missing.length === 1 ? 'One of the selected observations' : `${missing.length} of the selected observations`);
  for (const id of ids) {
    const { ref, title } = refs.get(id)!;
    if (!can(actor, 'observation.read', ref)) throw notFound('One of the selected observations');
    if (!can(actor, 'observation.tag', ref)) {
      if (actor.kind === 'anonymous') throw new AppError('unauthenticated', 'Sign in to tag observations.');
      throw new AppError('forbidden', `You may not tag "${title}": contributors tag their own observations, researchers any. Nothing was changed.`);
    }
  }
}

/** Tag autocomplete and bulk tagging under /api/v1. */
export function tagsApi(deps: AppDeps): Router {
  const router = express.Router();

  /** `GET /api/v1/tags/suggest?prefix=ref&limit=10`: tags in use starting with the prefix, most used first. */
  router.get('/tags/suggest', async (req, res) => {
    authorize(req.auth.actor, 'observation.list');
    const q = parseOrThrow(suggestQuery, req.query, 'The query');
    res.json({ data: await suggestTags(ctxOf(req, deps), q.prefix, q.limit) });
  });

  /** `POST /api/v1/observations/bulk-tags` {ids, add, remove}: all or nothing. */
  router.post('/observations/bulk-tags', async (req, res) => {
    if (req.auth.actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in to tag observations.');
    const input = parseOrThrow(bulkTagSchema, req.body ?? {}, 'The bulk tagging');
    const ctx = ctxOf(req, deps);
    await authorizeBulkTagging(ctx, req.auth.actor, [...new Set(input.ids)]);
    res.json(await bulkTag(ctx, input));
  });

  return router;
}
