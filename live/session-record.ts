import type { LiveEventView, StoredEventType, StoredPayloads } from './live-events.ts';

/**
 * A live session rebuilt from its event log: the conversation and every participant's codes with undo applied.
 *
 * The log (live_events) is the session's truth; live_turns and live_open_states only serve the log's writer.
 * Folding the log is pure, so the summary page, the agreement figures and filing all read one interpretation of
 * it, and tests can check that interpretation on hand-written event arrays.
 */

/** A position in the conversation: `offset` characters (UTF-16 code units) into turn `turn`'s answer. */
export interface Position { turn: number; offset: number }

/** Characters `[start, end)` of one turn's answer. */
export interface TextRange { turn: number; start: number; end: number }

export type TurnStatus = 'streaming' | StoredPayloads['answer.ended']['status'];

/** One prompt and the answer it got, as far as the log tells. */
export interface FoldedTurn {
  turn: number;
  prompt: string;
  promptEventId: string;
  promptedBy: string | null;
  promptedAt: string;
  /** The model that answered (from `answer.started`), null until it started. */
  model: string | null;
  /**
   * The answer assembled from its `tokens` events by offset. A stretch the log does not hold (a log read from a
   * `sinceSeq`) reads as U+FFFD, so the offsets after it still point at the right characters.
   */
  answer: string;
  status: TurnStatus;
  finishReason: string | null;
  modelVersion: string | null;
  usage: StoredPayloads['answer.ended']['usage'];
  error: { reason: string; message: string } | null;
  /** Who pressed stop, when the driver stopped the answer. */
  stoppedBy: string | null;
}

interface CodeBase {
  coderId: string;
  behaviourCode: string;
  behaviourId: string;
  modifiers: Record<string, string>;
  rationale: string;
  /** When it was coded (the event's time) and its place in the log. */
  at: string;
  seq: number;
}

/** An event behaviour's hotkey press: it happened here. */
export interface PointCode extends CodeBase {
  kind: 'point';
  eventId: string;
  turn: number;
  offset: number;
}

/**
 * A state behaviour from its start press to its stop press. `to` and `stopEventId` are null while it runs (an
 * open session); `autoClosed` when the session's end stopped it. Adjudicated by its start event's id.
 */
export interface StateInterval extends CodeBase {
  kind: 'state';
  startEventId: string;
  stopEventId: string | null;
  from: Position;
  to: Position | null;
  autoClosed: boolean;
}

/** Selected text, coded. */
export interface SpanCode extends CodeBase {
  kind: 'span';
  eventId: string;
  turn: number;
  start: number;
  end: number;
  quote: string;
}

export type SessionCode = PointCode | StateInterval | SpanCode;

export interface CommentRecord { eventId: string; authorId: string | null; text: string; at: string; seq: number }

/** Someone the log names: added as a participant, present, or acting (prompting, coding, commenting...). */
export interface ParticipantRecord {
  userId: string;
  /** The latest name the log gives them (null when they only acted: the log names people in its roster events). */
  displayName: string | null;
  /** The latest role the log gives them (null when no roster event names it). */
  role: string | null;
  removed: boolean;
  prompts: number;
  /** Code presses, including ones later undone. */
  codes: number;
  comments: number;
}

export interface AdjudicationRecord { decision: 'accept' | 'reject'; by: string | null; at: string; seq: number }

export interface SessionRecord {
  /** The last sequence number folded (0 for an empty log). */
  lastSeq: number;
  /** The status the log implies: `ended` after `session.ended`, `filed` after `session.filed`. */
  status: 'open' | 'ended' | 'filed';
  title: string | null;
  openedAt: string | null;
  endedAt: string | null;
  endedBy: string | null;
  turns: FoldedTurn[];
  /** Surviving codes (undone ones left out), in log order. */
  points: PointCode[];
  states: StateInterval[];
  spans: SpanCode[];
  /** Ids of the code events withdrawn by an undo (a state's start or stop, a point, a span). */
  undone: string[];
  comments: CommentRecord[];
  participants: ParticipantRecord[];
  /** Everyone who pressed a code (even if they undid it), in the order of their first code. */
  coders: string[];
  /** The latest adjudication of each code, by its id (points and spans by event id, states by start event id). */
  adjudications: Record<string, AdjudicationRecord>;
  observationId: string | null;
}

type CodeEvent = LiveEventView<'code'>;

function is<T extends StoredEventType>(event: LiveEventView, type: T): event is LiveEventView<T> {
  return event.type === type;
}

/**
 * Folds a session's events (in seq order; they are sorted here anyway) into its record. Undo semantics follow
 * the log's writer (live-log.ts): undoing a point or a span withdraws it; undoing a state's start withdraws the
 * whole state, stop included; undoing a stop reopens the state until its next stop (the next press of the key
 * stores a new stop naming the same start).
 */
export function foldSession(events: readonly LiveEventView[]): SessionRecord {
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const record: SessionRecord = {
    lastSeq: 0,
    status: 'open',
    title: null,
    openedAt: null,
    endedAt: null,
    endedBy: null,
    turns: [],
    points: [],
    states: [],
    spans: [],
    undone: [],
    comments: [],
    participants: [],
    coders: [],
    adjudications: {},
    observationId: null,
  };
  const turns = new Map<number, FoldedTurn>();
  const codes: CodeEvent[] = [];
  const undone = new Set<string>();
  const people = new Map<string, ParticipantRecord>();
  const person = (userId: string): ParticipantRecord => {
    let p = people.get(userId);
    if (!p) people.set(userId, (p = { userId, displayName: null, role: null, removed: false, prompts: 0, codes: 0, comments: 0 }));
    return p;
  };

  for (const e of ordered) {
    record.lastSeq = Math.max(record.lastSeq, e.seq);
    if (is(e, 'session.opened')) {
      record.title = e.payload.title;
      record.openedAt = e.at;
    } else if (is(e, 'participant.added')) {
      Object.assign(person(e.payload.userId), { displayName: e.payload.displayName, role: e.payload.role, removed: false });
    } else if (is(e, 'participant.removed')) {
      Object.assign(person(e.payload.userId), { displayName: e.payload.displayName, removed: true });
    } else if (is(e, 'presence.joined')) {
      const p = person(e.payload.userId);
      p.displayName = e.payload.displayName;
      p.role ??= e.payload.role;
    } else if (is(e, 'prompt')) {
      turns.set(e.payload.turn, {
        turn: e.payload.turn, prompt: e.payload.text, promptEventId: e.id, promptedBy: e.actorId, promptedAt: e.at, model: null, answer: '',
        status: 'streaming', finishReason: null, modelVersion: null, usage: null, error: null, stoppedBy: null,
      });
      if (e.actorId) person(e.actorId).prompts++;
    } else if (is(e, 'answer.started')) {
      const t = turns.get(e.payload.turn);
      if (t) t.model = e.payload.model;
    } else if (is(e, 'tokens')) {
      const t = turns.get(e.payload.turn);
      if (t) t.answer = placeText(t.answer, e.payload.offset, e.payload.text);
    } else if (is(e, 'stop')) {
      const t = turns.get(e.payload.turn);
      if (t) t.stoppedBy = e.actorId;
    } else if (is(e, 'answer.ended')) {
      const t = turns.get(e.payload.turn);
      if (t) Object.assign(t, { status: e.payload.status, finishReason: e.payload.finishReason, modelVersion: e.payload.modelVersion, usage: e.payload.usage, error: e.payload.error });
    } else if (is(e, 'code')) {
      codes.push(e);
      // The end's automatic stops are the server's doing, not a press.
      if (e.actorId && !e.payload.autoClosed) {
        person(e.actorId).codes++;
        if (!record.coders.includes(e.actorId)) record.coders.push(e.actorId);
      }
    } else if (is(e, 'undo')) {
      undone.add(e.payload.target);
    } else if (is(e, 'comment')) {
      record.comments.push({ eventId: e.id, authorId: e.actorId, text: e.payload.text, at: e.at, seq: e.seq });
      if (e.actorId) person(e.actorId).comments++;
    } else if (is(e, 'session.ended')) {
      record.status = 'ended';
      record.endedAt = e.at;
      record.endedBy = e.actorId;
    } else if (is(e, 'adjudicated')) {
      for (const d of e.payload.decisions) record.adjudications[d.eventId] = { decision: d.decision, by: e.actorId, at: e.at, seq: e.seq };
    } else if (is(e, 'session.filed')) {
      record.status = 'filed';
      record.observationId = e.payload.observationId;
    }
  }

  record.turns = [...turns.values()].sort((a, b) => a.turn - b.turn);
  record.undone = codes.filter((c) => undone.has(c.id)).map((c) => c.id);
  collectCodes(record, codes, undone);
  record.participants = [...people.values()];
  return record;
}

/** Puts a chunk of answer text at its offset; a chunk already there (a repeated event) is written over, not doubled. */
function placeText(answer: string, offset: number, text: string): string {
  const before = answer.length >= offset ? answer.slice(0, offset) : answer + '\uFFFD'.repeat(offset - answer.length);
  return before + text + answer.slice(offset + text.length);
}

function collectCodes(record: SessionRecord, codes: CodeEvent[], undone: Set<string>): void {
  const alive = codes.filter((c) => !undone.has(c.id) && c.actorId !== null);
  const base = (c: CodeEvent): CodeBase => ({
    coderId: c.actorId!,
    behaviourCode: c.payload.behaviourCode,
    behaviourId: c.payload.behaviourId,
    modifiers: c.payload.modifiers,
    rationale: c.payload.rationale,
    at: c.at,
    seq: c.seq,
  });
  // A state's stops, by the start they name, in log order: the first surviving one ends it.
  const stops = new Map<string, CodeEvent[]>();
  for (const c of alive) {
    if (c.payload.kind !== 'state_stop' || !c.payload.startEventId) continue;
    const list = stops.get(c.payload.startEventId);
    if (list) list.push(c);
    else stops.set(c.payload.startEventId, [c]);
  }
  for (const c of alive) {
    const p = c.payload;
    if (p.kind === 'point') {
      record.points.push({ kind: 'point', eventId: c.id, ...base(c), turn: p.at.turn, offset: p.at.offset });
    } else if (p.kind === 'span' && p.span) {
      record.spans.push({ kind: 'span', eventId: c.id, ...base(c), turn: p.span.turn, start: p.span.start, end: p.span.end, quote: p.span.quote });
    } else if (p.kind === 'state_start') {
      const stop = stops.get(c.id)?.[0] ?? null;
      record.states.push({
        kind: 'state', startEventId: c.id, stopEventId: stop?.id ?? null, ...base(c),
        from: p.at, to: stop ? stop.payload.at : null, autoClosed: stop?.payload.autoClosed ?? false,
      });
    }
  }
}

/** The id decisions and codings refer to: the event id of a point or span, the start event id of a state. */
export function codeId(code: SessionCode): string {
  return code.kind === 'state' ? code.startEventId : code.eventId;
}

/** Every surviving code in log order. */
export function allCodes(record: Pick<SessionRecord, 'points' | 'states' | 'spans'>): SessionCode[] {
  return [...record.points, ...record.states, ...record.spans].sort((a, b) => a.seq - b.seq);
}

/**
 * The characters a code covers, per turn, as non-empty ranges of the answers (indexed by turn).
 *
 * - A point covers one character: the last one that had arrived when the key was pressed (`offset - 1`; the
 *   first character for a press before any had arrived). It covers nothing in an empty answer.
 * - A state covers `[from, to)`: the text that arrived while it ran, split per turn when it crosses turns (the
 *   rest of the start's answer, any whole answers between, the stop's answer up to the stop). A state still
 *   running reaches the end of the last answer. A state that covers no character (stopped where it started)
 *   covers what a point at its start would.
 * - A span covers its selection, clamped to the answer.
 *
 * Agreement (live-agreement.ts) and filing (file-session.command.ts) both place codes with this, so the segments
 * an observer is credited with are the text their filed coding marks.
 */
export function codeRanges(code: SessionCode, answers: readonly string[]): TextRange[] {
  if (code.kind === 'point') return optional(pointRange({ turn: code.turn, offset: code.offset }, answers));
  if (code.kind === 'span') {
    const length = answers[code.turn]?.length ?? 0;
    const start = clamp(code.start, length);
    const end = clamp(code.end, length);
    return end > start ? [{ turn: code.turn, start, end }] : [];
  }
  const last = answers.length - 1;
  const to = code.to ?? { turn: Math.max(last, code.from.turn), offset: answers[Math.max(last, code.from.turn)]?.length ?? 0 };
  const ranges: TextRange[] = [];
  for (let turn = code.from.turn; turn <= to.turn; turn++) {
    const length = answers[turn]?.length ?? 0;
    const start = turn === code.from.turn ? clamp(code.from.offset, length) : 0;
    const end = turn === to.turn ? clamp(to.offset, length) : length;
    if (end > start) ranges.push({ turn, start, end });
  }
  return ranges.length ? ranges : optional(pointRange(code.from, answers));
}

/** The one character a press at `at` marks (see codeRanges), or null when that answer is empty. */
export function pointRange(at: Position, answers: readonly string[]): TextRange | null {
  const length = answers[at.turn]?.length ?? 0;
  if (length === 0) return null;
  const start = Math.min(Math.max(at.offset - 1, 0), length - 1);
  return { turn: at.turn, start, end: start + 1 };
}

function optional<T>(value: T | null): T[] {
  return value === null ? [] : [value];
}

function clamp(n: number, max: number): number {
  return Math.max(0, Math.min(n, max));
}

/** The answers indexed by turn ('' for a turn the record lacks), as codeRanges takes them. */
export function answersOf(record: Pick<SessionRecord, 'turns'>): string[] {
  const answers: string[] = [];
  for (const t of record.turns) answers[t.turn] = t.answer;
  return Array.from(answers, (a) => a ?? '');
}
