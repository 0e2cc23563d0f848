import express, { type Router } from 'express';
import { authorize } from '../../../core/policy.ts';
import { listDeletedObservations } from '../../../observations/observation.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../../http/request-context.ts';

/** `GET /admin/trash`: deleted observations, each with a restore button (admins). */
export function trashPage(deps: AppDeps): Router {
  const router = express.Router();
  router.get('/admin/trash', async (req, res) => {
    authorize(req.auth.actor, 'trash.view');
    res.render('pages/trash', { title: 'Trash', items: await listDeletedObservations(ctxOf(req, deps)) });
  });
  return router;
}
