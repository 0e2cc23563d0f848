import { z } from 'zod';
import { corrections } from './statistics/multiple-comparisons.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const blank = (v: unknown) => (v === '' || v === undefined || v === null ? undefined : v);
const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);

const day = (label: string) =>
  z.preprocess(
    (v) => blank(first(v)),
    z
      .string()
      .regex(DAY, `${label} must be a date written YYYY-MM-DD.`)
      .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), `${label} is not a real date.`)
      .optional(),
  );

const text = (label: string, max: number) => z.preprocess((v) => blank(typeof first(v) === 'string' ? (first(v) as string).trim() : first(v)), z.string().max(max, `${label} has at most ${max} characters.`).optional());

/** Which codings count: accepted ones (the default: what people stand behind), or accepted and still proposed. */
export const codingScopes = ['accepted', 'accepted_or_proposed'] as const;
export type CodingScope = (typeof codingScopes)[number];

/**
 * The filters every analysis takes from the query string: the ethogram version whose codings are counted (the
 * default published version when absent), provider and model (exact), observed-at range (UTC days, both ends
 * included) and which codings count. Withdrawn codings and deleted observations never count.
 */
export const analysisFiltersSchema = z
  .object({
    version: z.preprocess((v) => blank(first(v)), z.string().trim().uuid('The version must be the id of an ethogram version.').optional()),
    provider: text('The provider', 100),
    model: text('The model', 200),
    from: day('The start date'),
    to: day('The end date'),
    codings: z.preprocess((v) => blank(first(v)), z.enum(codingScopes, { error: 'Codings are "accepted" or "accepted_or_proposed".' }).default('accepted')),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { path: ['to'], message: 'The end date is before the start date.' });
export type AnalysisFilters = z.infer<typeof analysisFiltersSchema>;

/** What frequencies are grouped by. */
export const frequencyGroupings = ['provider', 'model', 'version', 'month'] as const;
export type FrequencyGrouping = (typeof frequencyGroupings)[number];
export const frequencyOptionsSchema = z.object({
  by: z.preprocess((v) => blank(first(v)), z.enum(frequencyGroupings, { error: 'Group by provider, model, version or month.' }).default('model')),
});

/** Transitions: the permutation test's settings. */
export const transitionOptionsSchema = z.object({
  permutations: z.preprocess((v) => blank(first(v)), z.coerce.number({ error: 'Permutations is a whole number.' }).int('Permutations is a whole number.').min(100, 'At least 100 permutations.').max(10_000, 'At most 10,000 permutations.').default(1000)),
  seed: z.preprocess((v) => blank(first(v)), z.coerce.number({ error: 'The seed is a whole number.' }).int('The seed is a whole number.').min(0, 'The seed is 0 or more.').max(2 ** 31 - 1, 'The seed is below 2^31.').default(1)),
  alpha: z.preprocess((v) => blank(first(v)), z.coerce.number({ error: 'Alpha is a number.' }).gt(0, 'Alpha is above 0.').max(0.2, 'Alpha is at most 0.2.').default(0.05)),
  correction: z.preprocess((v) => blank(first(v)), z.enum(corrections, { error: 'The correction is holm, bonferroni or none.' }).default('holm')),
});
export type TransitionSettings = z.infer<typeof transitionOptionsSchema>;

/** Cross-model comparison: the behaviour, by code. */
export const compareOptionsSchema = z.object({
  behaviour: z.preprocess((v) => blank(first(v)), z.string({ error: 'Choose a behaviour.' }).trim().max(32, 'A behaviour code has at most 32 characters.').transform((s) => s.toUpperCase()).optional()),
});
