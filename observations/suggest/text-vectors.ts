import { PairTable } from '../classify/offline/pair-table.ts';
import type { SparseMatrix } from '../classify/offline/tfidf.ts';
import { tokenize } from '../classify/offline/text-features.ts';
import { STOP_WORDS } from './stop-words.ts';

/** Words read per text: enough for a long answer's gist; past it, a 50-turn transcript would only cost time. */
export const MAX_WORDS_PER_TEXT = 800;

/** A token that carries content: not a stop word, not a bare number, not a lone Latin letter. */
const isContentWord = (word: string) => !STOP_WORDS.has(word) && !/^\d+(?:[.,]\d+)*$/.test(word) && !/^[a-z]$/.test(word);

/**
 * The content words of a text in order (lower-cased, NFKC, the offline classifier's tokeniser), stop words and
 * numbers removed, at most `cap` of them. Bigrams are then formed over this sequence, so "refuses to answer"
 * yields the bigram "refuses answer", as scikit-learn does with a stop-word list.
 */
export function contentWords(text: string, cap = MAX_WORDS_PER_TEXT): string[] {
  const out: string[] = [];
  for (const word of tokenize(text)) {
    if (!isContentWord(word)) continue;
    out.push(word);
    if (out.length >= cap) break;
  }
  return out;
}

export interface TextVectorOptions {
  /** Drop terms found in fewer texts than this (default 2: a term in one text cannot bring two together). */
  minDf?: number;
  /**
   * Drop terms found in more than this share of texts (default 0.6): a word in most texts ("assistant", "answer")
   * only makes everything look alike. Applied from 20 texts on; below that it would drop real topics.
   */
  maxDfRatio?: number;
  /** At most this many terms, the most widespread first (default 20,000). */
  maxFeatures?: number;
}

export interface TextVectors {
  /** Term i: a word, or two words joined by a space (a bigram). */
  terms: string[];
  /** One L2-normalised TF-IDF row per text (sublinear tf, smoothed idf); a row with no terms is all zero. */
  matrix: SparseMatrix;
}

/** A growable Int32Array: the per-document term lists of 10,000 texts hold millions of entries. */
class IntList {
  data = new Int32Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
}

/**
 * TF-IDF vectors of word unigrams and bigrams over the texts' content words (see `contentWords`), computed as
 * the offline classifier's `fitTfidf` does (sublinear tf 1 + ln count, smoothed idf ln((1 + n) / (1 + df)) + 1, L2
 * rows) but straight from the word lists, so each text is tokenised once: this is the larger half of a page's
 * clustering time. Term ids follow first occurrence, so the same texts always give the same layout.
 */
export function textVectors(texts: readonly string[], options: TextVectorOptions = {}): TextVectors {
  const n = texts.length;
  const minDf = options.minDf ?? 2;
  const maxDf = Math.floor((n >= 20 ? (options.maxDfRatio ?? 0.6) : 1) * n);
  const maxFeatures = options.maxFeatures ?? 20_000;

  // Pass 1: intern words and bigrams (bigrams by word-id pair, no string per occurrence), count document frequency.
  const wordIds = new Map<string, number>();
  const words: string[] = [];
  const wordTerm: number[] = [];
  const bigramTerm = new PairTable(1 << 16);
  const termFirst = new IntList();
  const termSecond = new IntList();
  const df = new IntList();
  const lastDoc = new IntList();
  const docTerms = new IntList();
  const docStart = new Int32Array(n + 1);
  const newTerm = (first: number, second: number) => {
    termFirst.push(first);
    termSecond.push(second);
    df.push(0);
    lastDoc.push(-1);
    return df.length - 1;
  };
  for (let d = 0; d < n; d++) {
    let previous = -1;
    const count = (term: number) => {
      docTerms.push(term);
      if (lastDoc.data[term] !== d) {
        lastDoc.data[term] = d;
        df.data[term]!++;
      }
    };
    for (const word of contentWords(texts[d]!)) {
      let id = wordIds.get(word);
      if (id === undefined) {
        id = words.length;
        wordIds.set(word, id);
        words.push(word);
        wordTerm.push(newTerm(id, -1));
      }
      count(wordTerm[id]!);
      if (previous >= 0) {
        let term = bigramTerm.getOrSet(previous, id, df.length);
        if (term < 0) term = newTerm(previous, id);
        count(term);
      }
      previous = id;
    }
    docStart[d + 1] = docTerms.length;
  }
  const termText = (t: number) => (termSecond.data[t]! < 0 ? words[termFirst.data[t]!]! : `${words[termFirst.data[t]!]!} ${words[termSecond.data[t]!]!}`);

  // The vocabulary: within the df bounds; past maxFeatures, the most widespread (ties by text, never by input order).
  let kept: number[] = [];
  for (let t = 0; t < df.length; t++) if (df.data[t]! >= minDf && df.data[t]! <= maxDf) kept.push(t);
  if (kept.length > maxFeatures) {
    kept = kept
      .map((t) => ({ t, df: df.data[t]!, text: termText(t) }))
      .sort((a, b) => b.df - a.df || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
      .slice(0, maxFeatures)
      .map((x) => x.t)
      .sort((a, b) => a - b);
  }
  const featureOf = new Int32Array(df.length).fill(-1);
  kept.forEach((t, f) => (featureOf[t] = f));
  const idf = Float64Array.from(kept, (t) => Math.log((1 + n) / (1 + df.data[t]!)) + 1);

  // Pass 2: each document's features from its remembered term ids, counted in a dense scratch array.
  const rowStart = new Int32Array(n + 1);
  const indices = new IntList();
  const values: number[] = [];
  const countOf = new Int32Array(kept.length);
  const touched = new Int32Array(kept.length);
  for (let d = 0; d < n; d++) {
    let distinct = 0;
    for (let p = docStart[d]!; p < docStart[d + 1]!; p++) {
      const f = featureOf[docTerms.data[p]!]!;
      if (f < 0) continue;
      if (countOf[f] === 0) touched[distinct++] = f;
      countOf[f]!++;
    }
    const row = touched.subarray(0, distinct).sort();
    const from = values.length;
    let norm = 0;
    for (const f of row) {
      const v = (1 + Math.log(countOf[f]!)) * idf[f]!;
      countOf[f] = 0;
      indices.push(f);
      values.push(v);
      norm += v * v;
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;
    for (let k = from; k < values.length; k++) values[k]! *= scale;
    rowStart[d + 1] = indices.length;
  }
  return {
    terms: kept.map(termText),
    matrix: { rows: n, columns: kept.length, rowStart, indices: indices.data.slice(0, indices.length), values: Float32Array.from(values) },
  };
}
