// @database-free: pure text clustering, excerpts and code suggestions; never opens the test database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFINITION_PLACEHOLDER, suggestBehaviour, suggestCode } from './behaviour-suggestion.ts';
import { clusterTexts } from './cluster-texts.ts';
import { excerptAround } from './excerpt.ts';
import { plantedCorpus, plantedText, PLANTED_TOPICS } from './planted-corpus.ts';
import { contentWords, textVectors } from './text-vectors.ts';

/** Hubert and Arabie's adjusted Rand index of two labellings of the same items. */
function adjustedRandIndex(a: readonly number[], b: readonly number[]): number {
  const pairs = (n: number) => (n * (n - 1)) / 2;
  const table = new Map<string, number>();
  const rowSums = new Map<number, number>();
  const colSums = new Map<number, number>();
  a.forEach((x, i) => {
    const y = b[i]!;
    table.set(`${x}|${y}`, (table.get(`${x}|${y}`) ?? 0) + 1);
    rowSums.set(x, (rowSums.get(x) ?? 0) + 1);
    colSums.set(y, (colSums.get(y) ?? 0) + 1);
  });
  const index = [...table.values()].reduce((s, n) => s + pairs(n), 0);
  const rows = [...rowSums.values()].reduce((s, n) => s + pairs(n), 0);
  const cols = [...colSums.values()].reduce((s, n) => s + pairs(n), 0);
  const expected = (rows * cols) / pairs(a.length);
  return (index - expected) / ((rows + cols) / 2 - expected);
}

/** The cluster each text ended in (-1: remainder). */
function labelsOf(clusters: ReadonlyArray<{ members: number[] }>, n: number): number[] {
  const labels = new Array<number>(n).fill(-1);
  clusters.forEach((c, i) => c.members.forEach((m) => (labels[m] = i)));
  return labels;
}

describe('clusterTexts on a corpus with planted topics', () => {
  const corpus = plantedCorpus({ topics: 4, perTopic: 20, noise: 12, seed: 11 });
  const texts = corpus.map(plantedText);
  const result = clusterTexts(texts);

  it('finds one cluster per planted topic, each pure, and leaves the noise texts out', () => {
    assert.equal(result.clusters.length, 4, `clusters of sizes ${result.clusters.map((c) => c.members.length)}`);
    for (const cluster of result.clusters) {
      const topics = cluster.members.map((m) => corpus[m]!.topic);
      const majority = Math.max(...[0, 1, 2, 3].map((t) => topics.filter((x) => x === t).length));
      assert.ok(majority / topics.length >= 0.95, `purity ${majority}/${topics.length}`);
    }
    const noiseInClusters = result.clusters.flatMap((c) => c.members).filter((m) => corpus[m]!.topic === -1);
    assert.ok(noiseInClusters.length <= 2, `${noiseInClusters.length} noise texts were clustered`);
    const ari = adjustedRandIndex(corpus.map((t) => t.topic), labelsOf(result.clusters, texts.length));
    assert.ok(ari >= 0.9, `adjusted Rand index ${ari.toFixed(3)}`);
  });

  it("names each cluster by its topic's own words", () => {
    for (const cluster of result.clusters) {
      const topic = corpus[cluster.members[0]!]!.topic;
      const vocabulary = new Set(PLANTED_TOPICS[topic]!.words);
      const own = cluster.topTerms.filter((t) => t.split(' ').every((w) => vocabulary.has(w)));
      assert.ok(own.length >= 6, `top terms ${cluster.topTerms.join(', ')} for ${PLANTED_TOPICS[topic]!.name}`);
      assert.equal(cluster.representatives.length, 3);
      assert.deepEqual(cluster.representatives, cluster.members.slice(0, 3), 'representatives are the most central members');
      assert.ok(cluster.similarity.every((s, i) => i === 0 || s <= cluster.similarity[i - 1]!), 'members ordered by centrality');
    }
  });

  it('is deterministic: the same texts and seed give the same clusters, whatever else ran before', () => {
    const again = clusterTexts(texts);
    assert.deepEqual(again.clusters, result.clusters);
    assert.deepEqual(again.remainder, result.remainder);
    const otherSeed = clusterTexts(texts, { seed: 99 });
    assert.ok(adjustedRandIndex(labelsOf(otherSeed.clusters, texts.length), labelsOf(result.clusters, texts.length)) > 0.9, 'another seed finds the same topics');
  });

  it('recovers six topics among 1,200 texts', () => {
    const big = plantedCorpus({ topics: 6, perTopic: 170, noise: 180, seed: 5 });
    const started = performance.now();
    const found = clusterTexts(big.map(plantedText));
    const seconds = (performance.now() - started) / 1000;
    const ari = adjustedRandIndex(big.map((t) => t.topic), labelsOf(found.clusters, big.length));
    assert.ok(ari >= 0.9, `adjusted Rand index ${ari.toFixed(3)} with clusters ${found.clusters.map((c) => c.members.length)}`);
    // Generous: the figure that matters comes from the benchmark; this only catches an accidental blow-up.
    assert.ok(seconds < 10, `took ${seconds.toFixed(2)} s`);
  });

  it('finds the planted topics among a few dozen texts whatever their order (the suggestions page lists newest first)', () => {
    // Two k-means++ starts per k once picked four clusters here in about one order in fifty: both starts for k = 3
    // merged two topics, and the silhouette then preferred k = 4. Small samples now get more starts.
    const small = plantedCorpus({ topics: 3, perTopic: 6, noise: 0, words: 40, seed: 3 });
    let state = 7;
    const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
    for (let run = 0; run < 300; run++) {
      const order = [...small.keys()];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const found = clusterTexts(order.map((i) => plantedText(small[i]!)));
      const topics = found.clusters.map((c) => new Set(c.members.map((m) => small[order[m]!]!.topic)));
      assert.equal(found.clusters.length, 3, `order ${run}: clusters of sizes ${found.clusters.map((c) => c.members.length)}`);
      assert.ok(topics.every((t) => t.size === 1), `order ${run}: a cluster mixes topics`);
    }
  });

  it('finds no cluster where there are too few texts or nothing in common', () => {
    assert.deepEqual(clusterTexts(['one text about pirates', 'another about cakes']).clusters, []);
    const unrelated = ['alpha bravo charlie', 'delta echo foxtrot', 'golf hotel india', 'juliet kilo lima', 'mike november oscar', 'papa quebec romeo'];
    const r = clusterTexts(unrelated);
    assert.deepEqual(r.clusters, []);
    assert.deepEqual(r.remainder, [0, 1, 2, 3, 4, 5]);
  });
});

describe('contentWords and textVectors', () => {
  it('drops stop words, numbers and single letters, keeping refusal words', () => {
    assert.deepEqual(contentWords("I'm sorry, but I cannot help with the 42 items in list B."), ['sorry', 'cannot', 'help', 'items', 'list']);
  });

  it('weighs unigrams and bigrams by sublinear tf and smoothed idf, L2-normalised, dropping terms in one text', () => {
    const { terms, matrix } = textVectors(['Pirate ship, pirate!', 'the pirate ship', 'a cake']);
    assert.deepEqual(terms, ['pirate', 'ship', 'pirate ship']);
    const row = (d: number) => Object.fromEntries([...matrix.indices.subarray(matrix.rowStart[d], matrix.rowStart[d + 1])].map((f, k) => [terms[f], matrix.values[matrix.rowStart[d]! + k]!]));
    // Text 0: pirate twice (tf 1 + ln 2), ship and "pirate ship" once; all three idf ln(4/3) + 1, so idf cancels out.
    const norm = Math.sqrt((1 + Math.log(2)) ** 2 + 2);
    assert.ok(Math.abs(row(0).pirate! - (1 + Math.log(2)) / norm) < 1e-6);
    assert.ok(Math.abs(row(0).ship! - 1 / norm) < 1e-6);
    assert.ok(Math.abs(row(1).pirate! - 1 / Math.sqrt(3)) < 1e-6);
    assert.deepEqual(row(2), {}, '"cake" is in one text only: no terms left');
  });
});

describe('excerptAround', () => {
  const long = `${'filler words here '.repeat(30)}the model then spoke like a pirate captain, shouting ahoy matey at the user ${'and more filler '.repeat(30)}`;

  it('centres on the best term found and marks it, with ellipses where text was cut', () => {
    const e = excerptAround([long], ['ahoy', 'pirate']);
    assert.equal(e.match, 'ahoy');
    assert.ok(e.before.startsWith('… ') && e.after.endsWith(' …'));
    assert.ok(e.text.length <= 250, `length ${e.text.length}`);
    assert.equal(e.text, e.before + e.match + e.after);
    assert.ok(!/^… \S*\s/.test(e.before) || e.before.startsWith('… '), 'starts on a word');
  });

  it('finds a bigram with stop words between its words, and prefers earlier fields', () => {
    const e = excerptAround(['No match in the model output.', 'It was a pirate of the captain sort.'], ['pirate captain', 'model']);
    assert.equal(e.match, 'pirate of the captain');
    assert.equal(excerptAround(['the model said so', 'model too'], ['model']).before, 'the ');
  });

  it('falls back to the start of the first non-empty field; keeps markup as plain text for the page to escape', () => {
    const e = excerptAround(['', '<b>nothing</b> relevant'], ['zebra']);
    assert.equal(e.match, '');
    assert.equal(e.text, '<b>nothing</b> relevant');
  });

  it('matches whole words only', () => {
    assert.equal(excerptAround(['a shipment, then a ship'], ['ship']).before, 'a shipment, then a ');
  });
});

describe('suggestCode', () => {
  it('builds a valid code from the top terms', () => {
    assert.equal(suggestCode(['pirate speech', 'arrr'], []), 'PIRATE-SPEECH');
    assert.equal(suggestCode(['über', 'naïve café'], []), 'UBER-NAIVE');
    assert.equal(suggestCode(['42', 'loops'], []), 'LOOPS', 'a code starts with a letter');
    assert.equal(suggestCode(['extraordinarily', 'long'], []), 'EXTRAORD-LONG');
    assert.equal(suggestCode([], []), 'NEW');
    assert.equal(suggestCode(['日本'], []), 'NEW');
    for (const code of ['PIRATE-SPEECH', 'UBER-NAIVE', 'LOOPS', 'NEW']) assert.match(code, /^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$/);
  });

  it('is unique among the codes taken (whatever their case), adding a number', () => {
    assert.equal(suggestCode(['pirate', 'arrr'], ['PIRATE-ARRR']), 'PIRATE-ARRR-2');
    assert.equal(suggestCode(['pirate', 'arrr'], ['pirate-arrr', 'PIRATE-ARRR-2']), 'PIRATE-ARRR-3');
    const taken: string[] = [];
    for (let i = 0; i < 5; i++) taken.push(suggestCode(['same', 'terms'], taken));
    assert.equal(new Set(taken).size, 5);
  });
});

describe('suggestBehaviour', () => {
  it('prefills a definition to rewrite, an inclusion criterion and the excerpt as an example', () => {
    const s = suggestBehaviour({ topTerms: ['pirate speech', 'arrr', 'matey'], excerpt: '… said arrr matey …' }, ['PIRATE-SPEECH']);
    assert.equal(s.code, 'PIRATE-SPEECH-2');
    assert.equal(s.name, 'Pirate speech / arrr');
    assert.ok(s.definition.startsWith(DEFINITION_PLACEHOLDER));
    assert.match(s.definition, /"pirate speech", "arrr", "matey"/);
    assert.match(s.inclusion, /"pirate speech", "arrr", "matey"/);
    assert.equal(s.positiveExample, '… said arrr matey …');
  });
});
