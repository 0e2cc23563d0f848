import type { AnalysisReport, CoOccurrenceReport, CompareReport, FrequenciesReport, TimeBudgetReport, TransitionsReport } from './analysis-reports.ts';

/** A table as the page renders it: every number of the analysis, so nothing depends on the chart. */
export interface TableView {
  caption: string;
  columns: Array<{ label: string; num?: boolean }>;
  rows: Array<{ cells: Array<{ text: string; num?: boolean; header?: boolean; strong?: boolean }> }>;
  /** Said under the table when rows were left out of it (never of the CSV/JSON). */
  truncated?: string;
}

export interface AnalysisView { tables: TableView[]; notes: string[]; chart: unknown; chartLabel: string; empty: boolean }

/** Most rows a page's table shows; the CSV and JSON always hold every row. */
export const TABLE_ROWS = 500;
/** Frequencies chart: at most this many behaviours (the most frequent) and groups (the most observed). */
const CHART_BEHAVIOURS = 6;
const CHART_GROUPS = 12;

const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
const fixed = (x: number | null, d = 2) => (x === null ? '–' : x.toFixed(d));
const pValue = (p: number | null) => (p === null ? '–' : p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const int = (n: number) => n.toLocaleString('en');
const cell = (text: string, extra: { num?: boolean; header?: boolean; strong?: boolean } = {}) => ({ text, ...extra });
const capped = <T>(rows: T[], what: string) =>
  rows.length > TABLE_ROWS ? { rows: rows.slice(0, TABLE_ROWS), truncated: `Showing the first ${int(TABLE_ROWS)} of ${int(rows.length)} ${what}; the CSV and JSON hold all of them.` } : { rows, truncated: undefined };

/** The page's tables, notes and the chart's data for a report. */
export function presentAnalysis(report: AnalysisReport): AnalysisView {
  switch (report.analysis) {
    case 'frequencies':
      return presentFrequencies(report);
    case 'co-occurrence':
      return presentCoOccurrence(report);
    case 'transitions':
      return presentTransitions(report);
    case 'compare':
      return presentCompare(report);
    case 'time-budget':
      return presentTimeBudget(report);
  }
}

const GROUP_LABEL = { provider: 'Provider', model: 'Provider / model', version: 'Provider / model / version', month: 'Month (UTC)' } as const;

function presentFrequencies(r: FrequenciesReport): AnalysisView {
  const shown = r.cells.filter((c) => c.count > 0).sort((a, b) => a.group.localeCompare(b.group) || b.count - a.count);
  const { rows, truncated } = capped(shown, 'group and behaviour rows');
  const topBehaviours = [...r.behaviours].sort((a, b) => b.observations - a.observations).slice(0, CHART_BEHAVIOURS).map((b) => b.code);
  const topGroups = [...r.groups].sort((a, b) => b.effort - a.effort).slice(0, CHART_GROUPS).map((g) => g.group);
  const names = new Map(r.behaviours.map((b) => [b.code, b.name]));
  return {
    empty: r.groups.length === 0,
    chartLabel: `Rate of the ${topBehaviours.length} most frequent behaviours per ${r.by}, with each group's effort (observations coded at all) above.`,
    chart: {
      type: 'frequencies',
      by: r.by,
      groups: r.groups.filter((g) => topGroups.includes(g.group)),
      behaviours: topBehaviours.map((code) => ({ code, name: names.get(code) ?? code })),
      cells: r.cells.filter((c) => topGroups.includes(c.group) && topBehaviours.includes(c.behaviour)),
    },
    notes: [
      'Effort is the number of observations in the group coded at all (with at least one counted coding of this version); a rate is observations showing the behaviour over effort, with a Wilson 95% interval.',
      'A behaviour coded on one observation by several coders counts once.',
      ...(r.groups.length > CHART_GROUPS ? [`The chart shows the ${CHART_GROUPS} groups with the most effort of ${r.groups.length}; the tables have them all.`] : []),
    ],
    tables: [
      {
        caption: `Effort per ${r.by}`,
        columns: [{ label: GROUP_LABEL[r.by] }, { label: 'Observations coded (effort)', num: true }],
        rows: r.groups.map((g) => ({ cells: [cell(g.group, { header: true }), cell(int(g.effort), { num: true })] })),
      },
      {
        caption: 'Observations showing each behaviour, per group (behaviours not listed for a group: none of its effort)',
        columns: [{ label: GROUP_LABEL[r.by] }, { label: 'Behaviour' }, { label: 'Observations showing', num: true }, { label: 'Effort', num: true }, { label: 'Rate', num: true }, { label: '95% interval', num: true }],
        rows: rows.map((c) => ({
          cells: [cell(c.group, { header: true }), cell(`${c.behaviour} · ${names.get(c.behaviour) ?? ''}`), cell(int(c.count), { num: true }), cell(int(c.effort), { num: true }), cell(pct(c.rate), { num: true }), cell(`${pct(c.low)} – ${pct(c.high)}`, { num: true })],
        })),
        truncated,
      },
    ],
  };
}

function presentCoOccurrence(r: CoOccurrenceReport): AnalysisView {
  const pairs = r.cells.filter((c) => c.a < c.b && c.both > 0).sort((a, b) => b.both - a.both);
  const { rows, truncated } = capped(pairs, 'pairs');
  const n = new Map(r.behaviours.map((b) => [b.code, b.observations]));
  return {
    empty: r.observations === 0,
    chartLabel: 'Heat map: the number in each cell is how many observations show both behaviours; the shade is the Jaccard index.',
    chart: { type: 'co-occurrence', codes: r.behaviours.map((b) => b.code), names: Object.fromEntries(r.behaviours.map((b) => [b.code, b.name])), cells: r.cells.filter((c) => c.both > 0) },
    notes: [
      `${int(r.observations)} observations were coded at all; pairs count observations showing both behaviours (the diagonal: observations showing the behaviour).`,
      'Jaccard = both / either (0 to 1). Lift = P(both) / (P(a) × P(b)) over the coded observations: 1 is what independence gives, above 1 they come together more often than chance, below 1 less.',
    ],
    tables: [
      {
        caption: 'Pairs of behaviours coded on the same observation',
        columns: [{ label: 'Behaviour A' }, { label: 'Behaviour B' }, { label: 'Both', num: true }, { label: 'A', num: true }, { label: 'B', num: true }, { label: 'Jaccard', num: true }, { label: 'Lift', num: true }],
        rows: rows.map((c) => ({
          cells: [cell(c.a, { header: true }), cell(c.b), cell(int(c.both), { num: true }), cell(int(n.get(c.a) ?? 0), { num: true }), cell(int(n.get(c.b) ?? 0), { num: true }), cell(fixed(c.jaccard, 3), { num: true }), cell(fixed(c.lift, 2), { num: true })],
        })),
        truncated,
      },
    ],
  };
}

const CORRECTION_LABEL = { holm: 'Holm', bonferroni: 'Bonferroni', none: 'no correction' } as const;

function presentTransitions(r: TransitionsReport): AnalysisView {
  const sorted = [...r.cells].sort((a, b) => b.count - a.count);
  const { rows, truncated } = capped(sorted, 'transitions');
  const corrected = r.settings.correction !== 'none';
  const flag = (c: TransitionsReport['cells'][number]) => (c.significant ? '** exceeds chance' : c.nominal ? '* p < α before correction' : '');
  return {
    empty: r.transitions === 0,
    chartLabel: 'Transition matrix (rows: from, columns: to) with counts in the cells; ** marks transitions that exceed chance after correction, * before it. Below, a flow diagram of the most frequent transitions.',
    chart: { type: 'transitions', codes: r.behaviours.map((b) => b.code), names: Object.fromEntries(r.behaviours.map((b) => [b.code, b.name])), cells: r.cells },
    notes: [
      `${int(r.sequences)} observations hold two or more positioned codes (${int(r.codes)} codes, ${int(r.transitions)} transitions). Codes are ordered by message, then part, then character offset; the same code at the same place (several coders) counts once.`,
      `Left out: ${int(r.leftOut.wholeObservation)} codings of whole observations (they have no place in the transcript)${r.leftOut.unplaced ? ` and ${int(r.leftOut.unplaced)} whose message is no longer in the transcript` : ''}.`,
      `Permutation test: the behaviours of each observation shuffled ${int(r.settings.permutations)} times (seed ${r.settings.seed}); p = (b + 1) / (N + 1), one-sided, so the smallest possible p is ${pValue(r.smallestP)}. ${int(r.testedCells)} cells observed at least once were tested; ${corrected ? `${CORRECTION_LABEL[r.settings.correction]} correction over them at α = ${r.settings.alpha}` : `no correction at α = ${r.settings.alpha}: about ${Math.round(r.testedCells * r.settings.alpha)} cells would be flagged by chance alone`}.`,
      ...(corrected && r.smallestP * r.testedCells >= r.settings.alpha
        ? [`With ${int(r.testedCells)} cells tested, ${CORRECTION_LABEL[r.settings.correction]} needs p below about ${pValue(r.settings.alpha / r.testedCells)} for the strongest cell, smaller than ${int(r.settings.permutations)} permutations can show: raise the permutations (at least ${int(Math.ceil(r.testedCells / r.settings.alpha))}) or narrow the filters to get flags after correction; * marks cells below α before correction.`]
        : []),
      ...(r.tested.sampled
        ? [`To keep the page fast the test ran on a random sample of ${int(r.tested.sequences)} of the ${int(r.sequences)} sequences (${int(r.tested.codes)} codes, drawn with the seed); the counts are over all of them, "tested" and "expected" over the sample.`]
        : []),
    ],
    tables: [
      {
        caption: 'Transitions observed, most frequent first',
        columns: [{ label: 'From' }, { label: 'To' }, { label: 'Count', num: true }, ...(r.tested.sampled ? [{ label: 'Tested', num: true }] : []), { label: 'Expected', num: true }, { label: 'p', num: true }, { label: `p (${CORRECTION_LABEL[r.settings.correction]})`, num: true }, { label: 'Flag' }],
        rows: rows.map((c) => ({
          cells: [
            cell(c.from, { header: true }),
            cell(c.to),
            cell(int(c.count), { num: true, strong: c.significant }),
            ...(r.tested.sampled ? [cell(int(c.testedCount), { num: true })] : []),
            cell(fixed(c.expected, 1), { num: true }),
            cell(pValue(c.p), { num: true }),
            cell(pValue(c.pAdjusted), { num: true }),
            cell(flag(c), { strong: c.significant }),
          ],
        })),
        truncated,
      },
    ],
  };
}

function presentCompare(r: CompareReport): AnalysisView {
  const label = (row: CompareReport['rows'][number]) => `${row.provider} / ${row.model}${row.modelVersion ? ` / ${row.modelVersion}` : ''}`;
  return {
    empty: r.behaviour !== null && r.rows.length === 0,
    chartLabel: r.behaviour ? `Rate of ${r.behaviour.code} per model and version: the dot is the rate, the line its Wilson 95% interval, n the effort.` : '',
    chart: r.behaviour ? { type: 'compare', behaviour: r.behaviour, rows: r.rows.map((row) => ({ label: label(row), ...row })) } : null,
    notes: r.behaviour
      ? ['Effort is the number of observations of the model version coded at all; the rate is observations showing the behaviour over effort, with a Wilson 95% interval (wide intervals: little effort, read with care).']
      : ['Choose a behaviour to compare it across models.'],
    tables: r.behaviour
      ? [
          {
            caption: `${r.behaviour.code} (${r.behaviour.name}) per model and version`,
            columns: [{ label: 'Provider / model / version' }, { label: 'Observations showing', num: true }, { label: 'Effort', num: true }, { label: 'Rate', num: true }, { label: '95% interval', num: true }],
            rows: r.rows.map((row) => ({ cells: [cell(label(row), { header: true }), cell(int(row.count), { num: true }), cell(int(row.effort), { num: true }), cell(pct(row.rate), { num: true }), cell(`${pct(row.low)} – ${pct(row.high)}`, { num: true })] })),
          },
        ]
      : [],
  };
}

function presentTimeBudget(r: TimeBudgetReport): AnalysisView {
  const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
  return {
    empty: r.rows.length === 0,
    chartLabel: 'Stacked bars: for each observer, the share of their session time each state behaviour ran (codes written in the segments).',
    chart: { type: 'time-budget', rows: r.rows.map((row) => ({ observer: row.observer, behaviour: row.behaviour, name: row.name, share: row.share, seconds: row.seconds })) },
    notes: [
      `${int(r.sessions)} filed live sessions on this ethogram version whose observation you may see. A state runs from its start press to the first stop press that was not undone (or the session's end); session time runs from opening to ending the session, summed over the sessions the person observed.`,
      'States can overlap, so one observer\'s shares may add up to more than 100%. Adjudication does not change the budget: it counts what each observer coded.',
    ],
    tables: [
      {
        caption: 'Time budget per observer and state behaviour',
        columns: [{ label: 'Observer' }, { label: 'State' }, { label: 'Time in state', num: true }, { label: 'Session time', num: true }, { label: 'Share', num: true }, { label: 'Sessions', num: true }],
        rows: r.rows.map((row) => ({ cells: [cell(row.observer, { header: true }), cell(`${row.behaviour} · ${row.name}`), cell(minutes(row.seconds), { num: true }), cell(minutes(row.sessionSeconds), { num: true }), cell(pct(row.share), { num: true }), cell(int(row.sessions), { num: true })] })),
      },
    ],
  };
}
