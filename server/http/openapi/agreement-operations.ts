import { z } from 'zod';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';

/** The query both agreement operations take (the route validates it with observations/agreement/agreement-filters.ts). */
const agreementQuery = z.object({
  version: z.string().uuid().describe('The ethogram version whose codes are compared (required).'),
  coders: z.string().optional().describe('Human coders by user id, repeated or comma-separated; default: everyone who rated something in the selection.'),
  behaviours: z.string().optional().describe('Behaviour codes, repeated or comma-separated.'),
  tags: z.string().optional().describe('Only observations carrying any of these tags.'),
  from: z.string().optional().describe('Observed on or after this UTC day (YYYY-MM-DD).'),
  to: z.string().optional().describe('Observed on or before this UTC day (YYYY-MM-DD).'),
});

/** Measured agreement (issue 5): the figures the /agreement page shows, as JSON and CSV. */
export const agreementOperations: Operation[] = [
  {
    method: 'get',
    path: '/agreement',
    tag: 'Agreement',
    summary: 'Agreement between coders, and between people and each classifier',
    description:
      'Per behaviour and overall, at two units (observation-level presence; span-level, where spans on one message part agree when they overlap by at least half of the shorter one): percent agreement, Cohen\'s kappa for each pair of coders (with n), Fleiss\' kappa over the units every coder rated, Krippendorff\'s alpha (nominal, missing ratings allowed); for each classifier, confusion matrices against the majority of the people who rated each observation, with precision, recall and F1. A figure that cannot be computed comes with its reason instead of a number. Definitions: observations/agreement/README.md.',
    access: 'researcher',
    query: agreementQuery,
    success: { 200: 'The report, with the unit definitions' },
    example: `/agreement?version=${X}`,
  },
  {
    method: 'get',
    path: '/agreement.csv',
    tag: 'Agreement',
    summary: 'The same figures as CSV',
    description: 'One row per behaviour, statistic and coder pair or classifier, with a unit column. Cells that a spreadsheet would read as a formula are prefixed with an apostrophe.',
    access: 'researcher',
    query: agreementQuery,
    success: { 200: 'text/csv' },
    example: `/agreement.csv?version=${X}`,
  },
];
