import express, { type Request, type Router } from 'express';
import { conflict, notFound } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { archiveClassifier } from '../../../observations/classify/classifiers/archive-classifier.command.ts';
import { createClassifierInput, listClassifiersInput, updateClassifierInput } from '../../../observations/classify/classifiers/classifier.input.ts';
import { presentClassifier, presentTraining } from '../../../observations/classify/classifiers/classifier.presenter.ts';
import { findClassifierWithContext, findOpenTrainingJob, listClassifiers, type ClassifierWithContext } from '../../../observations/classify/classifiers/classifier.queries.ts';
import { createClassifier } from '../../../observations/classify/classifiers/create-classifier.command.ts';
import { ensureStarterRulesClassifier } from '../../../observations/classify/classifiers/starter-rules-classifier.ts';
import { TRAIN_OFFLINE_JOB } from '../../../observations/classify/classifiers/train-offline.job.ts';
import { enqueueJob } from '../../../core/jobs/enqueue-job.command.ts';
import { offlineSettingsOf } from '../../../observations/classify/classifiers/classifier-settings.ts';
import { jobRuntimeOf } from '../../jobs/job-runtime.ts';
import { updateClassifier } from '../../../observations/classify/classifiers/update-classifier.command.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

/**
 * Classifiers as JSON under /api/v1 (researchers and admins): list (by kind; archived on request), create, read,
 * edit, archive, and train an offline classifier. Judge settings name the key's environment variable; a
 * classifier's status says whether it is set on the server, never its value.
 */
export function classifiersApi(deps: AppDeps): Router {
  const router = express.Router();
  const env = deps.judgeEnv ?? {};

  router.get('/classifiers', async (req, res) => {
    authorize(req.auth.actor, 'classifier.list');
    const filter = parseOrThrow(listClassifiersInput, req.query, 'The query');
    await provisionStarterRules(req, deps);
    res.json({ data: (await listClassifiers(deps.db, filter)).map((c) => presentClassifier(c, env)) });
  });

  router.post('/classifiers', async (req, res) => {
    authorize(req.auth.actor, 'classifier.manage');
    const input = parseOrThrow(createClassifierInput, req.body ?? {}, 'The classifier');
    const row = await createClassifier(ctxOf(req, deps), input);
    res.status(201).location(`/api/v1/classifiers/${row.id}`).json(presentClassifier((await findClassifierWithContext(deps.db, row.id))!, env));
  });

  router.get('/classifiers/:id', async (req, res) => {
    const item = await loadReadable(req, deps);
    res.json(presentClassifier(item, env));
  });

  router.patch('/classifiers/:id', async (req, res) => {
    const item = await loadReadable(req, deps);
    authorize(req.auth.actor, 'classifier.manage');
    const input = parseOrThrow(updateClassifierInput, req.body ?? {}, 'The classifier');
    await updateClassifier(ctxOf(req, deps), item.classifier.id, input);
    res.json(presentClassifier((await findClassifierWithContext(deps.db, item.classifier.id))!, env));
  });

  router.post('/classifiers/:id/archive', async (req, res) => {
    const item = await loadReadable(req, deps);
    authorize(req.auth.actor, 'classifier.manage');
    await archiveClassifier(ctxOf(req, deps), item.classifier.id);
    res.json(presentClassifier((await findClassifierWithContext(deps.db, item.classifier.id))!, env));
  });

  router.post('/classifiers/:id/train', async (req, res) => {
    const item = await loadReadable(req, deps);
    authorize(req.auth.actor, 'classifier.manage');
    const { job, alreadyQueued } = await requestTraining(req, deps, item);
    res
      .status(202)
      .location(`/api/v1/jobs/${job.id}`)
      .json({ job: { id: job.id, status: job.status, url: `/api/v1/jobs/${job.id}`, page: `/jobs/${job.id}` }, alreadyQueued });
  });

  return router;
}

/** A classifier the actor may see (researchers and admins); 404 when there is none with that id. */
export async function loadReadable(req: Request, deps: AppDeps): Promise<ClassifierWithContext> {
  const id = parseId(req.params.id, 'That classifier');
  authorize(req.auth.actor, 'classifier.list');
  const item = await findClassifierWithContext(deps.db, id);
  if (!item) throw notFound('That classifier');
  return item;
}

/** Makes the starter "Rule detectors" classifier on first look, when boot could not (no account existed yet). */
export async function provisionStarterRules(req: Request, deps: AppDeps): Promise<void> {
  if (!deps.config.loadStarter || req.auth.actor.kind !== 'user') return;
  await ensureStarterRulesClassifier(deps.db, deps.now, req.auth.actor.id);
}

/**
 * Starts training an offline classifier as a background job (kind `train-offline`), or answers with the one
 * already queued or running for it: one training at a time. Refuses other kinds and archived classifiers
 * (conflict) before anything is queued.
 */
export async function requestTraining(req: Request, deps: AppDeps, item: ClassifierWithContext): Promise<{ job: { id: string; status: string }; alreadyQueued: boolean }> {
  const c = item.classifier;
  if (c.kind !== 'offline') throw conflict(`"${c.name}" is not an offline classifier; only offline classifiers are trained.`);
  if (c.archivedAt) throw conflict(`"${c.name}" is archived; archived classifiers are not trained.`);
  const open = await findOpenTrainingJob(deps.db, c.id);
  if (open) return { job: open, alreadyQueued: true };
  const runtime = jobRuntimeOf(deps);
  const job = await enqueueJob(
    ctxOf(req, deps),
    { kind: TRAIN_OFFLINE_JOB, payload: { classifierId: c.id, classifierName: c.name.slice(0, 200) } },
    { handlers: runtime.handlers, total: offlineSettingsOf(c.settings).folds + 1 },
  );
  runtime.changed(job.id);
  return { job, alreadyQueued: false };
}
