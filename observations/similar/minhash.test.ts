// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { SEARCH_TEXT_CAP, transcriptSearchText } from '../observation-text.ts';
import type { Transcript } from '../transcript.schema.ts';
import { transcriptFingerprint } from './fingerprint-pending.ts';
import { BANDS, SIGNATURE_SIZE, bandsOf, estimateSimilarity, exactSimilarity, fingerprint, fingerprintJoined, fingerprintWords, wordHashesOf } from './minhash.ts';

/** A deterministic pseudo-text of `n` words from a vocabulary of 5,000, seeded. */
function text(seed: number, n: number): string {
  let x = seed >>> 0 || 1;
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words.push(`w${x % 5000}`);
  }
  return words.join(' ');
}

/** `base` with every k-th word replaced, so about a fraction of its shingles change. */
function perturb(base: string, every: number, seed: number): string {
  return base.split(' ').map((w, i) => (i % every === 0 ? `x${seed}_${i}` : w)).join(' ');
}

function sharesBand(a: string, b: string): boolean {
  const pa = fingerprint(a)!;
  const pb = fingerprint(b)!;
  return pa.bands.some((band) => pb.bands.includes(band));
}

describe('fingerprint words', () => {
  it('ignores case, punctuation and Markdown, and splits CJK into characters', () => {
    assert.deepEqual(fingerprintWords('**Hello**, WORLD!  I’m here.'), ['hello', 'world', 'i', 'm', 'here']);
    assert.deepEqual(fingerprintWords('模型abc说'), ['模', '型', 'abc', '说']);
    assert.deepEqual(fingerprintWords('ﬁne'), ['fine'], 'NFKC folds the ligature');
  });

  it('hashes ASCII text in place exactly as it hashes the words it extracts', () => {
    const ascii = 'User: Why does GPT-4o say "I can\'t" 3 times?\n\nAssistant: **Because** it_loops... (v2.1) #tag x';
    // A non-letter outside ASCII sends the same text down the general path (normalise, extract, hash each word).
    const general = `${ascii} ✓`;
    assert.deepEqual(fingerprintWords(general), fingerprintWords(ascii));
    assert.deepEqual(Array.from(wordHashesOf(ascii)), Array.from(wordHashesOf(general)));
    assert.equal(wordHashesOf(ascii).length, fingerprintWords(ascii).length);
    assert.deepEqual(fingerprint(ascii), fingerprint(general));
  });
});

describe('MinHash fingerprints', () => {
  it('gives 64 signed 32-bit positions and 16 bands, the same every time', () => {
    const a = fingerprint(text(1, 300))!;
    assert.equal(a.signature.length, SIGNATURE_SIZE);
    assert.equal(a.bands.length, BANDS);
    for (const v of [...a.signature, ...a.bands]) assert.ok(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31, `int32: ${v}`);
    assert.deepEqual(fingerprint(text(1, 300)), a);
    assert.deepEqual(bandsOf(a.signature), a.bands);
  });

  it('has no fingerprint for text without words', () => {
    assert.equal(fingerprint(''), null);
    assert.equal(fingerprint(' ... --- !!! '), null);
  });

  it('is blind to formatting: the same words in another layout give the same fingerprint', () => {
    const plain = 'User: Why does the model repeat itself?\nAssistant: It repeats itself itself itself.';
    const noisy = 'USER:   why does the MODEL repeat itself??\n\nassistant: *It* repeats — itself, itself, itself…';
    assert.deepEqual(fingerprint(noisy), fingerprint(plain));
  });

  it('estimates Jaccard similarity within 0.15 of the exact value across the range', () => {
    const base = text(7, 600);
    for (const every of [2, 3, 5, 10, 40]) {
      const other = perturb(base, every, every);
      const exact = exactSimilarity(base, other);
      const estimate = estimateSimilarity(fingerprint(base)!.signature, fingerprint(other)!.signature);
      assert.ok(Math.abs(estimate - exact) <= 0.15, `every ${every}: exact ${exact.toFixed(3)}, estimate ${estimate.toFixed(3)}`);
    }
    assert.equal(estimateSimilarity(fingerprint(base)!.signature, fingerprint(base)!.signature), 1);
  });

  it('puts near-duplicates in a shared band and unrelated texts in none', () => {
    const base = text(11, 800);
    assert.ok(sharesBand(base, perturb(base, 40, 1)), 'one word in 40 changed (Jaccard about 0.93)');
    assert.ok(sharesBand(base, base + ' and one more closing sentence here'), 'an appended sentence');
    let unrelatedHits = 0;
    for (let seed = 100; seed < 150; seed++) if (sharesBand(base, text(seed, 800))) unrelatedHits++;
    assert.equal(unrelatedHits, 0, 'fifty unrelated texts of the same vocabulary share no band');
  });

  it('handles texts shorter than a shingle', () => {
    const one = fingerprint('Hello')!;
    assert.deepEqual(one, fingerprint('hello!'));
    assert.ok(estimateSimilarity(one.signature, fingerprint('Goodbye')!.signature) < 0.2);
  });
});

/** 401 texts of 0 to 300 words, a third with letters and symbols outside ASCII (CJK, accents, ligatures, emoji). */
function mixedCorpus(): string[] {
  let x = 12345;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  const vocabulary = ['the', 'Model', 'REFUSED', "can't", 'x', '42', 'tool_call', '模型', 'café', 'ﬁne', '—', '**bold**', 'GPT-4o', '\n', '', 'a.b', 'I’m', '🙂'];
  const texts: string[] = [''];
  for (let i = 0; i < 400; i++) {
    const n = next() % (i < 100 ? 4 : 300);
    const ascii = i % 3 !== 0;
    const words: string[] = [];
    for (let j = 0; j < n; j++) {
      const word = vocabulary[next() % vocabulary.length]!;
      words.push(ascii ? word.replace(/[^\x00-\x7f]/g, '') : word);
    }
    texts.push(words.join(next() % 2 ? ' ' : '  '));
  }
  return texts;
}

describe('fingerprints of joined texts', () => {
  it('keeps the scheme the stored fingerprints were made with', () => {
    // Stored fingerprints are compared with new ones, so the scheme must not drift: this digest of the corpus's
    // fingerprints was computed by the implementation that wrote them (word and shingle arrays, before the
    // one-pass builder). A change here means re-fingerprinting every observation in a migration (see minhash.ts).
    const digest = createHash('sha256').update(JSON.stringify(mixedCorpus().map((t) => fingerprint(t)))).digest('hex');
    assert.equal(digest, '616efea723c061cc033b41566d8b003c4a4fc3938d97df56a108e2329a364d7e');
  });

  it('reads texts one after another as if joined by newlines and cut at the cap', () => {
    const texts = mixedCorpus();
    let compared = 0;
    for (let i = 0; i + 4 <= texts.length; i += 3) {
      const pieces = texts.slice(i, i + 4).filter(Boolean);
      for (const cap of [Infinity, 0, 1, 5, 17, 100, 1000]) {
        assert.deepEqual(fingerprintJoined(pieces, cap), fingerprint(pieces.join('\n').slice(0, cap)), `texts ${i}.., cap ${cap}`);
        compared++;
      }
    }
    assert.ok(compared > 900);
    assert.notDeepEqual(fingerprintJoined(['alpha beta', 'gamma'], Infinity), fingerprint('alpha betagamma'), 'the newline separates words');
  });

  it('fingerprints a transcript from the text the search index reads', () => {
    const transcriptOf = (texts: string[]) => ({
      format: 'openai-chat',
      messages: texts.map((text, i) => ({
        id: `m${i}`,
        role: i % 2 ? 'assistant' : 'user',
        parts: i % 5 === 4 ? [{ type: 'tool_call', id: `c${i}`, name: 'search', arguments: text }] : [{ type: 'text', text }, { type: 'image', mediaType: 'image/png' }],
      })),
    }) as unknown as Transcript;
    const short = transcriptOf(mixedCorpus().slice(100, 140));
    assert.ok(transcriptSearchText(short).length > 1000);
    assert.deepEqual(transcriptFingerprint(short), fingerprint(transcriptSearchText(short)));
    // Past the cap, the text the index stops reading: an ASCII transcript longer than SEARCH_TEXT_CAP.
    const ascii = mixedCorpus().filter((_t, i) => i % 3 !== 1);
    const long = transcriptOf(Array.from({ length: 60 }, (_v, i) => ascii.slice(i, i + 60).join(' ')));
    assert.ok(transcriptSearchText(long, Infinity).length > SEARCH_TEXT_CAP);
    assert.deepEqual(transcriptFingerprint(long), fingerprint(transcriptSearchText(long)));
    assert.notDeepEqual(transcriptFingerprint(long), fingerprint(transcriptSearchText(long, Infinity)));
  });
});
