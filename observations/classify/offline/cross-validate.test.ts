// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crossValidate, crossValidateAsync } from './cross-validate.ts';
import { duplicateKey } from './folds.ts';
import type { TrainingExample } from './offline-classifier.ts';
import { syntheticCorpus } from './synthetic-corpus.ts';

const behaviours = [
  { code: 'A', rate: 0.3 },
  { code: 'B', rate: 0.1 },
];

describe('cross-validation', () => {
  test('per-behaviour precision, recall, F1 and support on a learnable corpus', () => {
    const corpus = syntheticCorpus({ size: 300, behaviours, seed: 3, words: 40 });
    const result = crossValidate(corpus, { folds: 5, seed: 1 });
    assert.equal(result.strategy, 'stratified-k-fold');
    assert.equal(result.folds, 5);
    assert.deepEqual(result.behaviours.map((b) => b.label), ['A', 'B']);
    for (const b of result.behaviours) {
      assert.equal(b.trustworthy, true, b.reason ?? '');
      assert.equal(b.support, corpus.filter((e) => e.labels.includes(b.label)).length);
      assert.equal(b.counts.truePositives + b.counts.falseNegatives, b.support);
      assert.equal(b.counts.truePositives + b.counts.falseNegatives + b.counts.falsePositives + b.counts.trueNegatives, corpus.length);
      assert.ok(b.f1 !== null && b.f1 >= 0.9, `${b.label}: F1 ${b.f1}`);
    }
    assert.ok(result.overall?.f1 !== null && result.overall!.f1! >= 0.9);
  });

  test('the async form gives the same result, reports each fold, and stops between folds when asked', async () => {
    const corpus = syntheticCorpus({ size: 120, behaviours, seed: 4, words: 30 });
    const folds: number[] = [];
    const result = await crossValidateAsync(corpus, { folds: 3, seed: 2, onFold: (done) => folds.push(done) });
    assert.deepEqual(result, crossValidate(corpus, { folds: 3, seed: 2 }));
    assert.deepEqual(folds, [1, 2, 3]);
    const controller = new AbortController();
    const stopped = crossValidateAsync(corpus, { folds: 3, seed: 2, signal: controller.signal, onFold: (done) => done === 1 && controller.abort() });
    await assert.rejects(stopped, (err: Error) => err.name === 'AbortError');
  });

  test('stratified: each fold tests about the same number of each behaviour', () => {
    const corpus = syntheticCorpus({ size: 200, behaviours, seed: 8, words: 20 });
    const { foldOf } = crossValidate(corpus, { folds: 5, seed: 2 });
    for (const label of ['A', 'B']) {
      const perFold = [0, 0, 0, 0, 0];
      corpus.forEach((e, i) => e.labels.includes(label) && perFold[foldOf[i]!]!++);
      assert.ok(Math.max(...perFold) - Math.min(...perFold) <= 1, `${label}: ${perFold}`);
    }
  });

  test('deterministic with the seed; another seed, other folds', () => {
    const corpus = syntheticCorpus({ size: 120, behaviours, seed: 6, words: 20 });
    const first = crossValidate(corpus, { seed: 42 });
    assert.deepEqual(crossValidate(corpus, { seed: 42 }), first);
    assert.notDeepEqual(crossValidate(corpus, { seed: 43 }).foldOf, first.foldOf);
  });

  test('never leaks: duplicates share a fold, so a behaviour seen only in copies of one text is never found', () => {
    const corpus: TrainingExample[] = syntheticCorpus({ size: 100, behaviours, seed: 12, words: 20 });
    const secret = 'The secret phrase glorpwizzle appears only here and marks the behaviour.';
    // Six copies, differing only in case and spacing: one distinct text.
    for (const variant of [secret, secret.toUpperCase(), `  ${secret}`, secret.replace(/ /g, '  '), secret, secret.toLowerCase()]) {
      corpus.push({ text: variant, labels: ['LEAK'] });
    }
    const result = crossValidate(corpus, { folds: 5, seed: 1 });
    const folds = new Set(corpus.flatMap((e, i) => (e.labels.includes('LEAK') ? [result.foldOf[i]] : [])));
    assert.equal(folds.size, 1, 'all copies are tested in one fold');
    // By construction: a model trained without any copy cannot know glorpwizzle means LEAK.
    const leak = result.behaviours.find((b) => b.label === 'LEAK')!;
    assert.equal(leak.counts.truePositives, 0);
    assert.equal(leak.support, 6);
    assert.equal(leak.distinctPositives, 1);
    assert.equal(leak.trustworthy, false);
    // And in general: no text is in a fold other than that of its duplicates.
    const foldByKey = new Map<string, number>();
    corpus.forEach((e, i) => {
      const key = duplicateKey(e.text);
      assert.equal(foldByKey.get(key) ?? result.foldOf[i], result.foldOf[i]);
      foldByKey.set(key, result.foldOf[i]!);
    });
  });

  test('behaviours with too few examples are flagged with a reason instead of figures', () => {
    const corpus = syntheticCorpus({ size: 150, behaviours: [{ code: 'A', rate: 0.3 }], seed: 5, words: 20 });
    const rare = (n: number, code: string) => corpus.slice(0, n).forEach((e) => (e.labels = [...e.labels, code]));
    rare(3, 'THREE');
    rare(7, 'SEVEN');
    const result = crossValidate(corpus, { folds: 5, seed: 1 });
    const three = result.behaviours.find((b) => b.label === 'THREE')!;
    assert.equal(three.trustworthy, false);
    assert.equal(three.precision, null);
    assert.equal(three.f1, null);
    assert.match(three.reason!, /Only 3 distinct examples with this behaviour; at least 5/);
    const seven = result.behaviours.find((b) => b.label === 'SEVEN')!;
    assert.equal(seven.trustworthy, false);
    assert.match(seven.reason!, /7 distinct examples with this behaviour over 5 folds is fewer than 2 per fold/);
    assert.equal(seven.counts.truePositives + seven.counts.falseNegatives, 7, 'the raw counts are still given');
    assert.equal(result.behaviours.find((b) => b.label === 'A')!.trustworthy, true);
  });

  test('with few distinct texts, leave-one-out: every text tested by a model trained on all the others', () => {
    const corpus = syntheticCorpus({ size: 24, behaviours: [{ code: 'A', rate: 0.4 }], seed: 10, words: 15 });
    let folds = 0;
    const result = crossValidate(corpus, { folds: 5, seed: 1, onFold: () => folds++ });
    assert.equal(result.strategy, 'leave-one-out');
    assert.equal(result.folds, 24);
    assert.equal(folds, 24);
    assert.equal(new Set(result.foldOf).size, 24);
    const a = result.behaviours[0]!;
    assert.equal(a.trustworthy, a.distinctPositives >= 5 && corpus.length - a.distinctPositives >= 5);
  });

  test('refuses what cannot be cross-validated', () => {
    assert.throws(() => crossValidate([{ text: 'same', labels: ['A'] }, { text: 'SAME', labels: [] }]), /two distinct texts/);
    assert.throws(() => crossValidate([{ text: 'a', labels: [] }, { text: 'b', labels: [] }], { folds: 1 }), /at least 2 folds/);
  });
});
