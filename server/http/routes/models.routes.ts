import express, { type Router } from 'express';
import { authorize } from '../../../core/policy.ts';
import { checkModel } from '../../../experiments/models/check-model.command.ts';
import { presentModel } from '../../../experiments/models/model.presenter.ts';
import { listModels, requireModel } from '../../../experiments/models/model.queries.ts';
import { registerModel } from '../../../experiments/models/register-model.command.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseId } from '../validate.ts';

/**
 * Registered model folders under /api/v1 (experiments run on these):
 * - `GET /models` (anyone signed in), `GET /models/:id`;
 * - `POST /models` {path, name} (admins; 201): the folder is checked and its weights hashed, or refused (422) with the reason;
 * - `POST /models/:id/check` (admins): checks the folder again (ready, missing, changed, invalid).
 */
export function modelsApi(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/models', async (req, res) => {
    authorize(req.auth.actor, 'model.list');
    res.json({ items: (await listModels(deps.db)).map(presentModel) });
  });

  router.get('/models/:id', async (req, res) => {
    authorize(req.auth.actor, 'model.list');
    res.json(presentModel(await requireModel(deps.db, parseId(req.params.id, 'That model'))));
  });

  router.post('/models', async (req, res) => {
    const { id } = await registerModel(ctxOf(req, deps), req.body);
    res.status(201).location(`/api/v1/models/${id}`).json(presentModel(await requireModel(deps.db, id)));
  });

  router.post('/models/:id/check', async (req, res) => {
    const id = parseId(req.params.id, 'That model');
    const check = await checkModel(ctxOf(req, deps), id);
    res.json({ ...check, model: presentModel(await requireModel(deps.db, id)) });
  });

  return router;
}
