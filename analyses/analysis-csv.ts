import { csvCell } from '../observations/agreement/agreement-csv.ts';
import type { AnalysisReport } from './analysis-reports.ts';

type Cell = string | number | null;

/** Columns and rows of a report's CSV: one row per cell of the analysis, every number the page shows. */
export function analysisRows(report: AnalysisReport): { columns: string[]; rows: Cell[][] } {
  switch (report.analysis) {
    case 'frequencies':
      return {
        columns: ['grouping', 'group', 'behaviour_code', 'observations_showing', 'effort', 'rate', 'rate_low_95', 'rate_high_95'],
        rows: report.cells.map((c) => [report.by, c.group, c.behaviour, c.count, c.effort, c.rate, c.low, c.high]),
      };
    case 'co-occurrence':
      return {
        columns: ['behaviour_a', 'behaviour_b', 'observations_both', 'observations_a', 'observations_b', 'observations_coded', 'jaccard', 'lift'],
        rows: report.cells.filter((c) => c.a <= c.b && c.both > 0).map((c) => {
          const n = (code: string) => report.behaviours.find((b) => b.code === code)?.observations ?? 0;
          return [c.a, c.b, c.both, n(c.a), n(c.b), report.observations, c.jaccard, c.lift];
        }),
      };
    case 'transitions':
      return {
        columns: ['from_code', 'to_code', 'count', 'tested_count', 'expected', 'p', 'p_adjusted', 'correction', 'permutations', 'seed', 'significant'],
        rows: report.cells.map((c) => [c.from, c.to, c.count, c.testedCount, c.expected, c.p, c.pAdjusted, report.settings.correction, report.settings.permutations, report.settings.seed, c.significant ? 'yes' : 'no']),
      };
    case 'compare':
      return {
        columns: ['behaviour_code', 'provider', 'model', 'model_version', 'observations_showing', 'effort', 'rate', 'rate_low_95', 'rate_high_95'],
        rows: report.rows.map((r) => [report.behaviour?.code ?? '', r.provider, r.model, r.modelVersion, r.count, r.effort, r.rate, r.low, r.high]),
      };
    case 'time-budget':
      return {
        columns: ['observer', 'observer_id', 'behaviour_code', 'state_seconds', 'session_seconds', 'share', 'sessions'],
        rows: report.rows.map((r) => [r.observer, r.observerId, r.behaviour, r.seconds, r.sessionSeconds, r.share, r.sessions]),
      };
  }
}

/**
 * The report as CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line break; text a
 * spreadsheet would run as a formula, starting with = + - @, is prefixed with an apostrophe).
 */
export function analysisCsv(report: AnalysisReport): string {
  const { columns, rows } = analysisRows(report);
  return [columns.join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\r\n') + '\r\n';
}
