import express, { type Request, type Router } from 'express';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { fieldErrors } from '../../core/validation.ts';
import { defaultPublishedVersion } from '../../ethograms/behaviour.queries.ts';
import { coefficientBarChart, formatFigure, kappaBand, kappaHeatMap } from '../../observations/agreement/agreement-charts.presenter.ts';
import { agreementFiltersSchema, type AgreementFilters } from '../../observations/agreement/agreement-filters.ts';
import { computeAgreementReport, UNIT_DEFINITIONS, type AgreementReport, type AgreementRow, type ClassifierRow, type Figure } from '../../observations/agreement/agreement-report.ts';
import { listAnalysableVersions, loadAgreementData, type AgreementCoder } from '../../observations/agreement/agreement.queries.ts';
import type { AppDeps } from '../app-deps.ts';
import { errorStatus } from '../http/error-status.ts';
import { sendAgreementCsv } from '../http/routes/agreement.routes.ts';
import { parseOrThrow } from '../http/validate.ts';

const KEYS = ['version', 'coders', 'behaviours', 'tags', 'from', 'to'] as const;

/**
 * The agreement page `/agreement` (researchers): a filter form, the people's figures overall and per behaviour at
 * observation and span level, the pairwise Cohen matrix as a table and a heat map, a bar chart of alpha and Fleiss'
 * kappa per behaviour against the 0.4/0.6/0.8 bands, and each classifier's confusion matrices; `/agreement.csv`
 * downloads the same figures. Same query and computation as the JSON API.
 */
export function agreementPages(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/agreement.csv', async (req, res) => {
    authorize(req.auth.actor, 'agreement.view');
    const filters = parseOrThrow(agreementFiltersSchema, await withDefaultVersion(req, deps), 'The agreement filters');
    sendAgreementCsv(res, computeAgreementReport(await loadAgreementData(deps.db, filters)));
  });

  router.get('/agreement', async (req, res) => {
    authorize(req.auth.actor, 'agreement.view');
    const query = await withDefaultVersion(req, deps);
    const versions = await listAnalysableVersions(deps.db);
    const values = {
      version: String(query.version ?? ''),
      coders: listOf(query.coders),
      behaviours: listOf(query.behaviours).join(', '),
      tags: listOf(query.tags).join(', '),
      from: String(query.from ?? ''),
      to: String(query.to ?? ''),
    };
    const common = {
      title: 'Agreement',
      values,
      versions: versions.map((v) => ({ ...v, selected: v.id === values.version, label: `${v.ethogramName} v${v.number}${v.status === 'deprecated' ? ' (deprecated)' : ''}` })),
      units: UNIT_DEFINITIONS,
    };
    if (!values.version) {
      res.render('pages/agreement/index', { ...common, report: null, noVersion: true });
      return;
    }
    const parsed = agreementFiltersSchema.safeParse(query);
    let problem: AppError | null = parsed.success ? null : new AppError('validation_failed', 'Some filters could not be read: see the messages beside them.', { fields: fieldErrors(parsed.error) });
    let report: AgreementReport | null = null;
    let allCoders: AgreementCoder[] = [];
    if (parsed.success) {
      try {
        const data = await loadAgreementData(deps.db, parsed.data);
        allCoders = data.allCoders;
        report = computeAgreementReport(data);
      } catch (err) {
        if (!(err instanceof AppError) || err.id !== 'validation_failed') throw err;
        problem = err;
      }
    }
    res.status(problem ? errorStatus[problem.id] : 200).render('pages/agreement/index', {
      ...common,
      formError: problem?.message,
      errors: (problem?.details?.fields ?? {}) as Record<string, string>,
      coderOptions: allCoders.map((c) => ({ ...c, checked: values.coders.includes(c.id) })),
      csvHref: `/agreement.csv?${queryString(parsed.success ? parsed.data : null, values)}`,
      report: report ? reportView(report) : null,
    });
  });

  return router;
}

/** The query with the default published version filled in when none was chosen (the page opens on it). */
async function withDefaultVersion(req: Request, deps: AppDeps): Promise<Record<string, unknown>> {
  const query: Record<string, unknown> = Object.fromEntries(KEYS.map((k) => [k, req.query[k]]));
  if (query.version === undefined || query.version === '') query.version = (await defaultPublishedVersion(deps.db))?.id ?? '';
  return query;
}

function listOf(value: unknown): string[] {
  const raw = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return raw.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
}

function queryString(filters: AgreementFilters | null, values: { version: string }): string {
  const p = new URLSearchParams();
  p.set('version', filters?.version ?? values.version);
  for (const c of filters?.coders ?? []) p.append('coders', c);
  if (filters?.behaviours?.length) p.set('behaviours', filters.behaviours.join(','));
  if (filters?.tags?.length) p.set('tags', filters.tags.join(','));
  if (filters?.from) p.set('from', filters.from);
  if (filters?.to) p.set('to', filters.to);
  return p.toString();
}

function figureView(f: Figure) {
  return { text: formatFigure(f), isUndefined: f.value === null, reason: f.reason, n: f.n, nMeaning: f.nMeaning, band: kappaBand(f.value).word };
}

function rowView(row: AgreementRow) {
  return {
    code: row.behaviour?.code ?? 'All',
    name: row.behaviour?.name ?? 'All behaviours pooled',
    units: row.units,
    presentRatings: row.presentRatings,
    percent: row.percentAgreement.value === null ? figureView(row.percentAgreement) : { ...figureView(row.percentAgreement), text: `${(row.percentAgreement.value * 100).toFixed(1)}%` },
    alpha: figureView(row.alpha),
    fleiss: figureView(row.fleiss),
    pairs: row.cohen.map((p) => ({ a: p.coderA.name, b: p.coderB.name, kappa: figureView(p.kappa) })),
  };
}

function classifierRowView(row: ClassifierRow) {
  return {
    code: row.behaviour?.code ?? 'All',
    name: row.behaviour?.name ?? 'All behaviours pooled',
    tp: row.truePositive, fp: row.falsePositive, fn: row.falseNegative, tn: row.trueNegative, units: row.units,
    precision: figureView(row.precision), recall: figureView(row.recall), f1: figureView(row.f1),
  };
}

function reportView(report: AgreementReport) {
  const pairs = report.observation.overall.cohen;
  const matrix = report.coders.map((a) => ({
    name: a.name,
    cells: report.coders.map((b) => {
      if (a.id === b.id) return { self: true };
      const p = pairs.find((x) => (x.coderA.id === a.id && x.coderB.id === b.id) || (x.coderA.id === b.id && x.coderB.id === a.id));
      return p ? { self: false, ...figureView(p.kappa) } : { self: true };
    }),
  }));
  return {
    version: report.version,
    coders: report.coders,
    ratedObservations: report.ratedObservations,
    omittedBehaviours: report.omittedBehaviours,
    notes: report.notes,
    overallRows: [rowView(report.observation.overall), rowView(report.span.overall)].map((r, i) => ({ ...r, unit: i === 0 ? 'Observation-level presence' : 'Span-level' })),
    observationRows: report.observation.behaviours.map(rowView),
    spanRows: report.span.behaviours.map(rowView),
    matrix,
    hasPairs: pairs.length > 0,
    barChart: report.observation.behaviours.length || report.observation.overall.units ? coefficientBarChart([report.observation.overall, ...report.observation.behaviours]) : null,
    heatMap: report.coders.length >= 2 ? kappaHeatMap(report.coders, pairs) : null,
    classifiers: report.classifiers.map((c) => ({
      ...c.classifier,
      observations: c.observations,
      overall: classifierRowView(c.overall),
      rows: c.behaviours.map(classifierRowView),
      spanRows: [c.span.overall, ...c.span.behaviours].map(classifierRowView),
    })),
  };
}
