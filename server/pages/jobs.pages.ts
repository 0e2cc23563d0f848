import express, { type Request, type Response, type Router } from 'express';
import { JOB_STATUS_LABELS as STATUS_LABELS } from '../../core/jobs/job-status-labels.ts';
import { AppError, notFound } from '../../core/errors.ts';
import { cancelJob, pauseJob, resumeJob } from '../../core/jobs/control-job.command.ts';
import { presentJob, type JobView } from '../../core/jobs/job.presenter.ts';
import { listJobs, loadJob } from '../../core/jobs/job.queries.ts';
import { authorize, can } from '../../core/policy.ts';
import { listClassifiers } from '../../observations/classify/classifiers/classifier.queries.ts';
import { createClassificationJob } from '../../observations/classify/jobs/create-classification-job.command.ts';
import { loadObservationRef } from '../../observations/observation.queries.ts';
import type { AppDeps } from '../app-deps.ts';
import { errorStatus } from '../http/error-status.ts';
import { ctxOf } from '../http/request-context.ts';
import { parseId } from '../http/validate.ts';
import { jobRuntimeOf } from '../jobs/job-runtime.ts';
import { loadJobView, type JobViewWithDetails } from '../jobs/job-views.ts';
import { flash } from './form.ts';

/** How long "Classify" on an observation's page waits for its one-item job before linking to the job instead. */
const ONE_OBSERVATION_WAIT_MS = 8000;


/** The list filters a classification can be scoped by (as the observation list writes them in its query string). */
const FILTER_KEYS = ['q', 'provider', 'model', 'behaviour', 'category', 'tag', 'status', 'from', 'to'] as const;

/**
 * Background-job pages: `/jobs` (recent jobs), `/jobs/:id` (progress bar and counts, live over the socket; cancel,
 * pause and resume; the summary and failed observations with their reasons), `/classify` (start a classification
 * job: a classifier, and the observation list's current filters or the ids ticked there), and "Classify" on an
 * observation's page (`POST /observations/:id/classify`: a one-observation job, waited for briefly).
 */
export function jobPages(deps: AppDeps): Router {
  const router = express.Router();
  const runtime = () => jobRuntimeOf(deps);

  router.get('/jobs', async (req, res) => {
    const actor = req.auth.actor;
    authorize(actor, 'job.read', { createdBy: actor.kind === 'user' ? actor.id : '' });
    const rows = await listJobs(deps.db, { limit: 100 });
    res.render('pages/jobs/list', { title: 'Jobs', jobs: rows.map((row) => jobItem(presentJob(row, runtime().handlers))) });
  });

  router.get('/jobs/:id', async (req, res) => {
    const id = parseId(req.params.id, 'That job');
    const row = await loadJob(deps.db, id);
    if (!row) throw notFound('That job');
    authorize(req.auth.actor, 'job.read', row);
    const view = (await loadJobView(deps.db, id, runtime().handlers, { details: true }))!;
    res.render('pages/jobs/show', { title: view.title, ...jobPageData(view), canControl: can(req.auth.actor, 'job.control', row) });
  });

  for (const [verb, command, done] of [
    ['cancel', cancelJob, 'Cancel requested: the job stops after the observations in hand.'],
    ['pause', pauseJob, 'Paused: the job stops after the observations in hand and waits for you to resume it.'],
    ['resume', resumeJob, 'Resumed: the job continues where it stopped.'],
  ] as const) {
    router.post(`/jobs/:id/${verb}`, async (req, res) => {
      const id = parseId(req.params.id, 'That job');
      const row = await loadJob(deps.db, id);
      if (!row) throw notFound('That job');
      authorize(req.auth.actor, 'job.read', row);
      authorize(req.auth.actor, 'job.control', row);
      try {
        const updated = await command(ctxOf(req, deps), id);
        runtime().changed(id);
        flash(res, verb === 'cancel' && updated.status === 'cancelled' ? 'Cancelled.' : done);
      } catch (error) {
        if (!(error instanceof AppError) || error.id !== 'conflict') throw error;
        flash(res, error.message);
      }
      res.redirect(303, `/jobs/${id}`);
    });
  }

  router.get('/classify', async (req, res) => {
    authorize(req.auth.actor, 'classification.runMany');
    await renderClassifyForm(req, res, deps, formValuesOf(req.query as Record<string, unknown>));
  });

  /** From the observation list's selection (the bulk form): the start form with the ticked observations as its scope. */
  router.post('/classify/choose', async (req, res) => {
    authorize(req.auth.actor, 'classification.runMany');
    await renderClassifyForm(req, res, deps, formValuesOf({ ids: req.body?.ids ?? [], scope: 'ids' }));
  });

  router.post('/classify', async (req, res) => {
    authorize(req.auth.actor, 'classification.runMany');
    const values = formValuesOf(req.body ?? {});
    try {
      const job = await createClassificationJob(ctxOf(req, deps), inputOf(values), { handlers: runtime().handlers });
      runtime().changed(job.id);
      flash(res, `Classification job started for ${job.progress.total} observation${job.progress.total === 1 ? '' : 's'}.`);
      res.redirect(303, `/jobs/${job.id}`);
    } catch (error) {
      if (!(error instanceof AppError) || !['validation_failed', 'conflict', 'not_found'].includes(error.id)) throw error;
      await renderClassifyForm(req, res, deps, values, error);
    }
  });

  router.post('/observations/:id/classify', async (req, res) => {
    const id = parseId(req.params.id, 'That observation');
    const ref = await loadObservationRef(deps.db, id);
    if (!ref || ref.deletedAt) throw notFound('That observation');
    authorize(req.auth.actor, 'classification.run', ref);
    const classifierId = typeof req.body?.classifierId === 'string' ? req.body.classifierId : '';
    let jobId: string;
    try {
      const job = await createClassificationJob(ctxOf(req, deps), { classifierId, observationIds: [id] }, { handlers: runtime().handlers });
      jobId = job.id;
    } catch (error) {
      if (!(error instanceof AppError) || !['validation_failed', 'conflict'].includes(error.id)) throw error;
      flash(res, error.id === 'validation_failed' ? 'Choose a classifier to classify this observation with.' : error.message);
      res.redirect(303, `/observations/${id}#classify`);
      return;
    }
    runtime().changed(jobId);
    const view = await waitBriefly(deps, jobId, ONE_OBSERVATION_WAIT_MS);
    if (view?.status === 'completed') {
      const proposed = Number((view.summary as { proposals?: number } | null)?.proposals ?? 0);
      flash(res, proposed ? `Classified: ${proposed} proposed coding${proposed === 1 ? '' : 's'}, shown below for review.` : 'Classified: the classifier proposed nothing for this observation.');
      res.redirect(303, `/observations/${id}#codings`);
      return;
    }
    if (view?.status === 'failed' || (view?.details?.failures as unknown[] | undefined)?.length) {
      flash(res, `Classification failed: ${view?.error?.message ?? ((view?.details?.failures as { error: { message: string } }[])[0]?.error.message ?? 'see the job')}`);
      res.redirect(303, `/jobs/${jobId}`);
      return;
    }
    flash(res, 'The classification is still running: this page shows its progress.');
    res.redirect(303, `/jobs/${jobId}`);
  });

  return router;
}

/** Polls the job until it is finished or `ms` have passed (the in-process worker was woken at creation). */
async function waitBriefly(deps: AppDeps, jobId: string, ms: number): Promise<JobViewWithDetails | null> {
  const end = Date.now() + ms;
  for (;;) {
    const view = await loadJobView(deps.db, jobId, jobRuntimeOf(deps).handlers, { details: true });
    if (!view || view.finished || Date.now() > end) return view;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface ClassifyFormValues {
  classifierId: string;
  scope: 'filters' | 'ids';
  ids: string;
  filters: Record<string, string>;
  autoAccept: string;
}

function formValuesOf(source: Record<string, unknown>): ClassifyFormValues {
  const text = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) ? v.filter((x) => typeof x === 'string').join('\n') : '');
  const filters: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = text(source[key]).trim();
    if (value) filters[key] = value;
  }
  const ids = text(source.ids ?? source.id);
  return {
    classifierId: text(source.classifierId),
    scope: text(source.scope) === 'ids' || (ids && text(source.scope) !== 'filters') ? 'ids' : 'filters',
    ids,
    filters,
    autoAccept: text(source.autoAccept).trim(),
  };
}

function inputOf(values: ClassifyFormValues): Record<string, unknown> {
  const autoAccept = values.autoAccept === '' ? undefined : Number(values.autoAccept);
  return {
    classifierId: values.classifierId,
    ...(values.scope === 'ids' ? { observationIds: values.ids.split(/[\s,]+/).filter(Boolean) } : { filters: values.filters }),
    ...(autoAccept === undefined ? {} : { autoAccept: { minConfidence: Number.isFinite(autoAccept) ? autoAccept : -1 } }),
  };
}

async function renderClassifyForm(req: Request, res: Response, deps: AppDeps, values: ClassifyFormValues, error?: AppError): Promise<void> {
  const classifierOptions = (await listClassifiers(deps.db)).map(({ classifier, version }) => ({
    id: classifier.id,
    label: `${classifier.name} (${kindLabels[classifier.kind]}, ${version.name} v${version.number})`,
    selected: classifier.id === values.classifierId,
  }));
  const filterRows = Object.entries(values.filters).map(([key, value]) => ({ key, value }));
  const fields = (error?.details?.fields ?? {}) as Record<string, string>;
  res.status(error ? errorStatus[error.id] : 200).render('pages/jobs/classify', {
    title: 'Classify observations',
    classifiers: classifierOptions,
    values,
    filterRows,
    scopeIds: values.scope === 'ids',
    idCount: values.ids.split(/[\s,]+/).filter(Boolean).length,
    ...(error ? { formError: error.message, errors: fields } : { errors: {} }),
    classifierError: fields.classifierId ?? '',
    scopeError: fields.observationIds ?? fields.filters ?? Object.entries(fields).find(([k]) => k.startsWith('observationIds'))?.[1] ?? '',
    autoAcceptError: fields['autoAccept.minConfidence'] ?? '',
  });
}

const kindLabels = { llm_judge: 'LLM judge', offline: 'offline classifier', rules: 'rule detectors' } as const;

function jobItem(view: JobView) {
  return { ...view, statusLabel: STATUS_LABELS[view.status], percent: view.fraction === null ? null : Math.floor(view.fraction * 100) };
}

/** What the job page shows: the view, labels, percentages, and the summary as rows. */
export function jobPageData(view: JobViewWithDetails) {
  const summary = (view.summary ?? {}) as Record<string, unknown>;
  const byBehaviour = ((view.details?.proposalsByBehaviour ?? summary.proposalsByBehaviour ?? {}) as Record<string, number>);
  const tokens = summary.tokens as { input: number; output: number } | undefined;
  const cost = summary.costUsd;
  return {
    job: jobItem(view),
    running: !view.finished,
    canPause: view.status === 'queued' || view.status === 'running' || (view.status === 'paused' && view.runAfter !== null),
    canResume: view.status === 'paused',
    counts: Object.entries(view.progress.counts ?? {}).map(([name, value]) => ({ name, label: countLabels[name] ?? name, value })),
    behaviourRows: Object.entries(byBehaviour).map(([code, count]) => ({ code, count })),
    failures: (view.details?.failures ?? []) as unknown[],
    summaryRows: view.summary
      ? [
          ['Observations classified', summary.done],
          ['Failed', summary.failed],
          ['Left pending', summary.pending],
          ['Proposed codings', summary.proposals],
          ['Accepted at once (auto-accept)', summary.autoAccepted],
          ['Quotes not found in the transcript (dropped)', summary.droppedQuotes],
          ['Findings rejected (unknown code, no quote, quote not found)', summary.rejectedFindings],
          ['Unclear answers', summary.unclear],
          ['Tokens (input / output)', tokens ? `${tokens.input} / ${tokens.output}` : undefined],
          ['Estimated cost', cost === null ? `unknown (at least $${Number(summary.costUsdKnownPart ?? 0).toFixed(4)})` : typeof cost === 'number' ? `$${cost.toFixed(4)}` : undefined],
        ]
          .filter(([, v]) => v !== undefined && v !== 0 && v !== '0 / 0')
          .map(([label, value]) => ({ label, value: String(value) }))
      : [],
  };
}

const countLabels: Record<string, string> = {
  proposed: 'Proposed codings',
  accepted: 'Auto-accepted',
  failed: 'Failed observations',
  droppedQuotes: 'Dropped quotes',
  rejectedFindings: 'Rejected findings',
};
