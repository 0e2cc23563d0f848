import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import { hasRole } from '../../../accounts/actor.ts';
import { conflict, notFound } from '../../../core/errors.ts';
import { authorize, type Action, type ObservationRef } from '../../../core/policy.ts';
import { addTags } from '../../../observations/add-tags.command.ts';
import { createCoding } from '../../../observations/create-coding.command.ts';
import { deleteObservation } from '../../../observations/delete-observation.command.ts';
import {
  codingInputSchema,
  listFiltersSchema,
  observationInputSchema,
  observationPatchSchema,
  tagSchema,
  triageSchema,
} from '../../../observations/observation.input.ts';
import {
  getObservation,
  getObservationHistory,
  getRawPayload,
  listCodings,
  listDeletedObservations,
  listFilterOptions,
  listObservations,
  listTags,
  loadCodingRef,
  loadObservationRef,
} from '../../../observations/observation.queries.ts';
import { recordObservation } from '../../../observations/record-observation.command.ts';
import { BLIND_NOTICE, isBlindTo } from '../../../observations/review/blind.queries.ts';
import { removeTag } from '../../../observations/remove-tag.command.ts';
import { restoreObservation } from '../../../observations/restore-observation.command.ts';
import { triageObservation } from '../../../observations/triage-observation.command.ts';
import { updateObservation } from '../../../observations/update-observation.command.ts';
import { withdrawCoding } from '../../../observations/withdraw-coding.command.ts';
import type { AppDeps } from '../../app-deps.ts';
import { sendIdempotent } from '../idempotent.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

const tagsBodySchema = z.object({ tags: z.array(tagSchema).min(1, 'Send at least one tag.').max(30, 'At most 30 tags.') }).strict();
const codingListQuery = z.object({ includeWithdrawn: z.enum(['true', 'false', '1', '0']).optional() }).strip();

/**
 * Observations, their codings and tags: the JSON API under /api/v1. Every route parses, loads, authorizes
 * (core/policy.ts), runs a command or query and presents. Deleted observations are 404 except to admins;
 * members-only ones are 401 to anonymous visitors.
 */
export function observationsApi(deps: AppDeps): Router {
  const router = express.Router();

  /** Loads an observation's authorization facts and checks the action; deleted ones exist only for admins. */
  async function authorizeOn(req: Request, action: Action, opts: { deletedOk?: boolean } = {}): Promise<{ id: string; ref: ObservationRef }> {
    const id = parseId(req.params.id, 'That observation');
    const ref = await loadObservationRef(deps.db, id);
    if (!ref) throw notFound('That observation');
    if (ref.deletedAt && !(opts.deletedOk && hasRole(req.auth.actor, 'admin'))) throw notFound('That observation');
    authorize(req.auth.actor, action as 'observation.read', ref);
    return { id, ref };
  }

  router.get('/observations', async (req, res) => {
    authorize(req.auth.actor, 'observation.list');
    const filters = parseOrThrow(listFiltersSchema, req.query, 'The filters');
    res.json(await listObservations(ctxOf(req, deps), filters));
  });

  router.post('/observations', async (req, res) => {
    authorize(req.auth.actor, 'observation.create');
    const input = parseOrThrow(observationInputSchema, req.body ?? {}, 'The observation');
    await sendIdempotent(req, res, deps, async (ctx) => {
      const view = await recordObservation(ctx, input, { method: 'api', ...(req.rawBody !== undefined ? { raw: req.rawBody } : {}) });
      return { status: 201, body: view, headers: { Location: `/api/v1/observations/${view.id}` } };
    });
  });

  router.get('/observations/filter-options', async (req, res) => {
    authorize(req.auth.actor, 'observation.list');
    res.json(await listFilterOptions(ctxOf(req, deps)));
  });

  router.get('/trash/observations', async (req, res) => {
    authorize(req.auth.actor, 'trash.view');
    res.json({ data: await listDeletedObservations(ctxOf(req, deps)) });
  });

  router.get('/observations/:id', async (req, res) => {
    const { id } = await authorizeOn(req, 'observation.read', { deletedOk: true });
    const view = await getObservation(ctxOf(req, deps), id);
    if (!view) throw notFound('That observation');
    res.json(view);
  });

  router.get('/observations/:id/raw', async (req, res) => {
    const { id } = await authorizeOn(req, 'observation.read', { deletedOk: true });
    const raw = await getRawPayload(deps.db, id);
    if (!raw) throw notFound('That observation');
    res.set('X-Content-SHA256', raw.sha256);
    res.set('Content-Disposition', 'inline');
    res.type(looksLikeJson(raw.raw) ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8').send(raw.raw);
  });

  router.patch('/observations/:id', async (req, res) => {
    const patch = parseOrThrow(observationPatchSchema, req.body ?? {}, 'The edit');
    const { id } = await authorizeOn(req, 'observation.update');
    res.json(await updateObservation(ctxOf(req, deps), id, patch));
  });

  router.post('/observations/:id/triage', async (req, res) => {
    const input = parseOrThrow(triageSchema, req.body ?? {}, 'The triage');
    const { id } = await authorizeOn(req, 'observation.triage');
    res.json(await triageObservation(ctxOf(req, deps), id, input));
  });

  router.delete('/observations/:id', async (req, res) => {
    const { id } = await authorizeOn(req, 'observation.delete');
    await deleteObservation(ctxOf(req, deps), id);
    res.status(204).end();
  });

  router.post('/observations/:id/restore', async (req, res) => {
    const id = parseId(req.params.id, 'That observation');
    const ref = await loadObservationRef(deps.db, id);
    if (!ref) throw notFound('That observation');
    if (!hasRole(req.auth.actor, 'admin')) {
      if (ref.deletedAt) throw notFound('That observation');
      authorize(req.auth.actor, 'observation.restore', ref);
    }
    if (!ref.deletedAt) throw conflict('This observation is not deleted, so there is nothing to restore.');
    res.json(await restoreObservation(ctxOf(req, deps), id));
  });

  router.get('/observations/:id/history', async (req, res) => {
    const { id } = await authorizeOn(req, 'observation.history', { deletedOk: true });
    res.json(await getObservationHistory(ctxOf(req, deps), id));
  });

  router.get('/observations/:id/codings', async (req, res) => {
    const { id } = await authorizeOn(req, 'observation.read', { deletedOk: true });
    const q = parseOrThrow(codingListQuery, req.query, 'The query');
    const includeWithdrawn = q.includeWithdrawn === 'true' || q.includeWithdrawn === '1';
    const [data, blind] = await Promise.all([listCodings(ctxOf(req, deps), id, { includeWithdrawn }), isBlindTo(deps.db, req.auth.actor, id)]);
    res.json({ data, ...(blind ? { codingsHidden: BLIND_NOTICE } : {}) });
  });

  router.post('/observations/:id/codings', async (req, res) => {
    const input = parseOrThrow(codingInputSchema, req.body ?? {}, 'The coding');
    const { id } = await authorizeOn(req, 'coding.create');
    await sendIdempotent(req, res, deps, async (ctx) => {
      const view = await createCoding(ctx, id, input);
      return { status: 201, body: view, headers: { Location: `/api/v1/codings/${view.id}` } };
    });
  });

  router.delete('/codings/:id', async (req, res) => {
    const id = parseId(req.params.id, 'That coding');
    const ref = await loadCodingRef(deps.db, id);
    if (!ref) throw notFound('That coding');
    if (ref.observation.deletedAt && !hasRole(req.auth.actor, 'admin')) throw notFound('That coding');
    authorize(req.auth.actor, 'observation.read', ref.observation);
    authorize(req.auth.actor, 'coding.withdraw', { coderId: ref.coderId });
    res.json(await withdrawCoding(ctxOf(req, deps), id));
  });

  router.get('/tags', async (req, res) => {
    authorize(req.auth.actor, 'observation.list');
    res.json({ data: await listTags(ctxOf(req, deps)) });
  });

  router.post('/observations/:id/tags', async (req, res) => {
    const { tags } = parseOrThrow(tagsBodySchema, req.body ?? {}, 'The tags');
    const { id } = await authorizeOn(req, 'observation.tag');
    res.json({ tags: await addTags(ctxOf(req, deps), id, tags) });
  });

  router.delete('/observations/:id/tags/:tag', async (req, res) => {
    const tag = parseOrThrow(tagSchema, req.params.tag, 'The tag');
    const { id } = await authorizeOn(req, 'observation.tag');
    res.json({ tags: await removeTag(ctxOf(req, deps), id, tag) });
  });

  return router;
}

function looksLikeJson(text: string): boolean {
  const t = text.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
