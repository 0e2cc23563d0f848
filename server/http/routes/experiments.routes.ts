import express, { type Router } from 'express';
import { z } from 'zod';
import { conflict } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { createExperiment } from '../../../experiments/create-experiment.command.ts';
import { presentExperiment, presentRun } from '../../../experiments/experiment.presenter.ts';
import { experimentListSchema, linkedObservations, listExperiments, listRuns, requireExperiment, requireRun } from '../../../experiments/experiment.queries.ts';
import { linkObservation, unlinkObservation } from '../../../experiments/link-observation.command.ts';
import { requireModel } from '../../../experiments/models/model.queries.ts';
import { runExperiment } from '../../../experiments/run-experiment.command.ts';
import { techniqueJsonSchemas } from '../../../experiments/techniques/run-technique.ts';
import type { AppDeps } from '../../app-deps.ts';
import { jobRuntimeOf } from '../../jobs/job-runtime.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

const runNumber = (value: unknown) => parseOrThrow(z.coerce.number().int().min(1).max(1_000_000), value, 'The run number');

/**
 * Experiments under /api/v1 (experiments/README.md has the product's part):
 * - `GET /techniques`: each technique's summary, schema version and parameter/result JSON Schemas;
 * - `GET /experiments?model=&technique=&status=&behaviour=&observation=&page=`, `GET /experiments/:id` (anyone signed in);
 * - `POST /experiments` {title, hypothesis, modelId, technique, params, observationIds, run?, seed?} (researchers;
 *   201 with the first run queued unless `run: false`);
 * - `POST /experiments/:id/runs` {params?, seed?}: a new run beside the old ones (researchers; 201);
 * - `GET /experiments/:id/runs/:n` (with its result), `GET /experiments/:id/runs/:n/result.json` (the result
 *   document as a download); cancel a run with `POST /jobs/:jobId/cancel`;
 * - `POST /experiments/:id/observations` {observationId}, `DELETE /experiments/:id/observations/:observationId` (researchers).
 */
export function experimentsApi(deps: AppDeps): Router {
  const router = express.Router();
  const runtime = () => jobRuntimeOf(deps);

  router.get('/techniques', (req, res) => {
    authorize(req.auth.actor, 'experiment.list');
    res.json({ items: Object.entries(techniqueJsonSchemas()).map(([name, t]) => ({ name, summary: t.summary, schemaVersion: t.schemaVersion, params: t.params, result: t.result })) });
  });

  router.get('/experiments', async (req, res) => {
    authorize(req.auth.actor, 'experiment.list');
    const filters = parseOrThrow(experimentListSchema, req.query, 'The filters');
    res.json(await listExperiments(deps.db, filters));
  });

  router.post('/experiments', async (req, res) => {
    const created = await createExperiment(ctxOf(req, deps), req.body, runtime().handlers);
    if (created.jobId) runtime().changed(created.jobId);
    res.status(201).location(`/api/v1/experiments/${created.id}`).json(await experimentView(req, created.id));
  });

  async function experimentView(req: express.Request, id: string) {
    const experiment = await requireExperiment(deps.db, id);
    authorize(req.auth.actor, 'experiment.read', experiment);
    const [model, linked, runs] = await Promise.all([requireModel(deps.db, experiment.modelId), linkedObservations(deps.db, id), listRuns(deps.db, id)]);
    return presentExperiment(req.auth.actor, experiment, model, linked, runs);
  }

  router.get('/experiments/:id', async (req, res) => {
    res.json(await experimentView(req, parseId(req.params.id, 'That experiment')));
  });

  router.post('/experiments/:id/runs', async (req, res) => {
    const id = parseId(req.params.id, 'That experiment');
    const queued = await runExperiment(ctxOf(req, deps), id, req.body, runtime().handlers);
    runtime().changed(queued.job.id);
    res.status(201).location(`/api/v1/experiments/${id}/runs/${queued.number}`).json(presentRun(id, await requireRun(deps.db, id, queued.number)));
  });

  router.get('/experiments/:id/runs/:number', async (req, res) => {
    const id = parseId(req.params.id, 'That experiment');
    authorize(req.auth.actor, 'experiment.read', await requireExperiment(deps.db, id));
    res.json(presentRun(id, await requireRun(deps.db, id, runNumber(req.params.number))));
  });

  router.get('/experiments/:id/runs/:number/result.json', async (req, res) => {
    const id = parseId(req.params.id, 'That experiment');
    authorize(req.auth.actor, 'experiment.read', await requireExperiment(deps.db, id));
    const run = await requireRun(deps.db, id, runNumber(req.params.number));
    if (!run.result) throw conflict(`Run ${run.number} has no result yet (it is ${run.status}).`);
    res.attachment(`experiment-${id.slice(0, 8)}-run-${run.number}.json`).type('application/json').send(JSON.stringify(run.result, null, 2));
  });

  router.post('/experiments/:id/observations', async (req, res) => {
    const id = parseId(req.params.id, 'That experiment');
    await linkObservation(ctxOf(req, deps), id, req.body);
    res.status(201).json(await experimentView(req, id));
  });

  router.delete('/experiments/:id/observations/:observationId', async (req, res) => {
    const id = parseId(req.params.id, 'That experiment');
    await unlinkObservation(ctxOf(req, deps), id, parseId(req.params.observationId, 'That observation'));
    res.status(204).end();
  });

  return router;
}
