import express, { type Router } from 'express';
import { notFound } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { loadObservationRef } from '../../../observations/observation.queries.ts';
import { fingerprintDraft } from '../../../observations/similar/draft-fingerprint.ts';
import { findSimilarObservations, loadFingerprint } from '../../../observations/similar/similar.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseId } from '../validate.ts';

/**
 * Near-duplicates (observations/similar/): what a draft transcript looks like before it is saved, and what an
 * observation looks like. Answers `{ similar: [...] }`, most similar first; `fingerprinted: false` while the
 * background indexer has not fingerprinted the observation yet.
 */
export function similarApi(deps: AppDeps): Router {
  const router = express.Router();

  router.post('/observations/similar', async (req, res) => {
    authorize(req.auth.actor, 'observation.create');
    const { print, excludeId } = fingerprintDraft(req.body ?? {});
    const similar = print ? await findSimilarObservations(ctxOf(req, deps), print, excludeId ? { excludeId } : {}) : [];
    res.json({ similar });
  });

  router.get('/observations/:id/similar', async (req, res) => {
    const id = parseId(req.params.id, 'That observation');
    const ref = await loadObservationRef(deps.db, id);
    if (!ref) throw notFound('That observation');
    authorize(req.auth.actor, 'observation.read', ref);
    const ctx = ctxOf(req, deps);
    const print = await loadFingerprint(ctx, id);
    res.json({ fingerprinted: print !== null, similar: print ? await findSimilarObservations(ctx, print, { excludeId: id }) : [] });
  });

  return router;
}
