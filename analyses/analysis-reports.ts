import type { Ctx } from '../core/context.ts';
import { notFound } from '../core/errors.ts';
import type { AnalysisFilters, FrequencyGrouping, TransitionSettings } from './analysis-filters.ts';
import type { AnalysisScope, AnalysisVersion } from './analysis-scope.ts';
import { loadCoOccurrenceCounts } from './co-occurrence.queries.ts';
import { loadComparison } from './compare.queries.ts';
import { loadFrequencyCounts } from './frequencies.queries.ts';
import { coOccurrence } from './statistics/co-occurrence.ts';
import { frequencyCells } from './statistics/frequencies.ts';
import { timeBudget } from './statistics/time-budget.ts';
import { analyseTransitions } from './statistics/transitions.ts';
import { wilsonInterval } from './statistics/wilson.ts';
import { loadTimeBudget } from './time-budget.queries.ts';
import { loadTransitionSequences } from './transitions.queries.ts';

/**
 * The permutation test's work budget (codes x permutations): about 50 ms of the page on an idle machine. A selection holding more
 * codes than budget / permutations is tested on a seeded sample of whole sequences, and the report says so.
 */
export const PERMUTATION_BUDGET = 5_000_000;

interface Base { version: AnalysisVersion; filters: AnalysisFilters }
const base = (scope: AnalysisScope): Base => ({ version: scope.version, filters: scope.filters });
const codeOf = (scope: AnalysisScope) => new Map(scope.behaviours.map((b) => [b.id, b]));

export interface FrequenciesReport extends Base {
  analysis: 'frequencies';
  by: FrequencyGrouping;
  groups: Array<{ group: string; effort: number }>;
  behaviours: Array<{ code: string; name: string; observations: number }>;
  /** Every group x behaviour with any effort, zeros included. */
  cells: Array<{ group: string; behaviour: string; count: number; effort: number; rate: number | null; low: number | null; high: number | null }>;
}

/** Frequencies with effort: per group, how many observations show each behaviour, out of how many were coded at all. */
export async function frequenciesReport(ctx: Ctx, scope: AnalysisScope, by: FrequencyGrouping): Promise<FrequenciesReport> {
  const { groups, counts } = await loadFrequencyCounts(ctx.db, scope, by);
  const byId = codeOf(scope);
  const totals = new Map<string, number>();
  for (const c of counts) totals.set(c.behaviourId, (totals.get(c.behaviourId) ?? 0) + c.count);
  const behaviours = scope.behaviours.filter((b) => totals.has(b.id)).map((b) => ({ code: b.code, name: b.name, observations: totals.get(b.id)! }));
  const cells = frequencyCells(groups, behaviours.map((b) => b.code), counts.map((c) => ({ group: c.group, behaviour: byId.get(c.behaviourId)?.code ?? '?', count: c.count })));
  return { analysis: 'frequencies', ...base(scope), by, groups, behaviours, cells: cells.map((c) => ({ group: c.group, behaviour: c.behaviour, count: c.count, effort: c.effort, rate: c.rate, low: c.low, high: c.high })) };
}

export interface CoOccurrenceReport extends Base {
  analysis: 'co-occurrence';
  observations: number;
  behaviours: Array<{ code: string; name: string; observations: number }>;
  /** Every ordered pair of the behaviours shown (symmetric; the diagonal is the behaviour's own count). */
  cells: Array<{ a: string; b: string; both: number; jaccard: number | null; lift: number | null }>;
}

/** Co-occurrence within observations: pairs of behaviours coded on the same observation, with Jaccard and lift. */
export async function coOccurrenceReport(ctx: Ctx, scope: AnalysisScope): Promise<CoOccurrenceReport> {
  const counts = await loadCoOccurrenceCounts(ctx.db, scope);
  const byId = codeOf(scope);
  const shown = scope.behaviours.filter((b) => counts.showing.has(b.id));
  const showing = new Map(shown.map((b) => [b.code, counts.showing.get(b.id)!]));
  const pairs = counts.pairs.map((p) => ({ a: byId.get(p.a)?.code ?? '?', b: byId.get(p.b)?.code ?? '?', both: p.both }));
  return {
    analysis: 'co-occurrence',
    ...base(scope),
    observations: counts.observations,
    behaviours: shown.map((b) => ({ code: b.code, name: b.name, observations: showing.get(b.code)! })),
    cells: coOccurrence(shown.map((b) => b.code), showing, pairs, counts.observations),
  };
}

export interface TransitionsReport extends Base {
  analysis: 'transitions';
  settings: TransitionSettings;
  behaviours: Array<{ code: string; name: string }>;
  sequences: number;
  codes: number;
  transitions: number;
  leftOut: { wholeObservation: number; unplaced: number };
  tested: { sequences: number; codes: number; transitions: number; sampled: boolean };
  testedCells: number;
  smallestP: number;
  /** Cells observed at least once, from-major in the behaviours' order. */
  cells: Array<{ from: string; to: string; count: number; testedCount: number; expected: number; p: number | null; pAdjusted: number | null; nominal: boolean; significant: boolean }>;
}

/** Transitions within transcripts, pooled over observations, with the permutation test per cell. */
export async function transitionsReport(ctx: Ctx, scope: AnalysisScope, settings: TransitionSettings): Promise<TransitionsReport> {
  const data = await loadTransitionSequences(ctx.db, scope);
  const analysis = analyseTransitions(data.sequences, {
    ...settings,
    maxTestedCodes: Math.floor(PERMUTATION_BUDGET / settings.permutations),
  });
  const used = new Set<number>();
  for (const c of analysis.cells) if (c.count > 0) used.add(c.from).add(c.to);
  const code = (i: number) => scope.behaviours[i]!.code;
  return {
    analysis: 'transitions',
    ...base(scope),
    settings,
    behaviours: scope.behaviours.filter((_, i) => used.has(i)).map((b) => ({ code: b.code, name: b.name })),
    sequences: analysis.sequences,
    codes: analysis.codes,
    transitions: analysis.transitions,
    leftOut: { wholeObservation: data.wholeObservation, unplaced: data.unplaced },
    tested: analysis.tested,
    testedCells: analysis.testedCells,
    smallestP: analysis.smallestP,
    cells: analysis.cells.filter((c) => c.count > 0).map((c) => ({ ...c, from: code(c.from), to: code(c.to) })),
  };
}

export interface CompareReport extends Base {
  analysis: 'compare';
  behaviour: { code: string; name: string } | null;
  rows: Array<{ provider: string; model: string; modelVersion: string | null; count: number; effort: number; rate: number | null; low: number | null; high: number | null }>;
}

/** One behaviour across models and model versions, with effort and Wilson 95% intervals. Null behaviour: none chosen. */
export async function compareReport(ctx: Ctx, scope: AnalysisScope, behaviourCode: string | undefined): Promise<CompareReport> {
  if (!behaviourCode) return { analysis: 'compare', ...base(scope), behaviour: null, rows: [] };
  const behaviour = scope.behaviours.find((b) => b.code === behaviourCode);
  if (!behaviour) throw notFound(`Behaviour ${behaviourCode} in ${scope.version.ethogramName} v${scope.version.number}`);
  const rows = await loadComparison(ctx.db, scope, behaviour.id);
  return {
    analysis: 'compare',
    ...base(scope),
    behaviour: { code: behaviour.code, name: behaviour.name },
    rows: rows.map((r) => ({ provider: r.provider, model: r.model, modelVersion: r.modelVersion, ...wilsonInterval(r.count, r.effort) })),
  };
}

export interface TimeBudgetReport extends Base {
  analysis: 'time-budget';
  sessions: number;
  rows: Array<{ observerId: string; observer: string; behaviour: string; name: string; seconds: number; sessionSeconds: number; share: number; sessions: number }>;
}

/** Time budget of state behaviours in filed live sessions, per observer. */
export async function timeBudgetReport(ctx: Ctx, scope: AnalysisScope): Promise<TimeBudgetReport> {
  const data = await loadTimeBudget(ctx.db, scope);
  const names = new Map(scope.behaviours.map((b) => [b.code, b.name]));
  return {
    analysis: 'time-budget',
    ...base(scope),
    sessions: data.sessions.length,
    rows: timeBudget(data.sessions, data.intervals).map((r) => ({
      observerId: r.observer,
      observer: data.observerNames.get(r.observer) ?? 'unknown',
      behaviour: r.behaviour,
      name: names.get(r.behaviour) ?? r.behaviour,
      seconds: r.seconds,
      sessionSeconds: r.sessionSeconds,
      share: r.share,
      sessions: r.sessions,
    })),
  };
}

export type AnalysisReport = FrequenciesReport | CoOccurrenceReport | TransitionsReport | CompareReport | TimeBudgetReport;
