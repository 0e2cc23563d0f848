// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LiveEventView, StoredEventType, StoredPayloads } from './live-events.ts';
import { allCodes, answersOf, codeId, codeRanges, foldSession, pointRange, type StateInterval } from './session-record.ts';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const DRIVER = '00000000-0000-4000-8000-00000000000d';

/** Builds a log by hand: events numbered 1, 2, 3... in the order written. */
class Log {
  readonly events: LiveEventView[] = [];
  add<T extends StoredEventType>(type: T, payload: StoredPayloads[T], actorId: string | null = null, id = `ev-${this.events.length + 1}`): string {
    const seq = this.events.length + 1;
    this.events.push({ seq, id, type, actorId, payload, at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString() } as LiveEventView);
    return id;
  }
  prompt(turn: number, text: string): string {
    return this.add('prompt', { turn, text }, DRIVER);
  }
  tokens(turn: number, offset: number, text: string): void {
    this.add('tokens', { turn, offset, text });
  }
  ended(turn: number, length: number, status: StoredPayloads['answer.ended']['status'] = 'complete', error: StoredPayloads['answer.ended']['error'] = null): void {
    this.add('answer.ended', { turn, status, length, finishReason: status === 'complete' ? 'stop' : null, modelVersion: 'm-2025', usage: null, error });
  }
  /** A whole answered turn. */
  turn(turn: number, prompt: string, answer: string): void {
    this.prompt(turn, prompt);
    this.tokens(turn, 0, answer);
    this.ended(turn, answer.length);
  }
  code(coder: string, kind: StoredPayloads['code']['kind'], behaviourCode: string, at: { turn: number; offset: number }, extra: Partial<StoredPayloads['code']> = {}, id?: string): string {
    return this.add('code', {
      kind, behaviourCode, behaviourId: `id-${behaviourCode}`, at, span: null, modifiers: {}, rationale: '', startEventId: null, autoClosed: false, ...extra,
    }, coder, id);
  }
  undo(coder: string, target: string): string {
    return this.add('undo', { target }, coder);
  }
}

describe('foldSession: the conversation', () => {
  test('assembles each answer from its tokens by offset, whatever order the events come in', () => {
    const log = new Log();
    log.add('session.opened', { title: 'Probe', blind: false, ethogramVersionId: 'v', target: 'openai m' }, DRIVER);
    log.prompt(0, 'Hi?');
    log.add('answer.started', { turn: 0, model: 'm' });
    log.tokens(0, 0, 'Hel');
    log.tokens(0, 3, 'lo ');
    log.tokens(0, 3, 'lo '); // a repeated chunk is written over, not doubled
    log.tokens(0, 6, 'you');
    log.ended(0, 9);
    log.prompt(1, 'More?');
    log.tokens(1, 0, 'No');
    log.add('stop', { turn: 1 }, DRIVER);
    log.ended(1, 2, 'stopped');
    log.prompt(2, 'Again');
    log.ended(2, 0, 'failed', { reason: 'upstream_unreachable', message: 'connection refused' });

    const shuffled = [...log.events].reverse();
    const record = foldSession(shuffled);
    assert.equal(record.title, 'Probe');
    assert.equal(record.lastSeq, log.events.length);
    assert.equal(record.status, 'open');
    assert.deepEqual(record.turns.map((t) => [t.turn, t.prompt, t.answer, t.status]), [
      [0, 'Hi?', 'Hello you', 'complete'],
      [1, 'More?', 'No', 'stopped'],
      [2, 'Again', '', 'failed'],
    ]);
    assert.equal(record.turns[0]!.model, 'm');
    assert.equal(record.turns[0]!.finishReason, 'stop');
    assert.equal(record.turns[0]!.modelVersion, 'm-2025');
    assert.equal(record.turns[0]!.promptedBy, DRIVER);
    assert.equal(record.turns[1]!.stoppedBy, DRIVER);
    assert.equal(record.turns[0]!.stoppedBy, null);
    assert.deepEqual(record.turns[2]!.error, { reason: 'upstream_unreachable', message: 'connection refused' });
    assert.deepEqual(answersOf(record), ['Hello you', 'No', '']);
  });

  test('a log read from a later seq keeps offsets right: the missing stretch reads as U+FFFD', () => {
    const log = new Log();
    log.prompt(0, 'Q');
    log.tokens(0, 4, 'tail');
    assert.equal(foldSession(log.events).turns[0]!.answer, '\uFFFD\uFFFD\uFFFD\uFFFDtail');
  });

  test('tracks the end, adjudications (the latest per code wins), the filing, comments and who took part', () => {
    const log = new Log();
    log.add('participant.added', { userId: A, role: 'observer', displayName: 'Ann' }, DRIVER);
    log.add('participant.added', { userId: B, role: 'observer', displayName: 'Bob' }, DRIVER);
    log.add('participant.removed', { userId: B, displayName: 'Bob' }, DRIVER);
    log.turn(0, 'Q', 'Answer.');
    const p = log.code(A, 'point', 'X', { turn: 0, offset: 3 });
    log.add('comment', { text: 'look at that' }, A);
    log.add('session.ended', { closedStates: [] }, DRIVER);
    log.add('adjudicated', { decisions: [{ eventId: p, decision: 'reject' }] }, DRIVER);
    log.add('adjudicated', { decisions: [{ eventId: p, decision: 'accept' }] }, DRIVER);
    const record = foldSession(log.events);
    assert.equal(record.status, 'ended');
    assert.equal(record.endedBy, DRIVER);
    assert.ok(record.endedAt);
    assert.equal(record.adjudications[p]!.decision, 'accept');
    assert.equal(record.adjudications[p]!.seq, log.events.length);
    assert.deepEqual(record.comments.map((c) => [c.authorId, c.text]), [[A, 'look at that']]);
    const ann = record.participants.find((x) => x.userId === A)!;
    assert.deepEqual([ann.displayName, ann.role, ann.removed, ann.codes, ann.comments], ['Ann', 'observer', false, 1, 1]);
    assert.equal(record.participants.find((x) => x.userId === B)!.removed, true);
    assert.equal(record.participants.find((x) => x.userId === DRIVER)!.prompts, 1);

    log.add('session.filed', { observationId: 'obs-1' }, DRIVER);
    const filed = foldSession(log.events);
    assert.equal(filed.status, 'filed');
    assert.equal(filed.observationId, 'obs-1');
  });
});

describe('foldSession: codes and undo', () => {
  function answered(): Log {
    const log = new Log();
    log.turn(0, 'Q0', 'The first answer.'); // 17 characters
    log.turn(1, 'Q1', 'Second one here.'); // 16 characters
    return log;
  }

  test('points and spans survive unless their coder undid them', () => {
    const log = answered();
    const kept = log.code(A, 'point', 'X', { turn: 0, offset: 5 }, { modifiers: { severity: 'mild' }, rationale: 'because' });
    const gone = log.code(A, 'point', 'X', { turn: 0, offset: 9 });
    log.undo(A, gone);
    const span = log.code(B, 'span', 'Y', { turn: 1, offset: 16 }, { span: { turn: 1, start: 0, end: 6, quote: 'Second' } });
    const goneSpan = log.code(B, 'span', 'Y', { turn: 1, offset: 16 }, { span: { turn: 1, start: 7, end: 10, quote: 'one' } });
    log.undo(B, goneSpan);
    const record = foldSession(log.events);
    assert.deepEqual(record.points.map((p) => [p.eventId, p.coderId, p.behaviourCode, p.behaviourId, p.turn, p.offset, p.modifiers, p.rationale]), [
      [kept, A, 'X', 'id-X', 0, 5, { severity: 'mild' }, 'because'],
    ]);
    assert.deepEqual(record.spans.map((s) => [s.eventId, s.coderId, s.turn, s.start, s.end, s.quote]), [[span, B, 1, 0, 6, 'Second']]);
    assert.deepEqual(record.undone.sort(), [gone, goneSpan].sort());
    assert.deepEqual(record.coders, [A, B], 'both pressed codes, even if some were undone');
  });

  test('a state is an interval from its start to its stop, across turns', () => {
    const log = answered();
    const start = log.code(A, 'state_start', 'S', { turn: 0, offset: 4 }, { modifiers: { severity: 'severe' } });
    const stop = log.code(A, 'state_stop', 'S', { turn: 1, offset: 6 }, { startEventId: start });
    const [state] = foldSession(log.events).states;
    assert.deepEqual(state, {
      kind: 'state', startEventId: start, stopEventId: stop, coderId: A, behaviourCode: 'S', behaviourId: 'id-S', modifiers: { severity: 'severe' },
      rationale: '', at: log.events.find((e) => e.id === start)!.at, seq: log.events.find((e) => e.id === start)!.seq,
      from: { turn: 0, offset: 4 }, to: { turn: 1, offset: 6 }, autoClosed: false,
    } satisfies StateInterval);
  });

  test('undoing a start withdraws the whole state, stop included', () => {
    const log = answered();
    const start = log.code(A, 'state_start', 'S', { turn: 0, offset: 1 });
    log.code(A, 'state_stop', 'S', { turn: 0, offset: 8 }, { startEventId: start });
    log.undo(A, start);
    const record = foldSession(log.events);
    assert.deepEqual(record.states, []);
    assert.deepEqual(record.undone, [start]);
  });

  test('undoing a stop reopens the state until its next stop', () => {
    const log = answered();
    const start = log.code(A, 'state_start', 'S', { turn: 0, offset: 1 });
    const firstStop = log.code(A, 'state_stop', 'S', { turn: 0, offset: 8 }, { startEventId: start });
    log.undo(A, firstStop);
    let [state] = foldSession(log.events).states;
    assert.equal(state!.to, null, 'running again');
    assert.equal(state!.stopEventId, null);
    const secondStop = log.code(A, 'state_stop', 'S', { turn: 1, offset: 3 }, { startEventId: start });
    [state] = foldSession(log.events).states;
    assert.equal(state!.stopEventId, secondStop);
    assert.deepEqual(state!.to, { turn: 1, offset: 3 });
  });

  test("the session's end closes open states: the interval says autoClosed, and the closing is not a press", () => {
    const log = answered();
    const start = log.code(B, 'state_start', 'S', { turn: 1, offset: 2 });
    const close = log.code(B, 'state_stop', 'S', { turn: 1, offset: 16 }, { startEventId: start, autoClosed: true, rationale: "closed by the session's end" }, 'end-1-close-1');
    log.add('session.ended', { closedStates: [{ coderId: B, behaviourCode: 'S', startEventId: start, stopEventId: close }] }, DRIVER, 'end-1');
    const record = foldSession(log.events);
    assert.equal(record.states[0]!.autoClosed, true);
    assert.equal(record.states[0]!.stopEventId, close);
    assert.equal(record.participants.find((p) => p.userId === B)!.codes, 1);
    assert.equal(codeId(record.states[0]!), start);
    assert.deepEqual(allCodes(record).map(codeId), [start]);
  });
});

describe('codeRanges: the characters a code covers', () => {
  const answers = ['Hello world', '', 'Third answer'];
  const base = { coderId: A, behaviourCode: 'X', behaviourId: 'x', modifiers: {}, rationale: '', at: '', seq: 1 };

  test('a point covers the last character that had arrived; nothing on an empty answer', () => {
    assert.deepEqual(codeRanges({ ...base, kind: 'point', eventId: 'p', turn: 0, offset: 5 }, answers), [{ turn: 0, start: 4, end: 5 }]);
    assert.deepEqual(codeRanges({ ...base, kind: 'point', eventId: 'p', turn: 0, offset: 0 }, answers), [{ turn: 0, start: 0, end: 1 }]);
    assert.deepEqual(codeRanges({ ...base, kind: 'point', eventId: 'p', turn: 0, offset: 99 }, answers), [{ turn: 0, start: 10, end: 11 }]);
    assert.deepEqual(codeRanges({ ...base, kind: 'point', eventId: 'p', turn: 1, offset: 0 }, answers), []);
    assert.equal(pointRange({ turn: 7, offset: 1 }, answers), null);
  });

  test('a state covers [from, to), split per turn, skipping empty answers', () => {
    const state = { ...base, kind: 'state' as const, startEventId: 's', stopEventId: 't', autoClosed: false };
    assert.deepEqual(codeRanges({ ...state, from: { turn: 0, offset: 6 }, to: { turn: 0, offset: 11 } }, answers), [{ turn: 0, start: 6, end: 11 }]);
    assert.deepEqual(codeRanges({ ...state, from: { turn: 0, offset: 6 }, to: { turn: 2, offset: 5 } }, answers), [
      { turn: 0, start: 6, end: 11 },
      { turn: 2, start: 0, end: 5 },
    ]);
    // Still running: to the end of the last answer.
    assert.deepEqual(codeRanges({ ...state, stopEventId: null, from: { turn: 2, offset: 6 }, to: null }, answers), [{ turn: 2, start: 6, end: 12 }]);
    // Stopped where it started: what a point there covers.
    assert.deepEqual(codeRanges({ ...state, from: { turn: 0, offset: 3 }, to: { turn: 0, offset: 3 } }, answers), [{ turn: 0, start: 2, end: 3 }]);
  });

  test('a span covers its selection, clamped to the answer', () => {
    const span = { ...base, kind: 'span' as const, eventId: 'sp', quote: '' };
    assert.deepEqual(codeRanges({ ...span, turn: 2, start: 6, end: 12 }, answers), [{ turn: 2, start: 6, end: 12 }]);
    assert.deepEqual(codeRanges({ ...span, turn: 0, start: 6, end: 50 }, answers), [{ turn: 0, start: 6, end: 11 }]);
    assert.deepEqual(codeRanges({ ...span, turn: 1, start: 0, end: 3 }, answers), []);
  });
});
