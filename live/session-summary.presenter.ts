import { coefficientBarChart, formatFigure, kappaBand, kappaHeatMap } from '../observations/agreement/agreement-charts.presenter.ts';
import type { AgreementRow, Figure, PairKappa } from '../observations/agreement/agreement-report.ts';
import type { AgreementFigures, PairwiseKappa } from './live-agreement.ts';
import type { LiveEventView, StoredPayloads } from './live-events.ts';
import { allCodes, answersOf, codeId, codeRanges, type FoldedTurn, type SessionCode, type TextRange } from './session-record.ts';
import { excerpt } from '../observations/classify/rules/finding.ts';
import type { SessionSummary, SessionSummaryBehaviour } from './session-summary.queries.ts';

/**
 * The end-of-session summary as the page draws it (server/views/pages/live/summary.hbs): the conversation with
 * every observer's codes on it (highlighted in the text, and one lane per observer under each answer, drawn as
 * server-rendered SVG), a table of each observer's codes, the agreement figures with the agreement page's bar
 * chart and heat map (observations/agreement/agreement-charts.presenter.ts), the comments and the adjudication
 * rows. Pure: it reads a `SessionSummary` and returns plain data for the template.
 *
 * Nothing is told by colour alone: every mark carries its behaviour's code as text, shapes tell points (a
 * triangle), spans (a filled bar) and states (an outlined bar with square ends) apart, a state the end closed
 * says "closed by the end", and every figure is in a table too.
 */

const HEX = /^#[0-9a-f]{6}$/i;
const GREY = '#888888';

export const statusLabels: Record<SessionSummary['session']['status'], string> = { open: 'open', ended: 'ended', filed: 'filed as an observation' };

const turnStatusLabels: Record<FoldedTurn['status'], string> = {
  streaming: 'still answering',
  complete: 'complete',
  stopped: 'stopped by the driver',
  failed: 'failed',
  interrupted: 'interrupted (the server restarted)',
};

/** One code as the tables, the marks and the adjudication form show it. */
export interface CodeView {
  id: string;
  domId: string;
  coderId: string;
  coder: string;
  kind: SessionCode['kind'];
  kindLabel: string;
  code: string;
  name: string;
  colour: string;
  /** Where it is, in words ("answer 1, characters 5–20"). */
  where: string;
  /** The text it marks: a span's quote, a state's text, the last characters seen before a point. */
  text: string;
  modifiers: string;
  rationale: string;
  autoClosed: boolean;
  running: boolean;
  at: string;
  seq: number;
  decision: 'accept' | 'reject' | null;
  decisionLabel: string;
  decidedBy: string;
}

/** A run of answer text and the codes covering all of it. */
interface TextRun { text: string; codingIds: string; label: string; colour: string; overlap: boolean }

/** One mark in an observer's lane under an answer. */
interface LaneMark {
  bottom: number;
  closedTop: number;
  closedBottom: number;
  shape: 'point' | 'span' | 'state';
  /** Bars: the rectangle. Points: `x` is the press position, `path` the triangle. */
  x: number;
  y: number;
  width: number;
  height: number;
  path: string;
  colour: string;
  label: string;
  labelX: number;
  labelY: number;
  title: string;
  autoClosed: boolean;
  /** The end marker of a state the end closed ("⇥"), drawn at its right edge. */
  endX: number;
  continuesBefore: boolean;
  continuesAfter: boolean;
}

interface LaneRow { name: string; countY: number; count: number; countLabel: string; y: number; height: number; labelY: number; separatorY: number; emptyY: number; marks: LaneMark[] }

export interface LaneChart { nameX: number; emptyX: number; hasAutoClosed: boolean; width: number; height: number; plotLeft: number; plotRight: number; axisY: number; tickY: number; ticks: Array<{ x: number; label: string }>; rows: LaneRow[]; title: string }

const LANE_LABEL = 150;
const LANE_PLOT = 560;
const LANE_RIGHT = 40;
const LANE_TOP = 30;
const SUB_ROW = 28;
const BAR = 11;
const CHAR_WIDTH = 6.6;

const round = (v: number) => Math.round(v * 10) / 10;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const colourOf = (b: SessionSummaryBehaviour | undefined) => (b && HEX.test(b.colour) ? b.colour : GREY);

/** Where a code is, in words; turns and answers count from 1, characters from 0 (as offsets do). */
export function describeWhere(code: SessionCode): string {
  if (code.kind === 'point') return `answer ${code.turn + 1}, at character ${code.offset}`;
  if (code.kind === 'span') return `answer ${code.turn + 1}, characters ${code.start}–${code.end}`;
  const from = code.from;
  const to = code.to;
  const end = code.autoClosed ? ' (closed by the end)' : '';
  if (!to) return `answer ${from.turn + 1} from character ${from.offset}, still running`;
  if (to.turn === from.turn) return `answer ${from.turn + 1}, characters ${from.offset}–${to.offset}${end}`;
  return `answer ${from.turn + 1} character ${from.offset} to answer ${to.turn + 1} character ${to.offset}${end}`;
}

/** The text a code marks, for tables: the quote, the state's text, or what had arrived before the press. */
function codeText(code: SessionCode, answers: readonly string[]): string {
  if (code.kind === 'span') return excerpt(code.quote, 160);
  if (code.kind === 'point') {
    const answer = answers[code.turn] ?? '';
    const before = answer.slice(Math.max(0, code.offset - 60), code.offset);
    return before ? `…${excerpt(before, 60)}` : '(before any text arrived)';
  }
  return excerpt(codeRanges(code, answers).map((r) => (answers[r.turn] ?? '').slice(r.start, r.end)).join(' … '), 160);
}

/** Every surviving code of the summary, labelled, in log order. */
export function presentCodes(summary: SessionSummary): CodeView[] {
  const behaviours = new Map(summary.behaviours.map((b) => [b.code, b]));
  const decisions = new Map(summary.decisions.map((d) => [d.eventId, d]));
  const answers = answersOf(summary.record);
  const nameOf = nameLookup(summary);
  return allCodes(summary.record).map((c) => {
    const id = codeId(c);
    const b = behaviours.get(c.behaviourCode);
    const d = decisions.get(id);
    return {
      id,
      domId: `code-${id}`,
      coderId: c.coderId,
      coder: nameOf(c.coderId),
      kind: c.kind,
      kindLabel: c.kind,
      code: c.behaviourCode,
      name: b?.name ?? c.behaviourCode,
      colour: colourOf(b),
      where: describeWhere(c),
      text: codeText(c, answers),
      modifiers: Object.entries(c.modifiers).map(([k, v]) => `${k}: ${v}`).join(', '),
      rationale: c.rationale,
      autoClosed: c.kind === 'state' && c.autoClosed,
      running: c.kind === 'state' && c.to === null,
      at: c.at,
      seq: c.seq,
      decision: d?.decision ?? null,
      decisionLabel: d ? (d.decision === 'accept' ? 'accepted' : 'rejected') : 'not adjudicated',
      decidedBy: d ? nameOf(d.by) : '',
    };
  });
}

export function nameLookup(summary: Pick<SessionSummary, 'names'>): (id: string | null) => string {
  return (id) => (id === null ? 'the server' : (summary.names[id] ?? 'someone no longer listed'));
}

/**
 * An answer's text cut at every code's boundaries (codeRanges: what agreement and filing count), each run
 * listing the codes covering it, so overlapping codes render as flat, non-nested marks.
 */
export function answerRuns(answer: string, turn: number, codes: readonly SessionCode[], views: ReadonlyMap<string, CodeView>, answers: readonly string[]): TextRun[] {
  const pieces: Array<{ view: CodeView; start: number; end: number }> = [];
  for (const c of codes) {
    const view = views.get(codeId(c));
    if (!view) continue;
    for (const r of codeRanges(c, answers)) if (r.turn === turn) pieces.push({ view, start: r.start, end: r.end });
  }
  const cuts = [...new Set([0, answer.length, ...pieces.flatMap((p) => [p.start, p.end])])].sort((a, b) => a - b);
  const runs: TextRun[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const from = cuts[i]!;
    const to = cuts[i + 1]!;
    const covering = pieces.filter((p) => p.start <= from && p.end >= to).map((p) => p.view);
    runs.push({
      text: answer.slice(from, to),
      codingIds: covering.map((v) => v.id).join(' '),
      label: covering.map((v) => `${v.code} (${v.kind}${v.autoClosed ? ', closed by the end' : ''}) by ${v.coder}`).join('; '),
      colour: covering[0]?.colour ?? '',
      overlap: covering.length > 1,
    });
  }
  if (runs.length === 0) runs.push({ text: '', codingIds: '', label: '', colour: '', overlap: false });
  return runs;
}

/**
 * The lanes under one answer: one per observer, each code a mark placed by character offset along the answer
 * (the answer's whole length is the plot's width). Marks that would overlap (their labels included) are
 * stacked on sub-rows of the observer's lane, so every label stays readable.
 */
export function laneChart(turn: number, answers: readonly string[], observers: ReadonlyArray<{ id: string; name: string }>, codes: readonly SessionCode[], views: ReadonlyMap<string, CodeView>): LaneChart {
  const length = answers[turn]?.length ?? 0;
  const scale = (offset: number) => round(LANE_LABEL + (length === 0 ? 0 : (Math.min(Math.max(offset, 0), length) / length) * LANE_PLOT));
  let y = LANE_TOP;
  const rows: LaneRow[] = observers.map((observer) => {
    const items: Array<Omit<LaneMark, 'y' | 'labelY' | 'path' | 'bottom' | 'closedTop' | 'closedBottom'> & { extentEnd: number; key: string }> = [];
    for (const c of codes) {
      if (c.coderId !== observer.id) continue;
      const view = views.get(codeId(c));
      if (!view) continue;
      if (c.kind === 'point') {
        if (c.turn !== turn) continue;
        const x = scale(c.offset);
        const label = c.behaviourCode;
        items.push({
          key: view.id, shape: 'point', x, width: 0, height: BAR, colour: view.colour, label, labelX: round(x - 5), endX: 0,
          title: `${view.code} ${view.name}: point by ${view.coder}, ${view.where}`, autoClosed: false, continuesBefore: false, continuesAfter: false,
          extentEnd: x - 5 + Math.max(10, label.length * CHAR_WIDTH),
        });
        continue;
      }
      const ranges: TextRange[] = codeRanges(c, answers).filter((r) => r.turn === turn);
      for (const r of ranges) {
        const first = c.kind === 'state' ? c.from.turn === turn : true;
        const last = c.kind === 'state' ? (c.to ? c.to.turn === turn : r.end === length) : true;
        const x = scale(r.start);
        const width = Math.max(3, round(scale(r.end) - x));
        const autoClosed = c.kind === 'state' && c.autoClosed && last;
        const label = `${c.behaviourCode}${autoClosed ? ' ⇥ closed by the end' : ''}${c.kind === 'state' && !first ? ' (continued)' : ''}`;
        items.push({
          key: view.id, shape: c.kind, x, width, height: BAR, colour: view.colour, label, labelX: x, endX: round(x + width),
          title: `${view.code} ${view.name}: ${c.kind} by ${view.coder}, ${view.where}`, autoClosed,
          continuesBefore: !first, continuesAfter: !last,
          extentEnd: x + Math.max(width, label.length * CHAR_WIDTH),
        });
      }
    }
    // Greedy packing on sub-rows in order of position: a mark goes on the first sub-row it does not overlap.
    items.sort((a, b) => a.x - b.x);
    const ends: number[] = [];
    const marks: LaneMark[] = items.map(({ extentEnd, key: _key, ...item }) => {
      const start = item.shape === 'point' ? item.x - 5 : item.x;
      let row = ends.findIndex((end) => end + 6 <= start);
      if (row === -1) row = ends.push(extentEnd) - 1;
      else ends[row] = extentEnd;
      const top = y + 4 + row * SUB_ROW;
      const path = item.shape === 'point' ? `M${round(item.x - 5)} ${top} L${round(item.x + 5)} ${top} L${item.x} ${top + BAR} Z` : '';
      return { ...item, y: top, labelY: top + BAR + 11, path, bottom: top + BAR, closedTop: top - 3, closedBottom: top + BAR + 3 };
    });
    const height = Math.max(1, ends.length) * SUB_ROW + 6;
    const row: LaneRow = {
      name: observer.name.length > 22 ? `${observer.name.slice(0, 21)}…` : observer.name,
      count: marks.length,
      countLabel: plural(new Set(items.map((i) => i.key)).size, 'code'),
      y,
      height,
      labelY: y + 15,
      countY: y + 28,
      separatorY: y + height,
      emptyY: y + 15,
      marks,
    };
    y += height;
    return row;
  });
  const ticks = [...new Set([0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * length)))].map((offset) => ({ x: scale(offset), label: String(offset) }));
  const who = rows.map((r) => `${r.name}: ${r.countLabel}`).join('; ');
  return {
    nameX: LANE_LABEL - 10,
    emptyX: LANE_LABEL + 4,
    hasAutoClosed: rows.some((r) => r.marks.some((m) => m.autoClosed)),
    width: LANE_LABEL + LANE_PLOT + LANE_RIGHT,
    height: y + 6,
    plotLeft: LANE_LABEL,
    plotRight: LANE_LABEL + LANE_PLOT,
    axisY: LANE_TOP - 4,
    tickY: LANE_TOP - 10,
    ticks,
    rows,
    title: `Codes on answer ${turn + 1} (${plural(length, 'character')}), one lane per observer: ${who || 'no observers'}. The table of each observer's codes lists them.`,
  };
}

/** A figure as the tables print it (the agreement page's shape: text or "undefined" with the reason, and n). */
interface FigureView { text: string; isUndefined: boolean; reason: string | null; n: number; nMeaning: string; band: string }

function figureOf(c: { value: number | null; reason?: string }, n: number, nMeaning: string): Figure {
  return { value: c.value, reason: c.value === null ? (c.reason ?? 'undefined') : null, n, nMeaning };
}

function figureView(f: Figure, percent = false): FigureView {
  const text = percent && f.value !== null ? `${(f.value * 100).toFixed(1)}%` : formatFigure(f);
  return { text, isUndefined: f.value === null, reason: f.reason, n: f.n, nMeaning: f.nMeaning, band: kappaBand(f.value).word };
}

interface LiveFigures { percent: Figure; fleiss: Figure; alpha: Figure; cohen: PairKappa[] }

function liveFigures(f: AgreementFigures, unitMeaning: string, coder: (id: string) => { id: string; name: string }): LiveFigures {
  const pairs = (list: PairwiseKappa) =>
    list.map((p) => ({ coderA: coder(p.coderA), coderB: coder(p.coderB), kappa: figureOf(p.kappa, p.kappa.units ?? f.units, `${unitMeaning} both rated`) }));
  return {
    percent: figureOf(f.percentAgreement, f.percentAgreement.units ?? f.units, unitMeaning),
    fleiss: figureOf(f.fleissKappa, f.fleissKappa.units ?? f.units, unitMeaning),
    alpha: figureOf(f.krippendorffAlpha, f.krippendorffAlpha.pairable ?? 0, 'pairable ratings'),
    cohen: pairs(f.pairwiseCohensKappa),
  };
}

/** The agreement section: tables of every figure, the bar chart, the pairwise heat map, the point matching. */
export function presentAgreement(summary: SessionSummary) {
  const a = summary.agreement;
  const nameOf = nameLookup(summary);
  const coder = (id: string) => ({ id, name: nameOf(id) });
  const behaviours = new Map(summary.behaviours.map((b) => [b.code, b]));
  const observers = a.observers.map(coder);
  const pooled = liveFigures(a.pooled, 'behaviour × segment units', coder);
  const rows = a.behaviours.map((b) => ({ b, figures: liveFigures(b, 'segments', coder) }));

  const rowView = (code: string, name: string, units: number, f: LiveFigures, marked: Array<{ name: string; count: number }>) => ({
    code,
    name,
    units,
    marked,
    percent: figureView(f.percent, true),
    fleiss: figureView(f.fleiss),
    alpha: figureView(f.alpha),
    pairs: f.cohen.map((p) => ({ a: p.coderA.name, b: p.coderB.name, kappa: figureView(p.kappa) })),
  });
  const tableRows = [
    rowView('All', 'All behaviours pooled', a.pooled.units, pooled, []),
    ...rows.map(({ b, figures }) =>
      rowView(b.behaviourCode, behaviours.get(b.behaviourCode)?.name ?? b.behaviourCode, b.units, figures, observers.map((o) => ({ name: o.name, count: b.marked[o.id] ?? 0 }))),
    ),
  ];

  const chartRow = (behaviour: AgreementRow['behaviour'], units: number, f: LiveFigures): AgreementRow => ({
    behaviour, unit: 'span', units, presentRatings: 0, percentAgreement: f.percent, cohen: f.cohen, fleiss: f.fleiss, alpha: f.alpha,
  });
  const enough = observers.length >= 2 && a.segments.length > 0;
  const barChart = enough && rows.length
    ? coefficientBarChart([
        chartRow(null, a.pooled.units, pooled),
        ...rows.map(({ b, figures }) => chartRow({ id: b.behaviourId, code: b.behaviourCode, name: behaviours.get(b.behaviourCode)?.name ?? b.behaviourCode }, b.units, figures)),
      ])
    : null;
  const heatMap = enough ? kappaHeatMap(observers, pooled.cohen) : null;
  const matrix = observers.map((o) => ({
    name: o.name,
    cells: observers.map((other) => {
      if (o.id === other.id) return { self: true };
      const p = pooled.cohen.find((x) => (x.coderA.id === o.id && x.coderB.id === other.id) || (x.coderA.id === other.id && x.coderB.id === o.id));
      return p ? { self: false, ...figureView(p.kappa) } : { self: true };
    }),
  }));
  const pct = (v: number | null) => (v === null ? 'undefined (neither pressed it)' : `${(v * 100).toFixed(1)}%`);
  const pointPairs = a.pointMatching.pairs
    .filter((p) => p.behaviours.length > 0)
    .map((p) => ({
      a: nameOf(p.coderA),
      b: nameOf(p.coderB),
      rows: p.behaviours.map((r) => ({ code: r.behaviourCode, matched: r.matched, onlyA: r.onlyA, onlyB: r.onlyB, agreement: pct(r.agreement) })),
      pooled: { matched: p.pooled.matched, onlyA: p.pooled.onlyA, onlyB: p.pooled.onlyB, agreement: pct(p.pooled.agreement) },
    }));
  return {
    unitDescription: a.unitDescription,
    segments: a.segments.length,
    maxSegmentChars: a.maxSegmentChars,
    toleranceChars: a.pointMatching.toleranceChars,
    observers,
    observerCount: observers.length,
    tooFew: observers.length < 2,
    tooFewReason: a.pooled.percentAgreement.value === null ? (a.pooled.percentAgreement.reason ?? '') : '',
    rows: tableRows,
    hasBehaviours: rows.length > 0,
    barChart,
    heatMap,
    matrix,
    hasPairs: pooled.cohen.length > 0,
    pointPairs,
  };
}

/** The conversation with the codes drawn on it. */
export function presentTurns(summary: SessionSummary, views: ReadonlyMap<string, CodeView>) {
  const answers = answersOf(summary.record);
  const codes = allCodes(summary.record);
  const nameOf = nameLookup(summary);
  const observers = summary.record.coders.map((id) => ({ id, name: nameOf(id) }));
  // Each answer is drawn from the codes that touch it only (a state may run over several answers).
  const lastTurn = answers.length - 1;
  const byTurn = new Map<number, SessionCode[]>();
  for (const c of codes) {
    const [from, to] = c.kind === 'state' ? [c.from.turn, c.to?.turn ?? Math.max(lastTurn, c.from.turn)] : [c.turn, c.turn];
    for (let turn = from; turn <= to; turn++) {
      const list = byTurn.get(turn);
      if (list) list.push(c);
      else byTurn.set(turn, [c]);
    }
  }
  return summary.record.turns.map((t) => ({
    turn: t.turn,
    number: t.turn + 1,
    prompt: t.prompt,
    promptedBy: nameOf(t.promptedBy),
    model: t.model ?? '',
    statusLabel: turnStatusLabels[t.status] ?? t.status,
    error: t.error?.message ?? '',
    stoppedBy: t.stoppedBy ? nameOf(t.stoppedBy) : '',
    runs: answerRuns(t.answer, t.turn, byTurn.get(t.turn) ?? [], views, answers),
    empty: t.answer.length === 0,
    lanes: observers.length ? laneChart(t.turn, answers, observers, byTurn.get(t.turn) ?? [], views) : null,
  }));
}

/** The whole page's data for an ended (or filed) session. */
export function presentSummaryPage(summary: SessionSummary) {
  const codes = presentCodes(summary);
  const views = new Map(codes.map((c) => [c.id, c]));
  const nameOf = nameLookup(summary);
  const presses = new Map(summary.record.participants.map((p) => [p.userId, p.codes]));
  const observerTables = summary.record.coders.map((id) => {
    const mine = codes.filter((c) => c.coderId === id);
    return {
      name: nameOf(id),
      count: mine.length,
      countLabel: plural(mine.length, 'code'),
      presses: presses.get(id) ?? 0,
      codes: mine,
    };
  });
  const coderSet = new Set(summary.record.coders);
  const silentObservers = summary.participants.filter((p) => p.role === 'observer' && !coderSet.has(p.userId)).map((p) => p.displayName);
  const decided = codes.filter((c) => c.decision !== null).length;
  return {
    turns: presentTurns(summary, views),
    observerTables,
    silentObservers,
    codes,
    codeCount: codes.length,
    decided,
    undecided: codes.length - decided,
    accepted: codes.filter((c) => c.decision === 'accept').length,
    rejected: codes.filter((c) => c.decision === 'reject').length,
    agreement: presentAgreement(summary),
    comments: summary.record.comments.map((c) => ({ author: nameOf(c.authorId), text: c.text, at: c.at, seq: c.seq })),
    endedBy: summary.record.endedBy ? nameOf(summary.record.endedBy) : '',
    behavioursUsed: [...new Set(codes.map((c) => c.code))].map((code) => codes.find((c) => c.code === code)!).map((c) => ({ code: c.code, name: c.name, colour: c.colour })),
  };
}

// ---- the event log ----

/** One row of the log page: an event, or a run of consecutive `tokens` events of one answer folded together. */
export interface LogRow {
  seq: string;
  at: string;
  who: string;
  type: string;
  summary: string;
  quote: string;
  id: string;
  link: string;
}

/**
 * Rows for the log page. Consecutive `tokens` events of the same answer become one row ("seq 12–40") with the
 * text they carried, so a long answer is one readable line rather than hundreds; every other event is a row.
 */
export function presentLogRows(events: readonly LiveEventView[], nameOf: (id: string | null) => string): LogRow[] {
  const rows: LogRow[] = [];
  let run: Array<LiveEventView<'tokens'>> = [];
  const flush = () => {
    if (!run.length) return;
    const first = run[0]!;
    const last = run.at(-1)!;
    const text = run.map((e) => e.payload.text).join('');
    const end = last.payload.offset + last.payload.text.length;
    rows.push({
      seq: run.length === 1 ? String(first.seq) : `${first.seq}–${last.seq}`,
      at: first.at,
      who: nameOf(first.actorId),
      type: run.length === 1 ? 'tokens' : `tokens ×${run.length}`,
      summary: `Answer ${first.payload.turn + 1}, characters ${first.payload.offset}–${end}`,
      quote: excerpt(text, 240),
      id: first.id,
      link: '',
    });
    run = [];
  };
  for (const e of events) {
    if (e.type === 'tokens') {
      const t = e as LiveEventView<'tokens'>;
      const prev = run.at(-1);
      if (prev && (prev.payload.turn !== t.payload.turn || prev.seq + 1 !== t.seq || prev.payload.offset + prev.payload.text.length !== t.payload.offset)) flush();
      run.push(t);
      continue;
    }
    flush();
    rows.push({ seq: String(e.seq), at: e.at, who: nameOf(e.actorId), type: e.type, id: e.id, ...describeEvent(e, nameOf) });
  }
  flush();
  return rows;
}

/** An event's payload in words (and a quoted text, when it carries one). */
export function describeEvent(e: LiveEventView, nameOf: (id: string | null) => string): { summary: string; quote: string; link: string } {
  const p = e.payload as StoredPayloads[keyof StoredPayloads];
  const none = { quote: '', link: '' };
  switch (e.type) {
    case 'session.opened': {
      const o = p as StoredPayloads['session.opened'];
      return { summary: `Opened “${o.title}”${o.blind ? ' (blind)' : ''} with ${o.target}`, ...none };
    }
    case 'participant.added': {
      const o = p as StoredPayloads['participant.added'];
      return { summary: `${o.displayName} added as ${o.role}`, ...none };
    }
    case 'participant.removed':
      return { summary: `${(p as StoredPayloads['participant.removed']).displayName} removed from the session`, ...none };
    case 'presence.joined': {
      const o = p as StoredPayloads['presence.joined'];
      return { summary: `${o.displayName} came in (${o.role})`, ...none };
    }
    case 'presence.left':
      return { summary: `${(p as StoredPayloads['presence.left']).displayName} left`, ...none };
    case 'prompt': {
      const o = p as StoredPayloads['prompt'];
      return { summary: `Prompt ${o.turn + 1}`, quote: excerpt(o.text, 240), link: '' };
    }
    case 'answer.started': {
      const o = p as StoredPayloads['answer.started'];
      return { summary: `Answer ${o.turn + 1} started (model ${o.model})`, ...none };
    }
    case 'answer.ended': {
      const o = p as StoredPayloads['answer.ended'];
      const usage = o.usage ? `; tokens in ${o.usage.inputTokens ?? '?'}, out ${o.usage.outputTokens ?? '?'}` : '';
      const error = o.error ? `; ${o.error.reason}: ${o.error.message}` : '';
      return { summary: `Answer ${o.turn + 1} ${o.status}, ${plural(o.length, 'character')}${o.finishReason ? `, finish reason ${o.finishReason}` : ''}${usage}${error}`, ...none };
    }
    case 'stop':
      return { summary: `Stopped answer ${(p as StoredPayloads['stop']).turn + 1}`, ...none };
    case 'code': {
      const o = p as StoredPayloads['code'];
      const mods = Object.entries(o.modifiers).map(([k, v]) => `${k}: ${v}`).join(', ');
      const extra = `${mods ? ` [${mods}]` : ''}${o.rationale ? `; rationale: ${excerpt(o.rationale, 120)}` : ''}`;
      const at = `answer ${o.at.turn + 1}, character ${o.at.offset}`;
      if (o.kind === 'span' && o.span) return { summary: `${o.behaviourCode} span, answer ${o.span.turn + 1}, characters ${o.span.start}–${o.span.end}${extra}`, quote: excerpt(o.span.quote, 240), link: '' };
      if (o.kind === 'state_start') return { summary: `${o.behaviourCode} state started at ${at}${extra}`, ...none };
      if (o.kind === 'state_stop') return { summary: `${o.behaviourCode} state stopped at ${at}${o.autoClosed ? ', closed by the end of the session' : ''} (started by ${o.startEventId ?? '?'})`, ...none };
      return { summary: `${o.behaviourCode} point at ${at}${extra}`, ...none };
    }
    case 'undo':
      return { summary: `Undid code ${(p as StoredPayloads['undo']).target}`, ...none };
    case 'comment':
      return { summary: 'Comment', quote: (p as StoredPayloads['comment']).text, link: '' };
    case 'session.ended': {
      const o = p as StoredPayloads['session.ended'];
      const closed = o.closedStates.map((s) => `${s.behaviourCode} of ${nameOf(s.coderId)}`).join(', ');
      return { summary: `Session ended${closed ? `; closed the states still running: ${closed}` : ''}`, ...none };
    }
    case 'adjudicated': {
      const o = p as StoredPayloads['adjudicated'];
      const accepted = o.decisions.filter((d) => d.decision === 'accept').length;
      return { summary: `Adjudicated ${plural(o.decisions.length, 'code')}: ${accepted} accepted, ${o.decisions.length - accepted} rejected`, ...none };
    }
    case 'session.filed': {
      const o = p as StoredPayloads['session.filed'];
      return { summary: `Filed as observation ${o.observationId}`, quote: '', link: `/observations/${o.observationId}` };
    }
    default:
      return { summary: excerpt(JSON.stringify(e.payload), 240), ...none };
  }
}
