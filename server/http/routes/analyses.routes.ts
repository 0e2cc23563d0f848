import express, { type Request, type Response, type Router } from 'express';
import { analysisCsv } from '../../../analyses/analysis-csv.ts';
import type { AnalysisReport } from '../../../analyses/analysis-reports.ts';
import { analysisCatalogue, analysisNames, isAnalysisName, runAnalysis, type AnalysisName } from '../../../analyses/run-analysis.ts';
import { AppError, notFound } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';

export type AnalysisFormat = 'html' | 'csv' | 'json';

/**
 * Reads `/analyses/<name>`, `<name>.csv` or `<name>.json` (and `?format=csv|json`, which wins): the analysis and
 * the format asked for. An unknown name is not found.
 */
export function parseAnalysisPath(file: string, query: Record<string, unknown>): { name: AnalysisName; format: AnalysisFormat } {
  const match = /^([a-z-]+?)(?:\.(csv|json))?$/.exec(file);
  if (!match || !isAnalysisName(match[1]!)) throw notFound('That analysis');
  const asked = typeof query.format === 'string' ? query.format : undefined;
  if (asked !== undefined && !['html', 'csv', 'json'].includes(asked)) throw new AppError('validation_failed', 'The format is html, csv or json.', { fields: { format: 'use html, csv or json' } });
  return { name: match[1] as AnalysisName, format: (asked as AnalysisFormat | undefined) ?? (match[2] as AnalysisFormat | undefined) ?? 'html' };
}

/** No published ethogram yet: nothing to analyse against. */
export const noEthogram = () => new AppError('not_found', 'There is no published ethogram to analyse codings against yet.');

/** Sends a report as CSV (a download named after the analysis and version) or JSON (with its definition). */
export function sendAnalysis(res: Response, report: AnalysisReport, format: 'csv' | 'json'): void {
  if (format === 'json') {
    res.json({ ...report, definition: analysisCatalogue[report.analysis].summary });
    return;
  }
  const name = `${report.analysis}-${report.version.slug.replace(/[^a-z0-9-]/gi, '') || 'ethogram'}-v${report.version.number}.csv`;
  res.type('text/csv; charset=utf-8').attachment(name).send(analysisCsv(report));
}

/**
 * Analyses under /api/v1 (anyone; anonymous callers get aggregates over public observations only):
 * `GET /analyses` lists them, `GET /analyses/:name` answers JSON and `GET /analyses/:name.csv` CSV, with the
 * same filters as the pages (analyses/README.md).
 */
export function analysesApi(deps: AppDeps): Router {
  const router = express.Router();
  router.get('/analyses', (req, res) => {
    authorize(req.auth.actor, 'analysis.read');
    res.json({ data: analysisNames.map((name) => ({ name, ...analysisCatalogue[name], url: `/api/v1/analyses/${name}`, csv: `/api/v1/analyses/${name}.csv` })) });
  });
  router.get('/analyses/:file', async (req: Request, res) => {
    authorize(req.auth.actor, 'analysis.read');
    const { name, format } = parseAnalysisPath(String(req.params.file), req.query);
    const report = await runAnalysis(ctxOf(req, deps), name, req.query);
    if (!report) throw noEthogram();
    sendAnalysis(res, report, format === 'csv' ? 'csv' : 'json');
  });
  return router;
}
