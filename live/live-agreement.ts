import {
  fleissKappa,
  krippendorffAlphaNominal,
  pairwiseCohensKappa,
  percentAgreement,
  type Label,
} from '../observations/agreement/agreement-statistics.ts';
import { ABSENT, PRESENT } from '../observations/agreement/agreement-units.ts';
import { allCodes, answersOf, codeRanges, type SessionCode, type SessionRecord, type TextRange } from './session-record.ts';

/**
 * How far a live session's observers agreed, computed from the folded log when the session ends.
 *
 * ## The unit: answer segments
 * Each answer is cut into segments (`segmentAnswer`): sentences (ending in `.`, `!`, `?` or `…`, with any closing
 * quotes or brackets, before whitespace) and lines; a segment longer than `maxSegmentChars` (an answer with no
 * sentence end, say) is cut into windows of that many characters. Whitespace between sentences belongs to the
 * sentence before it, so the segments tile each answer exactly.
 *
 * For each behaviour, each observer rates every segment: `present` when one of their surviving (not undone)
 * codes of that behaviour covers a character of it, `absent` otherwise. What a code covers is `codeRanges`
 * (session-record.ts): a point its last character seen when the key was pressed, a state the text that arrived
 * while it ran, a span its selection. Unlike the product's span-level units, segments nobody marked count too,
 * so agreeing that a sentence does NOT show a behaviour is agreement.
 *
 * - Observers: everyone who pressed a code in the session (even if they undid it all). An observer who never
 *   coded is left out: the log cannot tell "watched and saw nothing" from "was not watching".
 * - Every observer rates every segment (no missing ratings): a live session is watched together.
 * - Behaviours: those some observer coded (a behaviour nobody coded would be all `absent`: no information).
 * - Adjudication plays no part: these figures describe what the observers did, not the adjudicated result.
 *
 * Figures per behaviour and pooled over all (behaviour, segment) units: percent agreement (pairwise), Fleiss'
 * kappa, Krippendorff's alpha (nominal) and Cohen's kappa for each pair of observers, from
 * observations/agreement/agreement-statistics.ts. A figure that is undefined is null with the reason (fewer than
 * two observers, no text, or no variation at all).
 *
 * ## Point matching (BORIS-style)
 * For event behaviours BORIS compares the times of two observers' events within a tolerance. Here, for each pair
 * of observers and each behaviour, their points (hotkey presses, not spans) in the same turn whose offsets are at
 * most `pointToleranceChars` apart are matched one to one (the most matches possible); agreement is
 * matched / (matched + unmatched of either).
 */

export const DEFAULT_MAX_SEGMENT_CHARS = 200;
export const DEFAULT_POINT_TOLERANCE_CHARS = 20;

export interface LiveAgreementOptions {
  /** Longest segment; longer sentences are cut into windows of this many characters. */
  maxSegmentChars?: number;
  /** How far apart (in characters of the same answer) two observers' points of a behaviour may be and still match. */
  pointToleranceChars?: number;
  /** Whose codes to compare (user ids, in report order); by default everyone who pressed a code. */
  observers?: readonly string[];
}

type PercentAgreement = ReturnType<typeof percentAgreement>;
type FleissKappa = ReturnType<typeof fleissKappa>;
type KrippendorffAlpha = ReturnType<typeof krippendorffAlphaNominal>;
export type PairwiseKappa = ReturnType<typeof pairwiseCohensKappa>;

/** The figures of one reliability matrix; `units` is how many (behaviour, segment) units it holds. */
export interface AgreementFigures {
  units: number;
  percentAgreement: PercentAgreement;
  fleissKappa: FleissKappa;
  krippendorffAlpha: KrippendorffAlpha;
  /** One entry per pair of observers (none with fewer than two observers). */
  pairwiseCohensKappa: PairwiseKappa;
}

export interface BehaviourAgreement extends AgreementFigures {
  behaviourCode: string;
  behaviourId: string;
  /** How many segments each observer marked with this behaviour, by user id. */
  marked: Record<string, number>;
}

export interface PointMatchCount {
  matched: number;
  /** Points of the first observer with no partner, and of the second. */
  onlyA: number;
  onlyB: number;
  /** matched / (matched + onlyA + onlyB); null when neither pressed the behaviour. */
  agreement: number | null;
}

export interface PointMatchPair {
  coderA: string;
  coderB: string;
  /** Behaviours either of the two pressed as points. */
  behaviours: Array<PointMatchCount & { behaviourCode: string }>;
  pooled: PointMatchCount;
}

export interface LiveAgreement {
  unit: 'segment';
  /** The unit in words, for the page and exports. */
  unitDescription: string;
  maxSegmentChars: number;
  pointToleranceChars: number;
  observers: string[];
  segments: TextRange[];
  behaviours: BehaviourAgreement[];
  pooled: AgreementFigures;
  pointMatching: { toleranceChars: number; pairs: PointMatchPair[] };
}

/** Computes the agreement of a folded session (see the module comment for the units and rules). */
export function computeLiveAgreement(record: SessionRecord, options: LiveAgreementOptions = {}): LiveAgreement {
  const maxSegmentChars = options.maxSegmentChars ?? DEFAULT_MAX_SEGMENT_CHARS;
  const pointToleranceChars = options.pointToleranceChars ?? DEFAULT_POINT_TOLERANCE_CHARS;
  const observers = [...(options.observers ?? record.coders)];
  const answers = answersOf(record);
  const segments = answers.flatMap((answer, turn) => segmentAnswer(answer, maxSegmentChars).map((s) => ({ turn, ...s })));
  const observerIndex = new Map(observers.map((id, i) => [id, i]));
  const codes = allCodes(record).filter((c) => observerIndex.has(c.coderId));

  const byBehaviour = new Map<string, SessionCode[]>();
  for (const c of codes) {
    const list = byBehaviour.get(c.behaviourCode);
    if (list) list.push(c);
    else byBehaviour.set(c.behaviourCode, [c]);
  }
  const behaviours: BehaviourAgreement[] = [];
  const pooledRatings: Label[][] = [];
  for (const [behaviourCode, list] of [...byBehaviour].sort(([a], [b]) => a.localeCompare(b))) {
    const ratings = segmentRatings(list, segments, answers, observerIndex);
    pooledRatings.push(...ratings);
    const marked = Object.fromEntries(observers.map((id, k) => [id, ratings.filter((row) => row[k] === PRESENT).length]));
    behaviours.push({ behaviourCode, behaviourId: list[0]!.behaviourId, marked, ...figures(ratings, observers, segments.length) });
  }

  return {
    unit: 'segment',
    unitDescription:
      `One unit per behaviour and answer segment (a sentence or line, cut into windows of at most ${maxSegmentChars} characters); ` +
      'an observer rates a segment "present" when one of their codes of the behaviour covers a character of it, "absent" otherwise.',
    maxSegmentChars,
    pointToleranceChars,
    observers,
    segments,
    behaviours,
    pooled: figures(pooledRatings, observers, segments.length),
    pointMatching: { toleranceChars: pointToleranceChars, pairs: pointMatching(codes, observers, pointToleranceChars) },
  };
}

/** ratings[segment][observer] for one behaviour's codes. */
function segmentRatings(codes: SessionCode[], segments: TextRange[], answers: readonly string[], observerIndex: Map<string, number>): Label[][] {
  const ratings: Label[][] = segments.map(() => Array.from({ length: observerIndex.size }, () => ABSENT));
  const firstOfTurn = new Map<number, number>();
  segments.forEach((s, i) => {
    if (!firstOfTurn.has(s.turn)) firstOfTurn.set(s.turn, i);
  });
  for (const code of codes) {
    const k = observerIndex.get(code.coderId)!;
    for (const range of codeRanges(code, answers)) {
      for (let i = firstOfTurn.get(range.turn) ?? segments.length; i < segments.length && segments[i]!.turn === range.turn; i++) {
        const s = segments[i]!;
        if (range.start < s.end && range.end > s.start) ratings[i]![k] = PRESENT;
      }
    }
  }
  return ratings;
}

function figures(ratings: Label[][], observers: readonly string[], segmentCount: number): AgreementFigures {
  if (observers.length < 2) {
    return undefinedFigures(ratings.length, `Agreement needs at least two observers who coded; this session had ${observers.length}.`);
  }
  if (segmentCount === 0) return undefinedFigures(0, 'The answers hold no text, so there are no segments to compare.');
  return {
    units: ratings.length,
    percentAgreement: percentAgreement(ratings),
    fleissKappa: fleissKappa(ratings),
    krippendorffAlpha: krippendorffAlphaNominal(ratings),
    pairwiseCohensKappa: pairwiseCohensKappa(ratings, observers),
  };
}

function undefinedFigures(units: number, reason: string): AgreementFigures {
  return {
    units,
    percentAgreement: { value: null, reason },
    fleissKappa: { value: null, reason },
    krippendorffAlpha: { value: null, reason },
    pairwiseCohensKappa: [],
  };
}

const SENTENCE_END = /[.!?…]+["'”’»)\]]*\s+|\n\s*/g;

/**
 * Cuts an answer into segments `[start, end)` that tile it: after each sentence end (`.`, `!`, `?`, `…`, then
 * closing quotes or brackets, then whitespace, which stays with the sentence) and after each line break; then any
 * segment longer than `maxChars` into windows of `maxChars` (the last one shorter). A segment of whitespace
 * only (leading blank lines) joins the next one. A plain rule, not a linguist: "e.g. this" is cut after "e.g.".
 */
export function segmentAnswer(text: string, maxChars = DEFAULT_MAX_SEGMENT_CHARS): Array<{ start: number; end: number }> {
  if (text.length === 0) return [];
  if (!(maxChars >= 1)) throw new Error(`segmentAnswer: maxChars must be at least 1 (got ${maxChars})`);
  const cuts: number[] = [];
  for (const m of text.matchAll(SENTENCE_END)) {
    const end = m.index + m[0].length;
    if (end < text.length) cuts.push(end);
  }
  const pieces: Array<{ start: number; end: number }> = [];
  let start = 0;
  for (const cut of [...cuts, text.length]) {
    // A whitespace-only piece (the answer opens with blank lines) is carried into the next one.
    if (cut <= start || (cut < text.length && text.slice(start, cut).trim() === '')) continue;
    pieces.push({ start, end: cut });
    start = cut;
  }
  return pieces.flatMap(({ start: s, end: e }) => {
    const windows: Array<{ start: number; end: number }> = [];
    for (let from = s; from < e; from += maxChars) windows.push({ start: from, end: Math.min(from + maxChars, e) });
    return windows;
  });
}

function pointMatching(codes: SessionCode[], observers: readonly string[], tolerance: number): PointMatchPair[] {
  // offsets[coder][behaviour][turn] = sorted offsets of their points.
  const offsets = new Map<string, Map<string, Map<number, number[]>>>();
  const pointBehaviours = new Set<string>();
  for (const c of codes) {
    if (c.kind !== 'point') continue;
    pointBehaviours.add(c.behaviourCode);
    const byBehaviour = offsets.get(c.coderId) ?? new Map<string, Map<number, number[]>>();
    offsets.set(c.coderId, byBehaviour);
    const byTurn = byBehaviour.get(c.behaviourCode) ?? new Map<number, number[]>();
    byBehaviour.set(c.behaviourCode, byTurn);
    byTurn.set(c.turn, [...(byTurn.get(c.turn) ?? []), c.offset]);
  }
  const pairs: PointMatchPair[] = [];
  for (let i = 0; i < observers.length; i++) {
    for (let j = i + 1; j < observers.length; j++) {
      const a = observers[i]!;
      const b = observers[j]!;
      const rows: PointMatchPair['behaviours'] = [];
      for (const behaviourCode of [...pointBehaviours].sort()) {
        const ofA = offsets.get(a)?.get(behaviourCode);
        const ofB = offsets.get(b)?.get(behaviourCode);
        if (!ofA && !ofB) continue;
        let matched = 0;
        let countA = 0;
        let countB = 0;
        for (const turn of new Set([...(ofA?.keys() ?? []), ...(ofB?.keys() ?? [])])) {
          const xs = ofA?.get(turn) ?? [];
          const ys = ofB?.get(turn) ?? [];
          matched += matchWithin(xs, ys, tolerance);
          countA += xs.length;
          countB += ys.length;
        }
        rows.push({ behaviourCode, ...matchCount(matched, countA - matched, countB - matched) });
      }
      const sum = (key: 'matched' | 'onlyA' | 'onlyB') => rows.reduce((s, r) => s + r[key], 0);
      pairs.push({ coderA: a, coderB: b, behaviours: rows, pooled: matchCount(sum('matched'), sum('onlyA'), sum('onlyB')) });
    }
  }
  return pairs;
}

function matchCount(matched: number, onlyA: number, onlyB: number): PointMatchCount {
  const all = matched + onlyA + onlyB;
  return { matched, onlyA, onlyB, agreement: all === 0 ? null : matched / all };
}

/**
 * The most one-to-one pairs (x, y) with |x - y| <= tolerance. On a line, walking both sorted lists and pairing
 * whenever the two heads are close enough (else dropping the smaller head, which nothing later can reach) is optimal.
 */
export function matchWithin(xs: readonly number[], ys: readonly number[], tolerance: number): number {
  const a = [...xs].sort((p, q) => p - q);
  const b = [...ys].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let matched = 0;
  while (i < a.length && j < b.length) {
    if (Math.abs(a[i]! - b[j]!) <= tolerance) {
      matched++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return matched;
}
