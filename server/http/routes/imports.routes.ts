import express, { type Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../../core/errors.ts';
import { authorize, can } from '../../../core/policy.ts';
import { presentImport } from '../../../observations/import.presenter.ts';
import { listMyImports, loadImport } from '../../../observations/import.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }).strip();

/**
 * Imports as JSON under /api/v1 (uploads are `POST /api/v1/imports`, in import-uploads.routes.ts):
 * `GET /imports` lists the caller's own, newest first; `GET /imports/:id` is one import's state (poll it, or
 * follow it live over the socket). Someone else's import is 404 (admins see every import).
 */
export function importsApi(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/imports', async (req, res) => {
    const { limit } = parseOrThrow(listQuery, req.query, 'The query');
    res.json({ items: await listMyImports(ctxOf(req, deps), limit) });
  });

  router.get('/imports/:id', async (req, res) => {
    const id = parseId(req.params.id, 'That import');
    authorize(req.auth.actor, 'import.list');
    const row = await loadImport(deps.db, id);
    if (!row || !can(req.auth.actor, 'import.read', { userId: row.userId })) throw notFound('That import');
    res.json(presentImport(row));
  });

  return router;
}
