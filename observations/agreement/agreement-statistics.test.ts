// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cohensKappa,
  confusionMatrix,
  fleissKappa,
  krippendorffAlphaNominal,
  pairwiseCohensKappa,
  percentAgreement,
  precisionRecall,
  type Label,
  type Ratings,
} from './agreement-statistics.ts';

const round = (v: number | null, places = 3) => (v === null ? null : Math.round(v * 10 ** places) / 10 ** places);

/** Two coders' yes/no decisions from a 2x2 table [[yy, yn], [ny, nn]] (rows: coder A, columns: coder B). */
function twoByTwo(yy: number, yn: number, ny: number, nn: number): [Label[], Label[]] {
  const a: Label[] = [];
  const b: Label[] = [];
  const push = (n: number, x: Label, y: Label) => {
    for (let i = 0; i < n; i++) {
      a.push(x);
      b.push(y);
    }
  };
  push(yy, 'yes', 'yes');
  push(yn, 'yes', 'no');
  push(ny, 'no', 'yes');
  push(nn, 'no', 'no');
  return [a, b];
}

describe("Cohen's kappa", () => {
  test('matches the worked examples (Cohen 1960 as presented on Wikipedia): 0.4, 0.1304, 0.2593', () => {
    const first = cohensKappa(...twoByTwo(20, 5, 10, 15));
    assert.equal(first.observed, 0.7);
    assert.equal(round(first.expected!, 4), 0.5);
    assert.equal(round(first.value, 4), 0.4);
    const second = cohensKappa(...twoByTwo(45, 15, 25, 15));
    assert.equal(round(second.expected!, 2), 0.54);
    assert.equal(round(second.value, 4), 0.1304);
    assert.equal(round(cohensKappa(...twoByTwo(25, 35, 5, 35)).value, 4), 0.2593);
  });

  test('uses only units both coders coded, and is undefined (with a reason) when chance agreement is total', () => {
    const withGaps = cohensKappa(['a', 'b', null, 'a'], ['a', 'b', 'b', null]);
    assert.equal(withGaps.units, 2);
    assert.equal(withGaps.value, 1);
    const constant = cohensKappa(['a', 'a'], ['a', 'a']);
    assert.equal(constant.value, null);
    assert.match(constant.value === null ? constant.reason : '', /undefined/);
    assert.equal(cohensKappa([null], ['a']).value, null);
    assert.throws(() => cohensKappa(['a'], []), /differ in length/);
  });

  test('is computed for every pair of coders', () => {
    const ratings: Ratings = [
      ['a', 'a', 'b'],
      ['b', 'b', 'b'],
      ['a', 'a', 'a'],
      ['b', 'b', 'a'],
    ];
    const pairs = pairwiseCohensKappa(ratings, ['ann', 'bob', 'cy']);
    assert.deepEqual(pairs.map((p) => `${p.coderA}-${p.coderB}`), ['ann-bob', 'ann-cy', 'bob-cy']);
    assert.equal(pairs[0]!.kappa.value, 1);
    assert.equal(pairs[1]!.kappa.value, 0);
  });
});

describe("Fleiss' kappa", () => {
  // Wikipedia's worked example: 10 subjects, 14 raters, 5 categories; P-bar 0.378, P-bar-e 0.213, kappa 0.210.
  const table = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];
  const ratings: Ratings = table.map((row) => row.flatMap((count, category) => Array<Label>(count).fill(category + 1)));

  test('matches the published worked example', () => {
    const kappa = fleissKappa(ratings);
    assert.equal(round(kappa.observed!), 0.378);
    assert.equal(round(kappa.expected!), 0.213);
    assert.equal(round(kappa.value), 0.21);
  });

  test('equals Cohen-style agreement bounds: 1 for perfect agreement, undefined for one label everywhere', () => {
    assert.equal(fleissKappa([['x', 'x'], ['y', 'y']]).value, 1);
    assert.equal(fleissKappa([['x', 'x'], ['x', 'x']]).value, null);
    assert.equal(fleissKappa([['x'], [null, 'y']]).value, null);
  });
});

describe("Krippendorff's alpha (nominal)", () => {
  // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units with
  // missing values; nominal alpha = 0.743.
  const byObserver: (number | null)[][] = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
    [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
  ];
  const ratings: Ratings = byObserver[0]!.map((_, unit) => byObserver.map((observer) => observer[unit]!));

  test("matches Krippendorff's own worked example, tolerating missing ratings", () => {
    const alpha = krippendorffAlphaNominal(ratings);
    assert.equal(alpha.pairable, 40, 'unit 12 has one value and is not pairable');
    assert.equal(round(alpha.value), 0.743);
  });

  test('is 1 for perfect agreement, undefined without variation or without pairable units', () => {
    assert.equal(krippendorffAlphaNominal([['a', 'a', null], ['b', 'b', 'b']]).value, 1);
    assert.equal(krippendorffAlphaNominal([['a', 'a'], ['a', 'a']]).value, null);
    assert.equal(krippendorffAlphaNominal([['a', null], [null, 'b']]).value, null);
  });

  test('for two coders without missing data, relates to Scott-type agreement: alpha = 1 - (n-1)/n * D_o/D_e-bar', () => {
    const two: Ratings = [['a', 'a'], ['a', 'b'], ['b', 'b'], ['c', 'c'], ['a', 'a']];
    const alpha = krippendorffAlphaNominal(two);
    assert.equal(alpha.pairable, 10);
    // By hand: coincidences a-a 4, a-b 1, b-a 1, b-b 2, c-c 2; n_a 5, n_b 3, n_c 2; D_o = 2/10,
    // expected disagreeing pairs = 100 - 25 - 9 - 4 = 62; alpha = 1 - 9 * 2 / 62.
    assert.equal(round(alpha.value, 6), round(1 - (9 * 2) / 62, 6));
  });
});

describe('percent agreement', () => {
  test('counts agreeing pairs over pairable units', () => {
    const agreement = percentAgreement([['a', 'a', 'b'], ['c', 'c', null], ['d', null, null]]);
    assert.equal(agreement.pairs, 4);
    assert.equal(agreement.units, 2);
    assert.equal(agreement.value, 2 / 4);
    assert.equal(percentAgreement([['a', null]]).value, null);
  });
});

describe('confusion matrix, precision and recall', () => {
  test('counts reference against prediction and derives per-label figures', () => {
    const people: (Label | null)[] = ['present', 'present', 'absent', 'absent', 'present', null];
    const classifier: (Label | null)[] = ['present', 'absent', 'absent', 'present', 'present', 'present'];
    const matrix = confusionMatrix(people, classifier, ['present', 'absent']);
    assert.deepEqual(matrix.counts, [[2, 1], [1, 1]]);
    assert.equal(matrix.units, 5);
    const present = precisionRecall(matrix, 'present');
    assert.equal(present.precision, 2 / 3);
    assert.equal(present.recall, 2 / 3);
    assert.equal(round(present.f1!, 6), round(2 / 3, 6));
    assert.equal(present.support, 3);
    assert.deepEqual(precisionRecall(confusionMatrix(['x'], ['y']), 'z'), { precision: null, recall: null, f1: null, support: 0 });
    assert.equal(precisionRecall(confusionMatrix(['x'], ['y']), 'y').recall, null, 'no reference case of y');
  });
});
