import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../../core/errors.ts';
import { cancelJob, pauseJob, resumeJob } from '../../../core/jobs/control-job.command.ts';
import { listJobs, loadJob } from '../../../core/jobs/job.queries.ts';
import { presentJob } from '../../../core/jobs/job.presenter.ts';
import { jobStatuses } from '../../../core/jobs/job.schema.ts';
import { authorize } from '../../../core/policy.ts';
import { createClassificationJob } from '../../../observations/classify/jobs/create-classification-job.command.ts';
import { loadObservationRef } from '../../../observations/observation.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { jobRuntimeOf } from '../../jobs/job-runtime.ts';
import { loadJobView } from '../../jobs/job-views.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

export const jobListQuerySchema = z
  .object({
    kind: z.string().trim().max(50).optional().transform((v) => v || undefined),
    status: z.enum(jobStatuses).or(z.literal('')).optional().transform((v) => v || undefined),
    mine: z.enum(['true', 'false', '']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strip();

/**
 * Background jobs and classification jobs as JSON under /api/v1:
 * - `POST /classification-jobs` {classifierId, observationIds | filters, autoAccept?} starts a classification job
 *   (201 with the job; researchers; one observation needs `classification.run` on it, more `classification.runMany`);
 * - `GET /jobs` (newest first; `kind`, `status`, `mine`, `limit`), `GET /jobs/:id` (with `details`: a
 *   classification job's totals, failed items with reasons, proposals per behaviour);
 * - `POST /jobs/:id/cancel|pause|resume` (the job's creator or an admin; 409 with a message on a finished job).
 */
export function jobsApi(deps: AppDeps): Router {
  const router = express.Router();
  const runtime = () => jobRuntimeOf(deps);

  router.post('/classification-jobs', async (req, res) => {
    await authorizeClassification(req, deps);
    const job = await createClassificationJob(ctxOf(req, deps), req.body, { handlers: runtime().handlers });
    runtime().changed(job.id);
    const view = await loadJobView(deps.db, job.id, runtime().handlers);
    res.status(201).location(`/api/v1/jobs/${job.id}`).json(view);
  });

  router.get('/jobs', async (req, res) => {
    const actor = req.auth.actor;
    authorize(actor, 'job.read', { createdBy: actor.kind === 'user' ? actor.id : '' });
    const q = parseOrThrow(jobListQuerySchema, req.query, 'The query');
    const rows = await listJobs(deps.db, { kind: q.kind, status: q.status, createdBy: q.mine === 'true' && actor.kind === 'user' ? actor.id : undefined, limit: q.limit });
    res.json({ items: rows.map((row) => presentJob(row, runtime().handlers)) });
  });

  router.get('/jobs/:id', async (req, res) => {
    const id = parseId(req.params.id, 'That job');
    const row = await loadJob(deps.db, id);
    if (!row) throw notFound('That job');
    authorize(req.auth.actor, 'job.read', row);
    res.json(await loadJobView(deps.db, id, runtime().handlers, { details: true }));
  });

  const controls = { cancel: cancelJob, pause: pauseJob, resume: resumeJob } as const;
  for (const [verb, command] of Object.entries(controls)) {
    router.post(`/jobs/:id/${verb}`, async (req, res) => {
      const id = parseId(req.params.id, 'That job');
      const row = await loadJob(deps.db, id);
      if (!row) throw notFound('That job');
      authorize(req.auth.actor, 'job.read', row);
      authorize(req.auth.actor, 'job.control', row);
      await command(ctxOf(req, deps), id);
      runtime().changed(id);
      res.json(await loadJobView(deps.db, id, runtime().handlers));
    });
  }

  return router;
}

/**
 * Classifying one observation needs `classification.run` on it (it must be visible to the actor); more, or a
 * filter, needs `classification.runMany`. Unknown observations are the command's 422, after this check.
 */
export async function authorizeClassification(req: Request, deps: AppDeps): Promise<void> {
  const body = (req.body ?? {}) as { observationIds?: unknown; filters?: unknown };
  const ids = Array.isArray(body.observationIds) ? body.observationIds : null;
  if (ids && ids.length === 1 && body.filters === undefined && typeof ids[0] === 'string' && z.string().uuid().safeParse(ids[0]).success) {
    const ref = await loadObservationRef(deps.db, ids[0]);
    if (ref && !ref.deletedAt) {
      authorize(req.auth.actor, 'classification.run', ref);
      return;
    }
  }
  authorize(req.auth.actor, 'classification.runMany');
}
