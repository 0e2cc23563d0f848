// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { modelFromJson, modelToJson, predict, train } from './offline-classifier.ts';
import { syntheticCorpus } from './synthetic-corpus.ts';

const behaviours = [
  { code: 'DEG-LOOP', rate: 0.3 },
  { code: 'REF-FULL', rate: 0.15 },
  { code: 'SYC-FLATTER', rate: 0.08 },
];

function heldOutF1(trainSize: number, testSize: number, seed: number, words = 40): Map<string, number> {
  const corpus = syntheticCorpus({ size: trainSize + testSize, behaviours, seed, words });
  const model = train(corpus.slice(0, trainSize));
  const f1 = new Map<string, number>();
  for (const { code } of behaviours) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const e of corpus.slice(trainSize)) {
      const p = predict(model, e.text).find((x) => x.label === code)!.probability;
      const positive = e.labels.includes(code);
      if (positive && p >= 0.5) tp++;
      else if (positive) fn++;
      else if (p >= 0.5) fp++;
    }
    f1.set(code, (2 * tp) / (2 * tp + fp + fn));
  }
  return f1;
}

describe('offline classifier', () => {
  test('learns a separable toy problem: held-out F1 near 1 for every behaviour', () => {
    for (const [code, f1] of heldOutF1(400, 200, 5)) assert.ok(f1 >= 0.95, `${code}: F1 ${f1}`);
  });

  test('predict returns every trained behaviour once, most probable first, probabilities in (0, 1)', () => {
    const corpus = syntheticCorpus({ size: 200, behaviours, seed: 2, words: 30 });
    const model = train(corpus);
    const predictions = predict(model, corpus.find((e) => e.labels.includes('REF-FULL'))!.text);
    assert.deepEqual(predictions.map((p) => p.label).sort(), ['DEG-LOOP', 'REF-FULL', 'SYC-FLATTER']);
    for (let i = 1; i < predictions.length; i++) assert.ok(predictions[i - 1]!.probability >= predictions[i]!.probability);
    assert.ok(predictions.every((p) => p.probability > 0 && p.probability < 1));
    assert.ok(predictions.find((p) => p.label === 'REF-FULL')!.probability > 0.5);
  });

  test('training is deterministic: the same examples give the same model, bit for bit', () => {
    const corpus = syntheticCorpus({ size: 150, behaviours, seed: 9, words: 30 });
    const once = JSON.stringify(modelToJson(train(corpus)));
    assert.ok(JSON.stringify(modelToJson(train(corpus))) === once, 'two trainings, one document');
    assert.ok(JSON.stringify(modelToJson(train(corpus, { c: 1 }))) !== once, 'other options, another model');
  });

  test('serialisation round-trips exactly: same document, same predictions', () => {
    const corpus = syntheticCorpus({ size: 150, behaviours, seed: 4, words: 30 });
    const model = train(corpus, { features: { charNgrams: [3, 4] } });
    const stored = JSON.stringify(modelToJson(model));
    const loaded = modelFromJson(JSON.parse(stored));
    assert.ok(JSON.stringify(modelToJson(loaded)) === stored, 'the document read back is written back identically');
    for (const e of corpus.slice(0, 20)) assert.deepEqual(predict(loaded, e.text), predict(model, e.text));
    assert.deepEqual(loaded.features, model.features);
  });

  test('a document that is not a model is refused with a message naming the problem', () => {
    assert.throws(() => modelFromJson({ format: 'something-else' }), /Not an offline classifier model: format/);
    const doc = modelToJson(train([{ text: 'a b c', labels: ['X'] }, { text: 'd e f', labels: [] }]));
    assert.throws(() => modelFromJson({ ...doc, idf: 'AAAA' }), /idf values are 3 bytes long where \d+ \(\d+ float32 values\) were expected/);
  });

  test('edge cases: a behaviour every example has, texts with no known words, no examples', () => {
    const model = train([
      { text: 'alpha beta', labels: ['ALL', 'SOME'] },
      { text: 'gamma delta', labels: ['ALL'] },
      { text: 'alpha gamma', labels: ['ALL'] },
    ]);
    const [all] = predict(model, 'unseen words only');
    assert.equal(all?.label, 'ALL');
    assert.ok(all.probability > 0.7);
    assert.throws(() => train([]), /at least one training example/);
  });
});
