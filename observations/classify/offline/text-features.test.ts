// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tokenize } from './text-features.ts';
import { fitTfidf, vectorize } from './tfidf.ts';
import { featureOptionsFor } from './offline-classifier.ts';

describe('text features', () => {
  test('tokenisation: lower-cased, Unicode-aware words, CJK one character each, apostrophes kept inside words', () => {
    assert.deepEqual(tokenize("Don’t PANIC: Ünïcode café, naïve résumé 42 — 東京タワー!"), ["don't", 'panic', 'ünïcode', 'café', 'naïve', 'résumé', '42', '東', '京', 'タ', 'ワ', 'ー']);
    assert.deepEqual(tokenize('ＡＢＣ full-width'), ['abc', 'full', 'width']);
  });

  test('TF-IDF: sublinear term frequency, smoothed idf, unit length; unknown terms ignored', () => {
    const texts = ['apple apple apple banana', 'banana cherry', 'cherry date'];
    const { vocabulary, matrix } = fitTfidf(texts, featureOptionsFor(3, { bigrams: false }));
    assert.deepEqual(vocabulary.terms, ['apple', 'banana', 'cherry', 'date']);
    const idf = (df: number) => Math.log(4 / (1 + df)) + 1;
    assert.ok(Math.abs(vocabulary.idf[0]! - idf(1)) < 1e-6);
    assert.ok(Math.abs(vocabulary.idf[1]! - idf(2)) < 1e-6);
    const row0 = Array.from(matrix.values.slice(matrix.rowStart[0]!, matrix.rowStart[1]!));
    const apple = (1 + Math.log(3)) * idf(1);
    const banana = idf(2);
    const norm = Math.hypot(apple, banana);
    assert.ok(Math.abs(row0[0]! - apple / norm) < 1e-6 && Math.abs(row0[1]! - banana / norm) < 1e-6);
    const v = vectorize('Apple kiwi kiwi', vocabulary, { bigrams: false, charNgrams: null });
    assert.deepEqual(Array.from(v.indices), [0]);
    assert.ok(Math.abs(v.values[0]! - 1) < 1e-6);
  });

  test('bigrams and character n-grams are features of their own kinds', () => {
    const { vocabulary } = fitTfidf(['red fox', 'red fox jumps'], featureOptionsFor(2, { charNgrams: [3, 3] }));
    assert.ok(vocabulary.terms.includes('red fox'));
    assert.ok(vocabulary.terms.includes('\u0002 fo'));
    const v = vectorize('the red fox', vocabulary, { bigrams: true, charNgrams: [3, 3] });
    assert.ok(v.indices.includes(vocabulary.terms.indexOf('red fox')));
  });

  test('vocabulary limits: minimum document frequency, share cap and the most frequent terms first', () => {
    const texts = ['common rare1', 'common shared', 'common shared', 'common x'];
    const minDf = fitTfidf(texts, featureOptionsFor(4, { bigrams: false, minDf: 2 })).vocabulary.terms;
    assert.deepEqual(minDf, ['common', 'shared']);
    const capped = fitTfidf(texts, featureOptionsFor(4, { bigrams: false, maxFeatures: 2 })).vocabulary.terms;
    assert.deepEqual(capped, ['common', 'shared']);
    const noCommon = fitTfidf(texts, featureOptionsFor(4, { bigrams: false, maxDfRatio: 0.75 })).vocabulary.terms;
    assert.ok(!noCommon.includes('common'));
  });
});
