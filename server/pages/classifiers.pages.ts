import express, { type Request, type Response, type Router } from 'express';
import { AppError } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { classifierKinds, type ClassifierKind } from '../../observations/classify/classify.schema.ts';
import { archiveClassifier } from '../../observations/classify/classifiers/archive-classifier.command.ts';
import { createClassifierInput, updateClassifierInput } from '../../observations/classify/classifiers/classifier.input.ts';
import { presentClassifier, type PresentedClassifier } from '../../observations/classify/classifiers/classifier.presenter.ts';
import { listClassifiers, listPinnableVersions, listTrainings, versionBehaviourNames, type ClassifierWithContext } from '../../observations/classify/classifiers/classifier.queries.ts';
import { createClassifier } from '../../observations/classify/classifiers/create-classifier.command.ts';
import type { TrainingMetrics } from '../../observations/classify/classifiers/train-offline.ts';
import { updateClassifier } from '../../observations/classify/classifiers/update-classifier.command.ts';
import { DETECTORS } from '../../observations/classify/rules/index.ts';
import type { AppDeps } from '../app-deps.ts';
import { csrfToken } from '../http/middleware/csrf.ts';
import { ctxOf } from '../http/request-context.ts';
import { loadReadable, provisionStarterRules, requestTraining } from '../http/routes/classifiers.routes.ts';
import { classifierFormErrors, classifierFormEcho, classifierFormValues, classifierInputFromForm, formChoices, kindHeadings, kindLabels, type FormValues } from './classifier-forms.ts';
import { flash, rerenderForm } from './form.ts';

type FormBody = Record<string, unknown>;

/**
 * Classifier pages (researchers and admins): `/classifiers` lists them by kind with whether each can run (a
 * judge's key variable set on the server or not; an offline classifier trained, when, on how many examples);
 * `/classifiers/new?kind=` and `/classifiers/:id` hold the forms (no JavaScript needed; errors next to fields;
 * input kept), and an offline classifier's page its "Train now" button and cross-validated figures with a chart.
 */
export function classifierPages(deps: AppDeps): Router {
  const router = express.Router();
  const env = deps.judgeEnv ?? {};
  const keepCsrf = (req: Request, res: Response) => {
    const actor = req.auth.actor;
    Object.assign(res.locals, {
      csrfToken: csrfToken(req, res, deps),
      actor,
      signedIn: actor.kind === 'user',
      currentPath: req.path,
      isResearcher: actor.kind === 'user' && actor.role !== 'contributor',
      isAdmin: actor.kind === 'user' && actor.role === 'admin',
    });
  };

  router.get('/classifiers', async (req, res) => {
    authorize(req.auth.actor, 'classifier.list');
    await provisionStarterRules(req, deps);
    const showArchived = req.query.archived === 'include';
    const all = (await listClassifiers(deps.db, { archived: showArchived ? 'include' : 'false' })).map((c) => presentClassifier(c, env));
    const groups = classifierKinds.map((kind) => ({ kind, label: kindHeadings[kind], items: all.filter((c) => c.kind === kind).map(listRow) }));
    res.render('pages/classifiers/list', { title: 'Classifiers', groups, showArchived, canManage: can(req.auth.actor, 'classifier.manage') });
  });

  async function renderForm(res: Response, kind: ClassifierKind, values: FormValues, extra: Record<string, unknown>, err?: unknown) {
    const data = {
      title: `New ${kindLabels[kind].toLowerCase()}`,
      kind,
      kindLabel: kindLabels[kind],
      ...(await formOptions(kind, values)),
      formAction: `/classifiers/new?kind=${kind}`,
      submitLabel: `Create ${kindLabels[kind].toLowerCase()}`,
      ...extra,
    };
    if (err) return rerenderForm(res, extra.view ? String(extra.view) : 'pages/classifiers/new', foldErrors(err), data);
    res.render(extra.view ? String(extra.view) : 'pages/classifiers/new', data);
  }

  /** The choices a kind's form needs, with the field values (and rules rows) filled in. */
  async function formOptions(kind: ClassifierKind, values: FormValues) {
    const versions = (await listPinnableVersions(deps.db)).map((v) => ({ value: v.id, label: `${v.name}, version ${v.number}`, selected: v.id === values.ethogramVersionId }));
    if (!values.ethogramVersionId && versions[0]) versions[0].selected = true;
    const selectedVersion = versions.find((v) => v.selected)?.value;
    const behaviours = selectedVersion ? await versionBehaviourNames(deps.db, selectedVersion) : [];
    return {
      values,
      versions,
      isJudge: kind === 'llm_judge',
      isOffline: kind === 'offline',
      isRules: kind === 'rules',
      providers: formChoices.providers.map((p) => ({ ...p, selected: p.value === values.provider })),
      structuredOutputModes: formChoices.structuredOutputModes.map((m) => ({ value: m, selected: m === values.structuredOutput })),
      trainingMethods: formChoices.trainingMethods.map((m) => ({ ...m, checked: (values.trainingMethods as string[] | undefined)?.includes(m.value) ?? false })),
      detectors: DETECTORS.map((d) => ({
        id: d.id,
        name: d.name,
        description: d.description,
        checked: (values.detectors as string[] | undefined)?.includes(d.id) ?? false,
        kinds: Object.entries(d.findings).map(([code, k]) => ({
          code,
          field: `mapping.${code}`,
          description: k.description,
          options: [{ value: '', label: '(no code: a rule flag only)', selected: !values[`mapping.${code}`] }].concat(
            behaviours.map((b) => ({ value: b.code, label: `${b.code}: ${b.name}`, selected: b.code === values[`mapping.${code}`] })),
          ),
          unknownValue: values[`mapping.${code}`] && !behaviours.some((b) => b.code === values[`mapping.${code}`]) ? String(values[`mapping.${code}`]) : null,
        })),
      })),
    };
  }

  router.get('/classifiers/new', async (req, res) => {
    authorize(req.auth.actor, 'classifier.manage');
    const kind = classifierKinds.find((k) => k === req.query.kind);
    if (!kind) {
      res.render('pages/classifiers/new', { title: 'New classifier', chooseKind: true, kinds: classifierKinds.map((k) => ({ kind: k, label: kindLabels[k] })) });
      return;
    }
    await renderForm(res, kind, classifierFormValues(kind), {});
  });

  router.post('/classifiers/new', async (req, res) => {
    authorize(req.auth.actor, 'classifier.manage');
    const kind = classifierKinds.find((k) => k === req.query.kind);
    if (!kind) throw new AppError('not_found', 'Choose which kind of classifier to create.');
    const body: FormBody = req.body ?? {};
    try {
      const input = parseOrThrow(createClassifierInput, { kind, ...classifierInputFromForm(kind, body) }, 'The classifier');
      const row = await createClassifier(ctxOf(req, deps), input);
      flash(res, `Created ${row.name}.`);
      res.redirect(303, `/classifiers/${row.id}`);
    } catch (err) {
      keepCsrf(req, res);
      await renderForm(res, kind, classifierFormEcho(kind, body), {}, err);
    }
  });

  async function renderShow(req: Request, res: Response, item: ClassifierWithContext, values?: FormValues, err?: unknown) {
    const classifier = presentClassifier(item, env);
    const canManage = can(req.auth.actor, 'classifier.manage');
    const kind = classifier.kind;
    const editable = canManage && !classifier.archivedAt;
    const formValues = values ?? classifierFormValues(kind, { name: item.classifier.name, ethogramVersionId: item.classifier.ethogramVersionId, settings: item.classifier.settings });
    const names = new Map((await versionBehaviourNames(deps.db, item.classifier.ethogramVersionId)).map((b) => [b.code, b.name]));
    const metrics = (classifier.currentTraining?.metrics ?? null) as TrainingMetrics | null;
    const history = kind === 'offline' ? await listTrainings(deps.db, item.classifier.id, 10) : [];
    const data = {
      title: classifier.name,
      classifier,
      kindLabel: kindLabels[kind],
      canManage,
      editable,
      canTrain: editable && kind === 'offline',
      revision: item.classifier.revision,
      settingsJson: JSON.stringify(classifier.settings, null, 2),
      ...(editable ? await formOptions(kind, formValues) : {}),
      formAction: `/classifiers/${classifier.id}`,
      submitLabel: 'Save changes',
      figures: metrics ? figureRows(metrics, names) : null,
      chart: metrics ? f1Chart(metrics) : null,
      overall: metrics?.overall ? { precision: fmt(metrics.overall.precision), recall: fmt(metrics.overall.recall), f1: fmt(metrics.overall.f1) } : null,
      metrics,
      history: history.map((t) => ({ id: t.id, createdAt: t.createdAt.toISOString(), exampleCount: t.exampleCount, behaviourCount: t.behaviourCount, current: t.id === classifier.currentTraining?.id, jobId: t.jobId })),
    };
    if (err) return rerenderForm(res, 'pages/classifiers/show', foldErrors(err), data);
    res.render('pages/classifiers/show', data);
  }

  router.get('/classifiers/:id', async (req, res) => {
    await renderShow(req, res, await loadReadable(req, deps));
  });

  router.post('/classifiers/:id', async (req, res) => {
    const item = await loadReadable(req, deps);
    authorize(req.auth.actor, 'classifier.manage');
    const body: FormBody = req.body ?? {};
    try {
      const revision = /^\d+$/.test(String(body.revision ?? '')) ? Number(body.revision) : undefined;
      const input = parseOrThrow(updateClassifierInput, { ...classifierInputFromForm(item.classifier.kind, body), revision }, 'The classifier');
      await updateClassifier(ctxOf(req, deps), item.classifier.id, input);
      flash(res, 'Saved.');
      res.redirect(303, `/classifiers/${item.classifier.id}`);
    } catch (err) {
      keepCsrf(req, res);
      await renderShow(req, res, item, classifierFormEcho(item.classifier.kind, body), err);
    }
  });

  router.post('/classifiers/:id/archive', async (req, res) => {
    const item = await loadReadable(req, deps);
    authorize(req.auth.actor, 'classifier.manage');
    await archiveClassifier(ctxOf(req, deps), item.classifier.id);
    flash(res, `Archived ${item.classifier.name}: its codings and figures stay; it is not run or trained any more.`);
    res.redirect(303, `/classifiers/${item.classifier.id}`);
  });

  router.post('/classifiers/:id/train', async (req, res) => {
    const item = await loadReadable(req, deps);
    authorize(req.auth.actor, 'classifier.manage');
    try {
      const { job, alreadyQueued } = await requestTraining(req, deps, item);
      flash(res, alreadyQueued ? `${item.classifier.name} is already being trained: this is that job.` : `Training ${item.classifier.name}: cross-validation, then the final model.`);
      res.redirect(303, `/jobs/${job.id}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.id !== 'conflict') throw err;
      flash(res, err.message);
      res.redirect(303, `/classifiers/${item.classifier.id}#training`);
    }
  });

  return router;
}

/** The error with its field messages keyed by the form's field names. */
function foldErrors(err: unknown): unknown {
  if (!(err instanceof AppError) || !err.details?.fields) return err;
  return new AppError(err.id, err.message, { ...err.details, fields: classifierFormErrors(err.details.fields) });
}

function listRow(c: PresentedClassifier) {
  return { ...c, version: `${c.ethogramVersion.name}, version ${c.ethogramVersion.number}`, updated: c.updatedAt };
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));

function figureRows(metrics: TrainingMetrics, names: Map<string, string>) {
  return metrics.behaviours.map((b) => ({
    code: b.label,
    name: names.get(b.label) ?? '',
    support: b.support,
    distinct: b.distinctPositives,
    precision: fmt(b.precision),
    recall: fmt(b.recall),
    f1: fmt(b.f1),
    trustworthy: b.trustworthy,
    reason: b.reason,
  }));
}

/**
 * A horizontal bar chart of F1 per behaviour, as SVG geometry for the template (attributes, not styles: the
 * CSP blocks inline styles). Each bar carries its value as text and untrusted behaviours say so in words, so
 * the chart reads without colour.
 */
function f1Chart(metrics: TrainingMetrics) {
  const labelWidth = 130;
  const barArea = 360;
  const rowHeight = 24;
  const top = 22;
  const rows = metrics.behaviours.map((b, i) => {
    const y = top + i * rowHeight;
    const width = b.f1 === null ? 0 : Math.max(1, Math.round(b.f1 * barArea));
    return {
      code: b.label,
      y: y + 4,
      height: rowHeight - 8,
      textY: y + rowHeight / 2 + 4,
      width,
      trusted: b.trustworthy,
      valueX: labelWidth + width + 6,
      valueText: b.f1 === null ? (b.trustworthy ? 'no figure' : 'too few examples to trust') : b.f1.toFixed(2),
    };
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((v) => ({ x: labelWidth + v * barArea, label: v.toFixed(2) }));
  return { width: labelWidth + barArea + 190, height: top + rows.length * rowHeight + 8, labelX: labelWidth - 8, barX: labelWidth, axisBottom: top + rows.length * rowHeight, rows, ticks };
}
