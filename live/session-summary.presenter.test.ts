// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeLiveAgreement } from './live-agreement.ts';
import type { LiveEventView, StoredEventType, StoredPayloads } from './live-events.ts';
import { describeWhere, presentLogRows, presentSummaryPage } from './session-summary.presenter.ts';
import { allCodes, foldSession } from './session-record.ts';
import type { SessionSummary } from './session-summary.queries.ts';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const DRIVER = '00000000-0000-4000-8000-00000000000d';

/** A log written by hand: events numbered 1, 2, 3... in the order written. */
function log() {
  const events: LiveEventView[] = [];
  const add = <T extends StoredEventType>(type: T, payload: StoredPayloads[T], actorId: string | null = null, id = `ev-${events.length + 1}`) => {
    const seq = events.length + 1;
    events.push({ seq, id, type, actorId, payload, at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString() } as LiveEventView);
    return id;
  };
  const code = (coder: string, kind: StoredPayloads['code']['kind'], behaviourCode: string, at: { turn: number; offset: number }, extra: Partial<StoredPayloads['code']> = {}) =>
    add('code', { kind, behaviourCode, behaviourId: `id-${behaviourCode}`, at, span: null, modifiers: {}, rationale: '', startEventId: null, autoClosed: false, ...extra }, coder);
  const turn = (n: number, prompt: string, answer: string, chunks = 1) => {
    add('prompt', { turn: n, text: prompt }, DRIVER);
    const size = Math.ceil(answer.length / chunks);
    for (let o = 0; o < answer.length; o += size) add('tokens', { turn: n, offset: o, text: answer.slice(o, o + size) });
    add('answer.ended', { turn: n, status: 'complete', length: answer.length, finishReason: 'stop', modelVersion: null, usage: null, error: null });
  };
  return { events, add, code, turn };
}

function summaryOf(events: LiveEventView[]): SessionSummary {
  const record = foldSession(events);
  return {
    session: {
      id: 's', title: 'T', status: 'ended', blind: false, target: {} as SessionSummary['session']['target'], targetDescription: '', ethogramVersionId: 'v',
      owner: { id: DRIVER, displayName: 'Dee' }, createdAt: '2025-01-01T00:00:00.000Z', endedAt: null, lastSeq: record.lastSeq,
    },
    participants: [],
    names: { [A]: 'Ann', [B]: 'Bob', [DRIVER]: 'Dee' },
    behaviours: [
      { id: 'id-P', code: 'P', name: 'Pointy', kind: 'event', colour: '#112233', category: 'x' },
      { id: 'id-S', code: 'S', name: 'Stately', kind: 'state', colour: 'not-a-colour', category: 'x' },
    ],
    record,
    agreement: computeLiveAgreement(record),
    decisions: [],
    observationId: null,
  };
}

describe('the summary presenter', () => {
  test('a state over two answers is drawn on both, "continued" on the second, closed by the end on its last piece', () => {
    const l = log();
    l.turn(0, 'one', 'First answer here.');
    l.turn(1, 'two', 'Second answer.');
    const start = l.code(A, 'state_start', 'S', { turn: 0, offset: 6 });
    l.code(A, 'state_stop', 'S', { turn: 1, offset: 6 }, { startEventId: start, autoClosed: true });
    l.code(B, 'point', 'P', { turn: 1, offset: 3 });
    const page = presentSummaryPage(summaryOf(l.events));

    const [t0, t1] = page.turns;
    const annLane0 = t0!.lanes!.rows.find((r) => r.name === 'Ann')!;
    const annLane1 = t1!.lanes!.rows.find((r) => r.name === 'Ann')!;
    assert.equal(annLane0.marks.length, 1);
    assert.equal(annLane0.marks[0]!.shape, 'state');
    assert.equal(annLane0.marks[0]!.continuesAfter, true);
    assert.equal(annLane0.marks[0]!.autoClosed, false, 'the first piece is not where it was closed');
    assert.equal(annLane1.marks[0]!.label, 'S ⇥ closed by the end (continued)');
    assert.equal(annLane1.marks[0]!.autoClosed, true);
    assert.equal(t1!.lanes!.hasAutoClosed, true);
    assert.equal(t0!.lanes!.hasAutoClosed, false);
    // Bob pressed nothing on the first answer; his point is on the second.
    assert.equal(t0!.lanes!.rows.find((r) => r.name === 'Bob')!.marks.length, 0);
    assert.equal(t1!.lanes!.rows.find((r) => r.name === 'Bob')!.marks[0]!.shape, 'point');
    // An unknown colour is never passed on to the page.
    assert.equal(page.codes.find((c) => c.code === 'S')!.colour, '#888888');
    assert.equal(page.codes.find((c) => c.code === 'P')!.colour, '#112233');
    assert.equal(page.codes.find((c) => c.code === 'S')!.where, 'answer 1 character 6 to answer 2 character 6 (closed by the end)');
    // The text marks on the first answer: "answer here." is under Ann's state.
    assert.deepEqual(t0!.runs.map((r) => [r.text, r.label]), [['First ', ''], ['answer here.', 'S (state, closed by the end) by Ann']]);
  });

  test('marks that would overlap, labels included, go on separate sub-rows of the lane', () => {
    const l = log();
    l.turn(0, 'p', 'x'.repeat(200));
    l.code(A, 'point', 'P', { turn: 0, offset: 100 });
    l.code(A, 'point', 'P', { turn: 0, offset: 101 });
    l.code(A, 'point', 'P', { turn: 0, offset: 190 });
    const lane = presentSummaryPage(summaryOf(l.events)).turns[0]!.lanes!.rows[0]!;
    const rowsOf = lane.marks.map((m) => m.y);
    assert.equal(rowsOf[0], rowsOf[2], 'far apart: the same sub-row');
    assert.notEqual(rowsOf[0], rowsOf[1], 'one character apart: stacked');
    assert.equal(lane.countLabel, '3 codes');
    assert.ok(lane.height > 40);
  });

  test('where a code is, in words', () => {
    const l = log();
    l.turn(0, 'p', 'Hello there.');
    l.code(A, 'point', 'P', { turn: 0, offset: 4 });
    l.code(A, 'span', 'P', { turn: 0, offset: 5 }, { span: { turn: 0, start: 0, end: 5, quote: 'Hello' } });
    l.code(B, 'state_start', 'S', { turn: 0, offset: 2 });
    const codes = allCodes(foldSession(l.events));
    assert.deepEqual(codes.map(describeWhere), ['answer 1, at character 4', 'answer 1, characters 0–5', 'answer 1 from character 2, still running']);
  });

  test('log rows: consecutive token events of one answer are one row with their text; other events one row each', () => {
    const l = log();
    l.turn(0, 'Say hi', 'Hello there, friend.', 4);
    l.add('comment', { text: 'nice' }, B);
    const rows = presentLogRows(l.events, (id) => (id === B ? 'Bob' : id === null ? 'the server' : 'Dee'));
    assert.deepEqual(rows.map((r) => r.type), ['prompt', 'tokens ×4', 'answer.ended', 'comment']);
    assert.equal(rows[1]!.seq, '2–5');
    assert.equal(rows[1]!.summary, 'Answer 1, characters 0–20');
    assert.equal(rows[1]!.quote, 'Hello there, friend.');
    assert.equal(rows[3]!.who, 'Bob');
    assert.equal(rows[3]!.quote, 'nice');
    assert.equal(rows[2]!.summary, 'Answer 1 complete, 20 characters, finish reason stop');
  });
});
