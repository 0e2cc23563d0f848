// @database-free: pure statistics of the analyses on generated data; no database.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { coOccurrence } from './statistics/co-occurrence.ts';
import { frequencyCells } from './statistics/frequencies.ts';
import { adjustPValues } from './statistics/multiple-comparisons.ts';
import { seededRandom } from '../observations/classify/offline/folds.ts';
import { timeBudget } from './statistics/time-budget.ts';
import { analyseTransitions, countTransitions, packSequences, permutationTest, sampleSequences } from './statistics/transitions.ts';
import { unpackSequences } from './transitions.queries.ts';
import { wilsonInterval } from './statistics/wilson.ts';

const close = (actual: number | null, expected: number, digits = 4) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 10 ** -digits, `${actual} is not ${expected}`);

describe('Wilson interval', () => {
  test('matches published values and stays inside [0, 1]', () => {
    const half = wilsonInterval(5, 10);
    close(half.rate, 0.5);
    close(half.low, 0.2366);
    close(half.high, 0.7634);
    const none = wilsonInterval(0, 10);
    close(none.low, 0);
    close(none.high, 0.2775);
    const all = wilsonInterval(20, 20);
    close(all.high, 1);
    close(all.low, 0.8389);
    assert.deepEqual(wilsonInterval(0, 0), { count: 0, effort: 0, rate: null, low: null, high: null });
  });
});

describe('frequencies with effort', () => {
  test('rates come from counts over effort, and absences over real effort are zeros', () => {
    // A generated corpus with known answers: model x codes every 4th observation of 40 as FLAT, model y none.
    const corpus = Array.from({ length: 60 }, (_, i) => ({ model: i < 40 ? 'x' : 'y', codes: i % 4 === 0 && i < 40 ? ['FLAT', 'REF'] : ['REF'] }));
    const groups = ['x', 'y'].map((g) => ({ group: g, effort: corpus.filter((o) => o.model === g).length }));
    const counts = ['x', 'y'].flatMap((g) =>
      ['FLAT', 'REF'].map((b) => ({ group: g, behaviour: b, count: corpus.filter((o) => o.model === g && o.codes.includes(b)).length })).filter((c) => c.count > 0),
    );
    const cells = frequencyCells(groups, ['FLAT', 'REF'], counts);
    const cell = (g: string, b: string) => cells.find((c) => c.group === g && c.behaviour === b)!;
    assert.equal(cell('x', 'FLAT').count, 10);
    assert.equal(cell('x', 'FLAT').effort, 40);
    close(cell('x', 'FLAT').rate, 0.25);
    assert.equal(cell('y', 'FLAT').count, 0);
    assert.equal(cell('y', 'FLAT').effort, 20);
    close(cell('y', 'FLAT').rate, 0);
    close(cell('y', 'REF').rate, 1);
  });
});

describe('co-occurrence', () => {
  test('counts, Jaccard and lift on a crafted corpus', () => {
    // 10 observations: A in 4, B in 5, both in 2; C in 5, never with A.
    const obs: string[][] = [['A', 'B'], ['A', 'B'], ['A'], ['A'], ['B', 'C'], ['B', 'C'], ['B', 'C'], ['C'], ['C'], []];
    const showing = new Map<string, number>();
    const pairs = new Map<string, number>();
    for (const o of obs) {
      for (const a of o) showing.set(a, (showing.get(a) ?? 0) + 1);
      for (const a of o) for (const b of o) if (a < b) pairs.set(`${a}|${b}`, (pairs.get(`${a}|${b}`) ?? 0) + 1);
    }
    const cells = coOccurrence(['A', 'B', 'C'], showing, [...pairs].map(([k, both]) => ({ a: k.split('|')[0]!, b: k.split('|')[1]!, both })), obs.length);
    const cell = (a: string, b: string) => cells.find((c) => c.a === a && c.b === b)!;
    assert.equal(cell('A', 'B').both, 2);
    assert.equal(cell('B', 'A').both, 2, 'the matrix is symmetric');
    close(cell('A', 'B').jaccard, 2 / 7);
    close(cell('A', 'B').lift, (2 * 10) / (4 * 5));
    assert.equal(cell('A', 'C').both, 0);
    close(cell('A', 'C').lift, 0);
    close(cell('B', 'C').lift, (3 * 10) / (5 * 5));
    assert.equal(cell('A', 'A').both, 4, 'the diagonal is the behaviour itself');
  });
});

describe('multiple comparisons', () => {
  test('Holm steps down, Bonferroni multiplies, untested cells stay out of m', () => {
    const p = [0.01, 0.04, NaN, 0.03, 0.5];
    const holm = adjustPValues(p, 'holm');
    close(holm[0]!, 0.04);
    close(holm[3]!, 0.09);
    close(holm[1]!, 0.09, 6);
    close(holm[4]!, 0.5);
    assert.ok(Number.isNaN(holm[2]!));
    const bonferroni = adjustPValues(p, 'bonferroni');
    close(bonferroni[0]!, 0.04);
    close(bonferroni[1]!, 0.16);
    close(bonferroni[4]!, 1);
  });
});

/**
 * A generated corpus of 5 behaviours (A=0, B=1, C=2, D=3, E=4) in 300 sequences of 6 codes. Half the sequences
 * draw from A and E, and every A is followed by a B (planted). The other half draw C, D and E uniformly at random,
 * so C -> D follows only as chance gives: given what each sequence holds, every order is equally likely, which is
 * exactly the permutation test's null hypothesis.
 */
function plantedCorpus(seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: 300 }, (_, i) => {
    const seq: number[] = [];
    while (seq.length < 6) {
      if (i % 2 === 0) {
        const code = random() < 0.4 ? 0 : 4;
        seq.push(code);
        if (code === 0) seq.push(1);
      } else seq.push([2, 3, 4][Math.floor(random() * 3)]!);
    }
    return seq;
  });
}

describe('transitions and the permutation test', () => {
  test('counts transitions within sequences only, in order', () => {
    const packed = packSequences([[0, 1, 1], [2], [1, 0]], 3);
    const counts = countTransitions(packed);
    assert.deepEqual([...counts], [0, 1, 0, 1, 1, 0, 0, 0, 0]);
    assert.equal(packed.starts.length - 1, 2, 'a sequence of one holds no transition and is dropped');
  });

  test('sequences come from the database as one compact text, read in one pass', () => {
    const packed = unpackSequences('3,5,5;1;1,4', 6);
    assert.deepEqual([...packed.codes], [3, 5, 5, 1, 4]);
    assert.deepEqual([...packed.starts], [0, 3, 5], 'a sequence of one is dropped');
    assert.equal(unpackSequences('', 6).starts.length, 1);
    assert.throws(() => unpackSequences('1,9', 6), /outside/);
  });

  test('flags the planted transition and not the chance one, reproducibly', () => {
    const corpus = plantedCorpus(42);
    const packed = packSequences(corpus, 5);
    const options = { permutations: 1000, seed: 7, alpha: 0.05, correction: 'holm' as const, maxTestedCodes: 1_000_000 };
    const result = analyseTransitions(packed, options);
    const cell = (from: number, to: number) => result.cells.find((c) => c.from === from && c.to === to)!;
    const planted = cell(0, 1);
    assert.ok(planted.count > 100, `A -> B happened ${planted.count} times`);
    assert.ok(planted.count > planted.expected * 2, 'far above what shuffling gives');
    assert.equal(planted.p, 1 / 1001, 'no permutation reached it: p = (0 + 1) / (N + 1)');
    assert.equal(planted.significant, true);
    const chance = cell(2, 3);
    assert.ok(chance.count > 0, 'C -> D does happen');
    assert.ok(chance.p! > 0.05, `C -> D p = ${chance.p}`);
    assert.equal(chance.significant, false);
    assert.equal(chance.nominal, false);
    assert.equal(result.testedCells, result.cells.filter((c) => c.count > 0).length);
    // The same data and seed give the same p-values; another seed gives the planted one the same verdict.
    assert.deepEqual(analyseTransitions(packed, options).cells.map((c) => c.p), result.cells.map((c) => c.p));
    assert.equal(analyseTransitions(packed, { ...options, seed: 8 }).cells.find((c) => c.from === 0 && c.to === 1)!.significant, true);
  });

  test('shuffling keeps each sequence\'s behaviours, so expected counts sum to the observed total', () => {
    const packed = packSequences(plantedCorpus(3), 5);
    const result = permutationTest(packed, 200, 1);
    const observed = result.observed.reduce((a, b) => a + b, 0);
    const expected = result.expected.reduce((a, b) => a + b, 0);
    close(expected, observed, 6);
    assert.ok(result.p.every((p, c) => (result.observed[c] === 0 ? Number.isNaN(p) : p > 0 && p <= 1)));
  });

  test('large selections are tested on a seeded sample of whole sequences, and the page can say so', () => {
    const packed = packSequences(plantedCorpus(5), 5);
    const { sample, sampled } = sampleSequences(packed, 300, 9);
    assert.equal(sampled, true);
    assert.ok(sample.codes.length >= 300 && sample.codes.length < 320);
    assert.deepEqual(sampleSequences(packed, 300, 9).sample.codes, sample.codes);
    const result = analyseTransitions(packed, { permutations: 500, seed: 1, alpha: 0.05, correction: 'holm', maxTestedCodes: 300 });
    assert.equal(result.tested.sampled, true);
    assert.equal(result.cells.find((c) => c.from === 0 && c.to === 1)!.significant, true, 'the planted transition shows in the sample too');
  });
});

describe('time budget', () => {
  test('share of each observer\'s session time per state, clipped to the session, open states to its end', () => {
    const s = (sec: number) => sec * 1000;
    const sessions = [
      { id: 's1', start: s(0), end: s(100), observers: ['ana', 'ben'] },
      { id: 's2', start: s(1000), end: s(1300), observers: ['ana'] },
    ];
    const rows = timeBudget(sessions, [
      { sessionId: 's1', observer: 'ana', behaviour: 'HEDGE', from: s(10), to: s(30) },
      { sessionId: 's1', observer: 'ana', behaviour: 'HEDGE', from: s(90), to: s(150) }, // clipped at 100
      { sessionId: 's2', observer: 'ana', behaviour: 'HEDGE', from: s(1200), to: null }, // runs to the end
      { sessionId: 's1', observer: 'ben', behaviour: 'LOOP', from: s(0), to: s(50) },
      { sessionId: 's2', observer: 'ben', behaviour: 'LOOP', from: s(1000), to: s(1100) }, // ben did not observe s2
    ]);
    const row = (o: string, b: string) => rows.find((r) => r.observer === o && r.behaviour === b)!;
    assert.equal(row('ana', 'HEDGE').seconds, 20 + 10 + 100);
    assert.equal(row('ana', 'HEDGE').sessionSeconds, 400);
    close(row('ana', 'HEDGE').share, 130 / 400);
    assert.equal(row('ana', 'HEDGE').sessions, 2);
    close(row('ben', 'LOOP').share, 0.5);
    assert.equal(rows.length, 2);
  });
});
