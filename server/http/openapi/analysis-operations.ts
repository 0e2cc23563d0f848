import { z } from 'zod';
import { analysisCatalogue, analysisNames, type AnalysisName } from '../../../analyses/run-analysis.ts';
import type { Operation } from './operation.ts';

/** The filters every analysis takes (the route validates them with analyses/analysis-filters.ts). */
const filters = {
  version: z.string().uuid().optional().describe('The ethogram version whose codings count; default: the default published version.'),
  provider: z.string().optional().describe('Only observations of this provider (exact).'),
  model: z.string().optional().describe('Only observations of this model (exact).'),
  from: z.string().optional().describe('Observed on or after this UTC day (YYYY-MM-DD).'),
  to: z.string().optional().describe('Observed on or before this UTC day (YYYY-MM-DD).'),
  codings: z.enum(['accepted', 'accepted_or_proposed']).optional().describe('Which codings count (default accepted); withdrawn and rejected ones never do.'),
};

const extra: Partial<Record<AnalysisName, z.ZodRawShape>> = {
  frequencies: { by: z.enum(['provider', 'model', 'version', 'month']).optional().describe('What to group by (default model).') },
  transitions: {
    permutations: z.number().int().optional().describe('Permutations of the test, 100 to 10,000 (default 1,000).'),
    seed: z.number().int().optional().describe('Seed of the shuffles (default 1): same seed, same p-values.'),
    alpha: z.number().optional().describe('Significance level, up to 0.2 (default 0.05).'),
    correction: z.enum(['holm', 'bonferroni', 'none']).optional().describe('Multiple-comparison correction over the tested cells (default holm).'),
  },
  compare: { behaviour: z.string().optional().describe('The behaviour code to compare across models (without it the report is empty).') },
};

/** The analyses (issue 8): each as JSON and as CSV, readable by anyone (anonymous callers: public observations only). */
export const analysisOperations: Operation[] = [
  { method: 'get', path: '/analyses', tag: 'Analyses', summary: 'The analyses there are', access: 'anyone', success: { 200: '`{ data: [{ name, title, summary, url, csv }] }`' } },
  ...analysisNames.flatMap((name): Operation[] => {
    const query = z.object({ ...filters, ...extra[name] });
    const { title, summary } = analysisCatalogue[name];
    return [
      { method: 'get', path: `/analyses/${name}`, tag: 'Analyses', summary: title, description: `${summary} Statistics and fields: analyses/README.md.`, access: 'anyone', query, success: { 200: 'The report: version, filters, the figures, and `definition`' } },
      { method: 'get', path: `/analyses/${name}.csv`, tag: 'Analyses', summary: `${title} as CSV`, description: 'RFC 4180; cells a spreadsheet would read as a formula are prefixed with an apostrophe.', access: 'anyone', query, success: { 200: 'text/csv' } },
    ];
  }),
];
