// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeLiveAgreement, matchWithin, segmentAnswer } from './live-agreement.ts';
import type { LiveEventView, StoredEventType, StoredPayloads } from './live-events.ts';
import { foldSession } from './session-record.ts';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

class Log {
  readonly events: LiveEventView[] = [];
  add<T extends StoredEventType>(type: T, payload: StoredPayloads[T], actorId: string | null = null): string {
    const seq = this.events.length + 1;
    const id = `ev-${seq}`;
    this.events.push({ seq, id, type, actorId, payload, at: '2025-01-01T00:00:00.000Z' } as LiveEventView);
    return id;
  }
  turn(turn: number, answer: string): void {
    this.add('prompt', { turn, text: `prompt ${turn}` }, null);
    this.add('tokens', { turn, offset: 0, text: answer });
    this.add('answer.ended', { turn, status: 'complete', length: answer.length, finishReason: 'stop', modelVersion: null, usage: null, error: null });
  }
  code(coder: string, kind: StoredPayloads['code']['kind'], behaviourCode: string, at: { turn: number; offset: number }, extra: Partial<StoredPayloads['code']> = {}): string {
    return this.add('code', { kind, behaviourCode, behaviourId: `id-${behaviourCode}`, at, span: null, modifiers: {}, rationale: '', startEventId: null, autoClosed: false, ...extra }, coder);
  }
  state(coder: string, code: string, from: number, to: number): void {
    const start = this.code(coder, 'state_start', code, { turn: 0, offset: from });
    this.code(coder, 'state_stop', code, { turn: 0, offset: to }, { startEventId: start });
  }
}

const close = (actual: number | null, expected: number) => {
  assert.ok(actual !== null, `expected ${expected}, got null`);
  assert.ok(Math.abs(actual - expected) < 1e-9, `expected ${expected}, got ${actual}`);
};

describe('segmentAnswer', () => {
  test('cuts after sentence ends and line breaks; the whitespace stays with the sentence before', () => {
    const text = 'Hello there. How are you?\nFine';
    assert.deepEqual(segmentAnswer(text), [
      { start: 0, end: 13 },
      { start: 13, end: 26 },
      { start: 26, end: 30 },
    ]);
    assert.deepEqual(segmentAnswer('He said "no." Then left.'), [
      { start: 0, end: 14 },
      { start: 14, end: 24 },
    ]);
    assert.deepEqual(segmentAnswer('Pi is 3.14 today.'), [{ start: 0, end: 17 }], 'a decimal point ends no sentence');
  });

  test('leading blank lines join the first sentence; no text, no segments', () => {
    assert.deepEqual(segmentAnswer('\n\nHi. Yo'), [
      { start: 0, end: 6 },
      { start: 6, end: 8 },
    ]);
    assert.deepEqual(segmentAnswer(''), []);
  });

  test('a stretch with no sentence end is cut into windows of maxChars', () => {
    assert.deepEqual(segmentAnswer('abcdefghij', 4), [
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 10 },
    ]);
  });
});

describe('matchWithin', () => {
  test('pairs points one to one within the tolerance, as many as possible', () => {
    assert.equal(matchWithin([0, 10], [8], 10), 1);
    assert.equal(matchWithin([0, 4], [3, 7], 3), 2, 'greedy from the left finds both pairs');
    assert.equal(matchWithin([1, 2, 3], [2], 0), 1, 'one partner each');
    assert.equal(matchWithin([12, 3], [20, 4], 5), 1);
    assert.equal(matchWithin([], [1], 5), 0);
  });
});

describe('computeLiveAgreement', () => {
  // "One. Two. Three. Four." has four segments: [0,5) [5,10) [10,17) [17,22).
  function crafted(): Log {
    const log = new Log();
    log.turn(0, 'One. Two. Three. Four.');
    // X (points): A at offsets 3 and 12 (segments 0 and 2), B at 5 and 20 (segments 0 and 3: a press at 5 marks
    // character 4, the last one seen, which ends segment 0).
    log.code(A, 'point', 'X', { turn: 0, offset: 3 });
    log.code(A, 'point', 'X', { turn: 0, offset: 12 });
    log.code(B, 'point', 'X', { turn: 0, offset: 5 });
    log.code(B, 'point', 'X', { turn: 0, offset: 20 });
    // Y (states): A over [5,10) (segment 1), B over [6,17) (segments 1 and 2).
    log.state(A, 'Y', 5, 10);
    log.state(B, 'Y', 6, 17);
    return log;
  }

  test('per behaviour and pooled, against figures worked by hand', () => {
    const agreement = computeLiveAgreement(foldSession(crafted().events));
    assert.equal(agreement.unit, 'segment');
    assert.deepEqual(agreement.observers, [A, B]);
    assert.equal(agreement.segments.length, 4);
    const [x, y] = agreement.behaviours;
    assert.deepEqual([x!.behaviourCode, y!.behaviourCode], ['X', 'Y']);

    // X: segment ratings (A, B) = PP, AA, PA, AP.
    assert.equal(x!.units, 4);
    assert.deepEqual(x!.marked, { [A]: 2, [B]: 2 });
    close(x!.percentAgreement.value, 0.5);
    close(x!.pairwiseCohensKappa[0]!.kappa.value, 0); // p_o 0.5, p_e 0.5
    close(x!.fleissKappa.value, 0);
    close(x!.krippendorffAlpha.value, 0.125); // 1 - (8 - 1) * 4 / 32

    // Y: AA, PP, AP, AA.
    close(y!.percentAgreement.value, 0.75);
    close(y!.pairwiseCohensKappa[0]!.kappa.value, 0.5); // p_o 0.75, p_e 1/4*2/4 + 3/4*2/4 = 0.5
    close(y!.fleissKappa.value, 7 / 15); // P 0.75, P_e (3/8)^2 + (5/8)^2 = 34/64

    // Pooled over the 8 (behaviour, segment) units.
    assert.equal(agreement.pooled.units, 8);
    close(agreement.pooled.percentAgreement.value, 5 / 8);
    close(agreement.pooled.pairwiseCohensKappa[0]!.kappa.value, 0.25); // p_o 5/8, p_e 3/8*4/8 + 5/8*4/8 = 1/2
    close(agreement.pooled.fleissKappa.value, 5 / 21); // P 5/8, P_e (7/16)^2 + (9/16)^2 = 130/256
  });

  test('point matching pairs presses within the tolerance', () => {
    const record = foldSession(crafted().events);
    const wide = computeLiveAgreement(record).pointMatching.pairs[0]!;
    assert.deepEqual([wide.coderA, wide.coderB], [A, B]);
    assert.deepEqual(wide.behaviours, [{ behaviourCode: 'X', matched: 2, onlyA: 0, onlyB: 0, agreement: 1 }], 'states take no part');
    const narrow = computeLiveAgreement(record, { pointToleranceChars: 5 }).pointMatching;
    assert.equal(narrow.toleranceChars, 5);
    assert.deepEqual(narrow.pairs[0]!.behaviours, [{ behaviourCode: 'X', matched: 1, onlyA: 1, onlyB: 1, agreement: 1 / 3 }]);
    assert.deepEqual(narrow.pairs[0]!.pooled, { matched: 1, onlyA: 1, onlyB: 1, agreement: 1 / 3 });
  });

  test('spans count where they overlap; undone codes do not count; points in different turns never match', () => {
    const log = new Log();
    log.turn(0, 'Alpha beta. Gamma delta.'); // [0,12) [12,24)
    log.turn(1, 'Second turn.');
    log.code(A, 'span', 'Z', { turn: 0, offset: 24 }, { span: { turn: 0, start: 14, end: 20, quote: 'mma de' } });
    const undone = log.code(B, 'span', 'Z', { turn: 0, offset: 24 }, { span: { turn: 0, start: 0, end: 5, quote: 'Alpha' } });
    log.add('undo', { target: undone }, B);
    log.code(B, 'point', 'Z', { turn: 0, offset: 16 });
    log.code(C, 'point', 'Z', { turn: 1, offset: 3 });
    const agreement = computeLiveAgreement(foldSession(log.events));
    assert.deepEqual(agreement.observers, [A, B, C]);
    const [z] = agreement.behaviours;
    // Segments: t0 [0,12), t0 [12,24), t1 [0,12). Ratings (A, B, C): AAA, PPA, AAP.
    assert.deepEqual(z!.marked, { [A]: 1, [B]: 1, [C]: 1 });
    close(z!.percentAgreement.value, 5 / 9); // pairs agreeing: 3 + 1 (A-B on PPA) + 1 (A-B on AAP) of 9
    assert.equal(z!.pairwiseCohensKappa.length, 3);
    const bc = agreement.pointMatching.pairs.find((p) => p.coderA === B && p.coderB === C)!;
    assert.deepEqual(bc.pooled, { matched: 0, onlyA: 1, onlyB: 1, agreement: 0 });
    const ab = agreement.pointMatching.pairs.find((p) => p.coderA === A && p.coderB === B)!;
    assert.deepEqual(ab.pooled, { matched: 0, onlyA: 0, onlyB: 1, agreement: 0 }, 'spans are not points');
  });

  test('undefined figures are null with the reason: one observer, no variation, no text', () => {
    const solo = new Log();
    solo.turn(0, 'Just one. Two.');
    solo.code(A, 'point', 'X', { turn: 0, offset: 2 });
    const one = computeLiveAgreement(foldSession(solo.events));
    assert.equal(one.pooled.fleissKappa.value, null);
    assert.match(one.pooled.fleissKappa.value === null ? one.pooled.fleissKappa.reason : '', /at least two observers/);
    assert.equal(one.behaviours[0]!.percentAgreement.value, null);
    assert.deepEqual(one.behaviours[0]!.pairwiseCohensKappa, []);
    assert.deepEqual(one.pointMatching.pairs, []);

    const same = new Log();
    same.turn(0, 'A single sentence');
    same.code(A, 'point', 'X', { turn: 0, offset: 5 });
    same.code(B, 'point', 'X', { turn: 0, offset: 9 });
    const flat = computeLiveAgreement(foldSession(same.events));
    close(flat.pooled.percentAgreement.value, 1);
    const fleiss = flat.pooled.fleissKappa;
    assert.equal(fleiss.value, null);
    assert.match(fleiss.value === null ? fleiss.reason : '', /same label/);
    assert.equal(flat.pooled.pairwiseCohensKappa[0]!.kappa.value, null);

    const empty = new Log();
    empty.turn(0, '');
    empty.code(A, 'point', 'X', { turn: 0, offset: 0 });
    empty.code(B, 'point', 'X', { turn: 0, offset: 0 });
    const none = computeLiveAgreement(foldSession(empty.events));
    assert.equal(none.segments.length, 0);
    assert.match(none.pooled.percentAgreement.value === null ? none.pooled.percentAgreement.reason : '', /no text/);
  });

  test('the observers can be chosen', () => {
    const agreement = computeLiveAgreement(foldSession(crafted().events), { observers: [B, A, C] });
    assert.deepEqual(agreement.observers, [B, A, C]);
    // C coded nothing: absent everywhere, so 3 of the 4 X segments agree with whoever marked nothing.
    assert.deepEqual(agreement.behaviours[0]!.marked, { [B]: 2, [A]: 2, [C]: 0 });
    assert.equal(agreement.pooled.pairwiseCohensKappa.length, 3);
  });
});
