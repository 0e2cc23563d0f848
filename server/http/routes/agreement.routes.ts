import express, { type Request, type Response, type Router } from 'express';
import { authorize } from '../../../core/policy.ts';
import { agreementCsv } from '../../../observations/agreement/agreement-csv.ts';
import { agreementFiltersSchema, type AgreementFilters } from '../../../observations/agreement/agreement-filters.ts';
import { computeAgreementReport, UNIT_DEFINITIONS, type AgreementReport } from '../../../observations/agreement/agreement-report.ts';
import { loadAgreementData } from '../../../observations/agreement/agreement.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { parseOrThrow } from '../validate.ts';

/**
 * Agreement figures under /api/v1 (researchers): `GET /agreement` as JSON (the report with its unit definitions)
 * and `GET /agreement.csv`, both taking the same filters as the page (`version` required; `coders`, `behaviours`,
 * `tags` repeated or comma-separated; `from`, `to` as YYYY-MM-DD).
 */
export function agreementApi(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/agreement.csv', async (req, res) => {
    const { report } = await agreementFor(req, deps);
    sendAgreementCsv(res, report);
  });

  router.get('/agreement', async (req, res) => {
    const { filters, report } = await agreementFor(req, deps);
    res.json({ filters, units: UNIT_DEFINITIONS, ...report });
  });

  return router;
}

async function agreementFor(req: Request, deps: AppDeps): Promise<{ filters: AgreementFilters; report: AgreementReport }> {
  authorize(req.auth.actor, 'agreement.view');
  const filters = parseOrThrow(agreementFiltersSchema, req.query, 'The agreement filters');
  const report = computeAgreementReport(await loadAgreementData(deps.db, filters));
  return { filters, report };
}

/** Sends the report as a CSV download named after its ethogram version (shared by the API and the page). */
export function sendAgreementCsv(res: Response, report: AgreementReport): void {
  const name = `agreement-${report.version.slug.replace(/[^a-z0-9-]/gi, '') || 'ethogram'}-v${report.version.number}.csv`;
  res.type('text/csv; charset=utf-8').attachment(name).send(agreementCsv(report));
}
