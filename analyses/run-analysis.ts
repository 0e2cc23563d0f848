import type { Ctx } from '../core/context.ts';
import { parseOrThrow } from '../core/validation.ts';
import { z } from 'zod';
import { analysisFiltersSchema, compareOptionsSchema, frequencyOptionsSchema, transitionOptionsSchema, type AnalysisFilters, type FrequencyGrouping, type TransitionSettings } from './analysis-filters.ts';
import { coOccurrenceReport, compareReport, frequenciesReport, timeBudgetReport, transitionsReport, type AnalysisReport } from './analysis-reports.ts';
import { resolveScope } from './analysis-scope.ts';

export const analysisNames = ['frequencies', 'co-occurrence', 'transitions', 'compare', 'time-budget'] as const;
export type AnalysisName = (typeof analysisNames)[number];

export const isAnalysisName = (name: string): name is AnalysisName => (analysisNames as readonly string[]).includes(name);

/** Each analysis with its title and a sentence on what it shows (the index page, the API docs, the CSV's name). */
export const analysisCatalogue: Record<AnalysisName, { title: string; summary: string }> = {
  frequencies: {
    title: 'Frequencies with effort',
    summary: 'How many observations of each provider, model, model version or month show each behaviour, out of how many of them were coded at all, so rates are not read off raw counts.',
  },
  'co-occurrence': {
    title: 'Co-occurrence',
    summary: 'Which behaviours are coded on the same observation, how often, and how strongly (Jaccard index and lift against independence).',
  },
  transitions: {
    title: 'Transitions',
    summary: 'Which behaviour follows which within a transcript, pooled across observations, as a matrix and a flow diagram, with a permutation test for the transitions that exceed chance.',
  },
  compare: {
    title: 'Cross-model comparison',
    summary: 'One behaviour across models and model versions side by side, with effort and a 95% interval: does a newer snapshot still do it?',
  },
  'time-budget': {
    title: 'Time budget',
    summary: 'In filed live sessions, the share of the session each state behaviour ran, per observer.',
  },
};

/**
 * Parses the query (filters common to all, then the analysis's own options), resolves the scope and builds the
 * report. Throws `validation_failed` with field errors for bad input and `not_found` for an unknown version or
 * behaviour; null when there is no published ethogram to analyse against. Pages and the API both call this.
 */
export async function runAnalysis(ctx: Ctx, name: AnalysisName, query: unknown): Promise<AnalysisReport | null> {
  const options = name === 'frequencies' ? frequencyOptionsSchema : name === 'transitions' ? transitionOptionsSchema : name === 'compare' ? compareOptionsSchema : z.object({});
  // One parse of filters and options together, so every field's problem is reported at once.
  const parsed = parseOrThrow(z.intersection(analysisFiltersSchema, options), query, 'The filters') as AnalysisFilters & Record<string, unknown>;
  const filters: AnalysisFilters = { version: parsed.version, provider: parsed.provider, model: parsed.model, from: parsed.from, to: parsed.to, codings: parsed.codings };
  const scope = await resolveScope(ctx, filters);
  if (!scope) return null;
  switch (name) {
    case 'frequencies':
      return frequenciesReport(ctx, scope, parsed.by as FrequencyGrouping);
    case 'co-occurrence':
      return coOccurrenceReport(ctx, scope);
    case 'transitions':
      return transitionsReport(ctx, scope, { permutations: parsed.permutations, seed: parsed.seed, alpha: parsed.alpha, correction: parsed.correction } as TransitionSettings);
    case 'compare':
      return compareReport(ctx, scope, parsed.behaviour as string | undefined);
    case 'time-budget':
      return timeBudgetReport(ctx, scope);
  }
}
