import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { JOB_STATUS_LABELS } from '../../core/jobs/job-status-labels.ts';
import { jobStatuses } from '../../core/jobs/job.schema.ts';
import { authorize, can } from '../../core/policy.ts';
import { createExperiment } from '../../experiments/create-experiment.command.ts';
import { visibleLinks } from '../../experiments/experiment.presenter.ts';
import { experimentListSchema, linkedObservations, listExperiments, listRuns, requireExperiment, requireRun, type RunView } from '../../experiments/experiment.queries.ts';
import { linkObservation, unlinkObservation } from '../../experiments/link-observation.command.ts';
import { checkModel } from '../../experiments/models/check-model.command.ts';
import { formatParameters } from '../../experiments/models/model.presenter.ts';
import { listModels, requireModel, type ModelRow } from '../../experiments/models/model.queries.ts';
import { registerModel } from '../../experiments/models/register-model.command.ts';
import { observedExchange, paramTemplates } from '../../experiments/param-templates.ts';
import { resultPicture } from '../../experiments/pictures/result-picture.ts';
import { runExperiment } from '../../experiments/run-experiment.command.ts';
import { techniques } from '../../experiments/techniques/index.ts';
import type { ResultDocument } from '../../experiments/techniques/run-technique.ts';
import { loadObservationRow } from '../../observations/observation.queries.ts';
import type { AppDeps } from '../app-deps.ts';
import { ctxOf } from '../http/request-context.ts';
import { parseId } from '../http/validate.ts';
import { jobRuntimeOf } from '../jobs/job-runtime.ts';
import { flash, rerenderForm } from './form.ts';

const pickSchema = z
  .object({
    run: z.coerce.number().int().min(1).optional().catch(undefined),
    layer: z.coerce.number().int().min(0).optional().catch(undefined),
    head: z.coerce.number().int().min(0).optional().catch(undefined),
    compare: z.coerce.number().int().min(1).optional().catch(undefined),
  })
  .strip();

const modelItem = (m: ModelRow) => ({
  ...m,
  size: formatParameters(m.parameters),
  shortSha: m.weightsSha256.slice(0, 16),
  layers: m.shape.nLayers,
  heads: m.shape.nHeads,
  context: m.shape.nCtx,
  ready: m.status === 'ready',
});

const runItem = (experimentId: string, r: RunView, selected: number | null) => ({
  ...r,
  statusLabel: JOB_STATUS_LABELS[r.status] ?? r.status,
  finished: r.status === 'completed' || r.status === 'failed' || r.status === 'cancelled',
  selected: r.number === selected,
  url: `/experiments/${experimentId}?run=${r.number}`,
  jsonUrl: `/api/v1/experiments/${experimentId}/runs/${r.number}/result.json`,
  percent: r.progress.total ? Math.round((100 * r.progress.done) / r.progress.total) : 0,
  paramsJson: JSON.stringify(r.params, null, 2),
});

/** What differs between two runs: each parameter (by dotted path), the seed, and the engine and schema versions. */
function runDifferences(a: RunView, b: RunView): Array<{ what: string; a: string; b: string }> {
  const flat = (value: unknown, prefix: string, out: Map<string, string>) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flat(v, prefix ? `${prefix}.${k}` : k, out);
    } else out.set(prefix, JSON.stringify(value));
    return out;
  };
  const pa = flat(a.params, '', new Map());
  const pb = flat(b.params, '', new Map());
  const rows: Array<{ what: string; a: string; b: string }> = [];
  for (const key of [...new Set([...pa.keys(), ...pb.keys()])].sort()) {
    if (pa.get(key) !== pb.get(key)) rows.push({ what: `parameter ${key}`, a: pa.get(key) ?? '(not set)', b: pb.get(key) ?? '(not set)' });
  }
  if (a.seed !== b.seed) rows.push({ what: 'seed', a: String(a.seed), b: String(b.seed) });
  if (a.engineVersion !== b.engineVersion) rows.push({ what: 'engine version', a: String(a.engineVersion), b: String(b.engineVersion) });
  if (a.schemaVersion !== b.schemaVersion) rows.push({ what: 'technique schema version', a: String(a.schemaVersion), b: String(b.schemaVersion) });
  return rows;
}

/** The form's params field: JSON text, an object when it parses, else a validation error on `params` (typed text kept). */
function parseParamsText(text: unknown): Record<string, unknown> {
  const raw = typeof text === 'string' ? text.trim() : '';
  if (!raw) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new AppError('validation_failed', 'The parameters are not valid JSON.', { fields: { params: `not valid JSON: ${(error as Error).message}` } });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new AppError('validation_failed', 'The parameters are a JSON object.', { fields: { params: 'write a JSON object, e.g. { "prompt": "…" }' } });
  return value as Record<string, unknown>;
}

/**
 * Experiment pages: `/models` (the registry; admins register and check folders), `/experiments` (list with
 * filters), `/experiments/new?observation=` (the form, pre-filled from an observation), `/experiments/:id` (the
 * hypothesis, linked observations, runs with live progress, cancel and re-run, and the selected run's picture
 * with its numbers and JSON). The same commands and policy as the API.
 */
export function experimentPages(deps: AppDeps): Router {
  const router = express.Router();
  const runtime = () => jobRuntimeOf(deps);

  async function renderModels(req: Request, res: Response, extra: Record<string, unknown> = {}) {
    const models = await listModels(deps.db);
    res.render('pages/experiments/models', {
      title: 'Models',
      models: models.map(modelItem),
      canRegister: can(req.auth.actor, 'model.register'),
      values: {},
      errors: {},
      ...extra,
    });
  }

  router.get('/models', async (req, res) => {
    authorize(req.auth.actor, 'model.list');
    await renderModels(req, res);
  });

  router.post('/models', async (req, res) => {
    authorize(req.auth.actor, 'model.register');
    const values = { path: String(req.body.path ?? ''), name: String(req.body.name ?? '') };
    try {
      const { id } = await registerModel(ctxOf(req, deps), values);
      flash(res, `Registered ${values.name.trim()}.`);
      res.redirect(303, `/models#model-${id}`);
    } catch (error) {
      const models = await listModels(deps.db);
      rerenderForm(res, 'pages/experiments/models', error, { title: 'Models', models: models.map(modelItem), canRegister: true, values });
    }
  });

  router.post('/models/:id/check', async (req, res) => {
    const id = parseId(req.params.id, 'That model');
    const check = await checkModel(ctxOf(req, deps), id);
    const model = await requireModel(deps.db, id);
    flash(res, `${model.name}: ${check.status}${check.reason ? ` (${check.reason})` : ''}.`);
    res.redirect(303, `/models#model-${id}`);
  });

  router.get('/experiments', async (req, res) => {
    authorize(req.auth.actor, 'experiment.list');
    const parsed = experimentListSchema.safeParse(req.query);
    const filters = parsed.success ? parsed.data : { page: 1 };
    const [page, models] = await Promise.all([listExperiments(deps.db, filters), listModels(deps.db)]);
    const query = (p: number) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...filters, page: p })) if (v !== undefined && v !== '' && !(k === 'page' && v === 1)) q.set(k, String(v));
      const s = q.toString();
      return `/experiments${s ? `?${s}` : ''}`;
    };
    res.render('pages/experiments/list', {
      title: 'Experiments',
      filters,
      filterError: parsed.success ? null : 'Some filters were not understood and were left out.',
      experiments: page.items.map((e) => ({ ...e, statusLabel: e.latestRun ? (JOB_STATUS_LABELS[e.latestRun.status] ?? e.latestRun.status) : 'not run' })),
      models: models.map((m) => ({ value: m.id, label: m.name, selected: m.id === filters.model })),
      techniques: techniques.map((t) => ({ value: t.name, label: t.name, selected: t.name === filters.technique })),
      statuses: jobStatuses.map((s) => ({ value: s, label: JOB_STATUS_LABELS[s] ?? s, selected: s === filters.status })),
      prev: (filters.page ?? 1) > 1 ? query((filters.page ?? 1) - 1) : null,
      next: page.hasMore ? query((filters.page ?? 1) + 1) : null,
      canCreate: can(req.auth.actor, 'experiment.create'),
    });
  });

  /** The form's data: models, techniques with their starting parameters (from the observation when there is one). */
  async function formData(req: Request, values: Record<string, unknown>) {
    const models = await listModels(deps.db);
    const ready = models.filter((m) => m.status === 'ready');
    const observationId = typeof values.observationId === 'string' && values.observationId ? values.observationId : null;
    let observation: { id: string; title: string } | null = null;
    let exchange = null;
    if (observationId && z.string().uuid().safeParse(observationId).success) {
      const row = (await loadObservationRow(deps.db, observationId))?.record;
      if (row && !row.deletedAt && can(req.auth.actor, 'observation.read', row)) {
        observation = { id: row.id, title: row.title };
        exchange = observedExchange(row.transcript);
      }
    }
    const modelId = typeof values.modelId === 'string' && values.modelId ? values.modelId : ready[0]?.id ?? '';
    const model = models.find((m) => m.id === modelId) ?? null;
    const templates = paramTemplates(exchange, model?.path ?? null);
    const technique = typeof values.technique === 'string' && templates[values.technique] ? values.technique : 'logit-lens';
    return {
      title: 'New experiment',
      observation,
      exchange,
      models: ready.map((m) => ({ value: m.id, label: `${m.name} (${m.architecture}, ${formatParameters(m.parameters)}, context ${m.shape.nCtx})`, selected: m.id === modelId })),
      techniques: techniques.map((t) => ({ value: t.name, label: `${t.name}: ${t.summary}`, selected: t.name === technique })),
      templatesJson: JSON.stringify(Object.fromEntries(Object.entries(templates).map(([k, v]) => [k, JSON.stringify(v, null, 2)]))),
      values: {
        title: values.title ?? (observation ? `Follow-up: ${observation.title}`.slice(0, 200) : ''),
        hypothesis: values.hypothesis ?? '',
        params: typeof values.params === 'string' ? values.params : JSON.stringify(templates[technique], null, 2),
        observationId: observation?.id ?? '',
        seed: values.seed ?? '',
      },
    };
  }

  router.get('/experiments/new', async (req, res) => {
    authorize(req.auth.actor, 'experiment.create');
    const q = req.query as Record<string, unknown>;
    const data = await formData(req, { observationId: q.observation, technique: q.technique, modelId: q.model });
    res.render('pages/experiments/new', { ...data, errors: {} });
  });

  router.post('/experiments', async (req, res) => {
    authorize(req.auth.actor, 'experiment.create');
    const b = req.body as Record<string, unknown>;
    try {
      const seedText = typeof b.seed === 'string' ? b.seed.trim() : '';
      const seed = seedText === '' ? undefined : Number(seedText);
      if (seed !== undefined && !Number.isInteger(seed)) throw new AppError('validation_failed', 'The seed is a whole number.', { fields: { seed: 'a whole number, or leave it blank' } });
      const created = await createExperiment(
        ctxOf(req, deps),
        {
          title: b.title,
          hypothesis: b.hypothesis,
          modelId: b.modelId,
          technique: b.technique,
          params: parseParamsText(b.params),
          observationIds: typeof b.observationId === 'string' && b.observationId ? [b.observationId] : [],
          ...(seed === undefined ? {} : { seed }),
        },
        runtime().handlers,
      );
      if (created.jobId) runtime().changed(created.jobId);
      res.redirect(303, `/experiments/${created.id}`);
    } catch (error) {
      rerenderForm(res, 'pages/experiments/new', error, await formData(req, b));
    }
  });

  router.get('/experiments/:id', async (req, res) => {
    const id = parseId(req.params.id, 'That experiment');
    const experiment = await requireExperiment(deps.db, id);
    authorize(req.auth.actor, 'experiment.read', experiment);
    const pick = pickSchema.parse(req.query);
    const [model, linked, runs] = await Promise.all([requireModel(deps.db, experiment.modelId), linkedObservations(deps.db, id), listRuns(deps.db, id)]);
    const selectedNumber = pick.run && runs.some((r) => r.number === pick.run) ? pick.run : (runs[0]?.number ?? null);
    const selected = selectedNumber === null ? null : await requireRun(deps.db, id, selectedNumber);
    const picture = selected?.result
      ? resultPicture(selected.result as unknown as ResultDocument, { run: selected.number, ...(pick.layer === undefined ? {} : { layer: pick.layer }), ...(pick.head === undefined ? {} : { head: pick.head }) })
      : null;
    // Another completed run beside the selected one: both pictures, and which parameters, seed and versions differ.
    const compareNumber = pick.compare && pick.compare !== selectedNumber && runs.some((r) => r.number === pick.compare && r.status === 'completed') ? pick.compare : null;
    const other = compareNumber === null || !selected?.result ? null : await requireRun(deps.db, id, compareNumber);
    const comparison = other && selected
      ? {
          run: runItem(id, other, selectedNumber),
          picture: resultPicture(other.result as unknown as ResultDocument, { run: other.number, ...(pick.layer === undefined ? {} : { layer: pick.layer }), ...(pick.head === undefined ? {} : { head: pick.head }) }),
          differences: runDifferences(selected, other),
        }
      : null;
    const completedOthers = runs.filter((r) => r.status === 'completed' && r.number !== selectedNumber).map((r) => ({ number: r.number, selected: r.number === compareNumber }));
    const canRun = can(req.auth.actor, 'experiment.run', experiment);
    res.render('pages/experiments/show', {
      title: experiment.title,
      experiment: { ...experiment, paramsJson: JSON.stringify(experiment.params, null, 2) },
      model: modelItem(model),
      ...visibleLinks(req.auth.actor, linked),
      runs: runs.map((r) => runItem(id, r, selectedNumber)),
      selected: selected ? runItem(id, selected, selectedNumber) : null,
      picture,
      comparison,
      completedOthers: selected?.result ? completedOthers : [],
      canRun: canRun && model.status === 'ready',
      modelNotReady: model.status !== 'ready' ? `${model.name} is ${model.status}: ${model.statusReason ?? ''}` : null,
      canControl: selected ? can(req.auth.actor, 'job.control', { createdBy: selected.createdBy }) : false,
      canLink: can(req.auth.actor, 'experiment.link', experiment),
    });
  });

  router.post('/experiments/:id/runs', async (req, res) => {
    const id = parseId(req.params.id, 'That experiment');
    const b = req.body as Record<string, unknown>;
    try {
      const params = typeof b.params === 'string' && b.params.trim() ? parseParamsText(b.params) : undefined;
      const queued = await runExperiment(ctxOf(req, deps), id, params ? { params } : {}, runtime().handlers);
      runtime().changed(queued.job.id);
      res.redirect(303, `/experiments/${id}?run=${queued.number}`);
    } catch (error) {
      if (!(error instanceof AppError) || error.id !== 'validation_failed' && error.id !== 'conflict') throw error;
      flash(res, `Not run: ${error.message}`);
      res.redirect(303, `/experiments/${id}`);
    }
  });

  router.post('/experiments/:id/observations', async (req, res) => {
    const id = parseId(req.params.id, 'That experiment');
    // People paste an observation's address or its id.
    const raw = String((req.body as Record<string, unknown>).observation ?? '').trim();
    const observationId = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i.exec(raw)?.[1]?.toLowerCase() ?? raw;
    try {
      await linkObservation(ctxOf(req, deps), id, { observationId });
      flash(res, 'Linked.');
    } catch (error) {
      if (!(error instanceof AppError) || (error.id !== 'validation_failed' && error.id !== 'not_found')) throw error;
      flash(res, `Not linked: ${error.id === 'not_found' ? 'that observation was not found.' : 'give an observation’s address or id.'}`);
    }
    res.redirect(303, `/experiments/${id}#observations`);
  });

  router.post('/experiments/:id/observations/:observationId/unlink', async (req, res) => {
    const id = parseId(req.params.id, 'That experiment');
    await unlinkObservation(ctxOf(req, deps), id, parseId(req.params.observationId, 'That observation'));
    flash(res, 'Unlinked.');
    res.redirect(303, `/experiments/${id}#observations`);
  });

  return router;
}
