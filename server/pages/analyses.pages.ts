import express, { type Request, type Router } from 'express';
import { presentAnalysis } from '../../analyses/analysis.presenter.ts';
import { codingScopes, frequencyGroupings } from '../../analyses/analysis-filters.ts';
import type { AnalysisReport } from '../../analyses/analysis-reports.ts';
import { analysisCatalogue, analysisNames, runAnalysis, type AnalysisName } from '../../analyses/run-analysis.ts';
import { corrections } from '../../analyses/statistics/multiple-comparisons.ts';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { cachedDefaultVersion } from '../../ethograms/default-version.ts';
import { listVersionBehaviours } from '../../ethograms/behaviour.queries.ts';
import { listAnalysableVersions } from '../../observations/agreement/agreement.queries.ts';
import { listFilterOptions } from '../../observations/observation.queries.ts';
import type { AppDeps } from '../app-deps.ts';
import { errorStatus } from '../http/error-status.ts';
import { errorBody } from '../http/middleware/errors.ts';
import { ctxOf } from '../http/request-context.ts';
import { noEthogram, parseAnalysisPath, sendAnalysis } from '../http/routes/analyses.routes.ts';

const FIELD_KEYS = ['version', 'provider', 'model', 'from', 'to', 'codings', 'by', 'permutations', 'seed', 'alpha', 'correction', 'behaviour'] as const;
type Values = Record<(typeof FIELD_KEYS)[number], string>;

const option = (value: string, label: string, current: string) => ({ value, label, selected: value === current });

/**
 * The analysis pages: `/analyses` (what each analysis shows) and `/analyses/<name>` with a GET filter form, the
 * chart (rendered by the `chart` enhancer from the JSON beside it) and every number in tables; `<name>.csv` and
 * `<name>.json` (or `?format=`) give the same report. Anyone may read them; anonymous visitors' figures cover public
 * observations only. The same `runAnalysis` as the API.
 */
export function analysisPages(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/analyses', (req, res) => {
    authorize(req.auth.actor, 'analysis.read');
    res.render('pages/analyses/index', {
      title: 'Analyses',
      analyses: analysisNames.map((name) => ({ name, ...analysisCatalogue[name] })),
    });
  });

  router.get('/analyses/:file', async (req: Request, res) => {
    authorize(req.auth.actor, 'analysis.read');
    const { name, format } = parseAnalysisPath(String(req.params.file), req.query);
    const ctx = ctxOf(req, deps);
    if (format !== 'html') {
      try {
        const report = await runAnalysis(ctx, name, req.query);
        if (!report) throw noEthogram();
        sendAnalysis(res, report, format);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        res.status(errorStatus[error.id]).json(errorBody(error));
      }
      return;
    }
    let report: AnalysisReport | null = null;
    let problem: AppError | null = null;
    let noPublished = false;
    try {
      report = await runAnalysis(ctx, name, req.query);
      noPublished = report === null;
    } catch (error) {
      if (!(error instanceof AppError) || (error.id !== 'validation_failed' && error.id !== 'not_found')) throw error;
      problem = error;
    }
    const values = Object.fromEntries(FIELD_KEYS.map((k) => [k, typeof req.query[k] === 'string' ? (req.query[k] as string) : ''])) as Values;
    const versionId = report?.version.id ?? (await cachedDefaultVersion(deps.db))?.id ?? '';
    if (!values.version) values.version = versionId;
    const [versions, filterOptions, behaviours] = await Promise.all([
      listAnalysableVersions(deps.db),
      listFilterOptions(ctx),
      name === 'compare' && versionId ? listVersionBehaviours(deps.db, values.version || versionId).catch(() => []) : Promise.resolve([]),
    ]);
    const query = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== '')).toString();
    res.status(problem ? errorStatus[problem.id] : 200).render('pages/analyses/analysis', {
      name,
      ...analysisCatalogue[name],
      formError: problem?.message,
      errors: (problem?.details?.fields ?? {}) as Record<string, string>,
      providers: filterOptions.providers,
      models: filterOptions.models,
      fields: fieldsFor(name, values, versions, behaviours),
      noEthogram: noPublished,
      report,
      view: report ? presentAnalysis(report) : null,
      csvHref: `/analyses/${name}.csv${query ? `?${query}` : ''}`,
      jsonHref: `/analyses/${name}.json${query ? `?${query}` : ''}`,
    });
  });

  return router;
}

/** The filter form's fields: the common filters, then the analysis's own settings. */
function fieldsFor(
  name: AnalysisName,
  values: Values,
  versions: Array<{ id: string; number: number; status: string; ethogramName: string }>,
  behaviours: Array<{ code: string; name: string }>,
) {
  const fields: Array<Record<string, unknown>> = [
    { name: 'version', label: 'Ethogram version', options: versions.map((v) => option(v.id, `${v.ethogramName} v${v.number}${v.status === 'deprecated' ? ' (deprecated)' : ''}`, values.version)) },
    { name: 'provider', label: 'Provider', hint: 'exact; empty = all', value: values.provider, list: 'analysis-providers' },
    { name: 'model', label: 'Model', hint: 'exact; empty = all', value: values.model, list: 'analysis-models' },
    { name: 'from', label: 'Observed from', hint: 'UTC day', type: 'date', value: values.from },
    { name: 'to', label: 'Observed until', hint: 'UTC day, included', type: 'date', value: values.to },
    {
      name: 'codings',
      label: 'Codings counted',
      options: codingScopes.map((s) => option(s, s === 'accepted' ? 'Accepted' : 'Accepted and proposed', values.codings || 'accepted')),
    },
  ];
  if (name === 'frequencies') {
    const labels = { provider: 'Provider', model: 'Model', version: 'Model version', month: 'Month' } as const;
    fields.push({ name: 'by', label: 'Group by', options: frequencyGroupings.map((g) => option(g, labels[g], values.by || 'model')) });
  }
  if (name === 'transitions') {
    fields.push(
      { name: 'permutations', label: 'Permutations', hint: '100 to 10,000', type: 'number', value: values.permutations || '1000' },
      { name: 'seed', label: 'Seed', hint: 'same seed, same p-values', type: 'number', value: values.seed || '1' },
      { name: 'alpha', label: 'α', hint: 'up to 0.2', value: values.alpha || '0.05' },
      { name: 'correction', label: 'Multiple comparisons', options: corrections.map((c) => option(c, c === 'holm' ? 'Holm' : c === 'bonferroni' ? 'Bonferroni' : 'None', values.correction || 'holm')) },
    );
  }
  if (name === 'compare') {
    fields.push({
      name: 'behaviour',
      label: 'Behaviour',
      options: [option('', 'Choose a behaviour…', values.behaviour), ...behaviours.map((b) => option(b.code, `${b.code} · ${b.name}`, values.behaviour.toUpperCase()))],
    });
  }
  return fields;
}
