import { PairTable } from './pair-table.ts';
import { bigramTerm, CHAR_GRAM_PREFIX, charGrams, tokenize, type FeatureOptions } from './text-features.ts';

/**
 * TF-IDF vectors: sublinear term frequency (1 + ln count), smoothed inverse document frequency
 * (ln((1 + n) / (1 + df)) + 1, as scikit-learn computes it), and L2 normalisation, so long and short texts
 * weigh alike. The vocabulary and idf come from the training texts only.
 *
 * Words are interned to ids and bigrams looked up by id pairs (pair-table.ts), so no string is built per bigram
 * occurrence; a bigram's text is only made for the terms that make it into the vocabulary.
 */

/** A sparse vector: sorted feature indexes and their values. */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

/** Rows of sparse vectors in compressed sparse row form, for fast passes over a training set. */
export interface SparseMatrix {
  rows: number;
  columns: number;
  rowStart: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export interface Vocabulary {
  /** Feature i's term: a word, two words joined by a space, or a prefixed character n-gram. Sorted. */
  terms: string[];
  idf: Float32Array;
  lookup: TermLookup;
}

/** Finds a text's features quickly: word ids, then unigram and bigram features by id, n-grams by text. */
export interface TermLookup {
  wordId: Map<string, number>;
  unigramFeature: Int32Array;
  bigramFeature: PairTable;
  charFeature: Map<string, number>;
}

type TermOptions = Pick<FeatureOptions, 'bigrams' | 'charNgrams'>;

/** Builds the lookup structures for a list of terms (after training, or when a model is loaded). */
export function termLookup(terms: readonly string[]): TermLookup {
  const wordId = new Map<string, number>();
  const idOf = (w: string) => {
    let id = wordId.get(w);
    if (id === undefined) wordId.set(w, (id = wordId.size));
    return id;
  };
  const unigrams: Array<[number, number]> = [];
  const bigramFeature = new PairTable(terms.length);
  const charFeature = new Map<string, number>();
  terms.forEach((term, f) => {
    if (term.startsWith(CHAR_GRAM_PREFIX)) charFeature.set(term, f);
    else {
      const space = term.indexOf(' ');
      if (space < 0) unigrams.push([idOf(term), f]);
      else bigramFeature.set(idOf(term.slice(0, space)), idOf(term.slice(space + 1)), f);
    }
  });
  const unigramFeature = new Int32Array(wordId.size).fill(-1);
  for (const [id, f] of unigrams) unigramFeature[id] = f;
  return { wordId, unigramFeature, bigramFeature, charFeature };
}

/** Calls `emit` with the feature of every term occurrence of a text that is in the vocabulary. */
function forEachFeature(text: string, lookup: TermLookup, options: TermOptions, emit: (feature: number) => void): void {
  const words = tokenize(text);
  let previous = -1;
  for (const w of words) {
    const id = lookup.wordId.get(w) ?? -1;
    if (id >= 0) {
      const f = lookup.unigramFeature[id]!;
      if (f >= 0) emit(f);
      if (options.bigrams && previous >= 0) {
        const b = lookup.bigramFeature.get(previous, id);
        if (b >= 0) emit(b);
      }
    }
    previous = id;
    if (options.charNgrams) {
      charGrams(w, options.charNgrams, (term) => {
        const f = lookup.charFeature.get(term);
        if (f !== undefined) emit(f);
      });
    }
  }
}

/** A growable Int32Array (typed storage: the term tables hold millions of entries for 10,000 long texts). */
class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
}

/** Picks the vocabulary and idf from training texts, and returns their TF-IDF matrix in the same pass. */
export function fitTfidf(texts: readonly string[], options: FeatureOptions): { vocabulary: Vocabulary; matrix: SparseMatrix } {
  // Pass 1: intern every term (words by text, bigrams by word-id pair, n-grams by text), remember each
  // document's term ids (all documents' in one list), and count document frequencies.
  const wordId = new Map<string, number>();
  const words: string[] = [];
  const bigramIds = new PairTable(1 << 16);
  const charIds = new Map<string, number>();
  /** Per term: the word id (unigram), -2 - index into `charTerms` (n-gram), or the first word of a bigram. */
  const termFirst = new IntList(1 << 16);
  /** Per term: -1, or the second word of a bigram. */
  const termSecond = new IntList(1 << 16);
  const charTerms: string[] = [];
  const df = new IntList(1 << 16);
  const lastDoc = new IntList(1 << 16);
  const docTerms = new IntList(1 << 20);
  const docStart = new Int32Array(texts.length + 1);
  const newTerm = (first: number, second: number) => {
    termFirst.push(first);
    termSecond.push(second);
    df.push(0);
    lastDoc.push(-1);
    return termFirst.length - 1;
  };
  // Unigram term ids are found through the word id: wordTerm[wordId].
  const wordTerm: number[] = [];
  for (let d = 0; d < texts.length; d++) {
    let previous = -1;
    const count = (id: number) => {
      docTerms.push(id);
      if (lastDoc.data[id] !== d) {
        lastDoc.data[id] = d;
        df.data[id]!++;
      }
    };
    for (const w of tokenize(texts[d]!)) {
      let wid = wordId.get(w);
      if (wid === undefined) {
        wid = words.length;
        wordId.set(w, wid);
        words.push(w);
        wordTerm.push(newTerm(wid, -1));
      }
      count(wordTerm[wid]!);
      if (options.bigrams && previous >= 0) {
        let b = bigramIds.getOrSet(previous, wid, termFirst.length);
        if (b < 0) b = newTerm(previous, wid);
        count(b);
      }
      previous = wid;
      if (options.charNgrams) {
        charGrams(w, options.charNgrams, (term) => {
          let c = charIds.get(term);
          if (c === undefined) {
            c = newTerm(-2 - charTerms.length, -1);
            charTerms.push(term);
            charIds.set(term, c);
          }
          count(c);
        });
      }
    }
    docStart[d + 1] = docTerms.length;
  }
  const termText = (id: number) => {
    const first = termFirst.data[id]!;
    if (first <= -2) return charTerms[-2 - first]!;
    const second = termSecond.data[id]!;
    return second < 0 ? words[first]! : bigramTerm(words[first]!, words[second]!);
  };

  const n = texts.length;
  const kept = chooseTerms(df.data.subarray(0, df.length), n, options, termText);
  const termCount = df.length;
  const featureOf = new Int32Array(termCount).fill(-1);
  kept.forEach((t, f) => (featureOf[t.id] = f));
  const terms = kept.map((t) => t.text);
  const idf = Float32Array.from(kept, (t) => Math.log((1 + n) / (1 + df.data[t.id]!)) + 1);
  const vocabulary: Vocabulary = { terms, idf, lookup: termLookup(terms) };

  // Pass 2: each document's features from its remembered term ids, counted in a dense scratch array.
  const rowStart = new Int32Array(n + 1);
  const indices = new IntList(1 << 20);
  const valueList: number[] = [];
  const countOf = new Int32Array(terms.length);
  const touched = new Int32Array(terms.length);
  for (let d = 0; d < n; d++) {
    let distinct = 0;
    for (let p = docStart[d]!; p < docStart[d + 1]!; p++) {
      const f = featureOf[docTerms.data[p]!]!;
      if (f < 0) continue;
      if (countOf[f] === 0) touched[distinct++] = f;
      countOf[f]!++;
    }
    const row = touched.subarray(0, distinct).sort();
    let norm = 0;
    const from = valueList.length;
    for (let k = 0; k < distinct; k++) {
      const f = row[k]!;
      const v = (1 + Math.log(countOf[f]!)) * idf[f]!;
      countOf[f] = 0;
      indices.push(f);
      valueList.push(v);
      norm += v * v;
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;
    for (let k = from; k < valueList.length; k++) valueList[k]! *= scale;
    rowStart[d + 1] = indices.length;
  }
  const values = Float32Array.from(valueList);
  return { vocabulary, matrix: { rows: n, columns: terms.length, rowStart, indices: indices.data.slice(0, indices.length), values } };
}

/**
 * The vocabulary: terms within the document-frequency bounds, most frequent first (ties by term, so the choice
 * never depends on input order), at most maxFeatures; then sorted by term for a stable layout. Selected by
 * counting document frequencies rather than sorting every candidate: only the terms tied at the cut-off need
 * their text to break the tie.
 */
function chooseTerms(df: Int32Array, n: number, options: FeatureOptions, termText: (id: number) => string): Array<{ id: number; text: string }> {
  const maxDf = Math.floor(options.maxDfRatio * n);
  const atDf = new Int32Array(n + 2);
  for (let id = 0; id < df.length; id++) if (df[id]! >= options.minDf && df[id]! <= maxDf) atDf[df[id]!]!++;
  // The lowest document frequency still (at least partly) kept.
  let cut = n + 1;
  let above = 0;
  while (cut > 0 && above + atDf[cut - 1]! <= options.maxFeatures && cut - 1 >= options.minDf) above += atDf[--cut]!;
  const kept: Array<{ id: number; text: string }> = [];
  const tied: Array<{ id: number; text: string }> = [];
  const tieDf = cut - 1;
  for (let id = 0; id < df.length; id++) {
    const f = df[id]!;
    if (f < options.minDf || f > maxDf) continue;
    if (f >= cut) kept.push({ id, text: termText(id) });
    else if (f === tieDf && above < options.maxFeatures) tied.push({ id, text: termText(id) });
  }
  const byText = (a: { text: string }, b: { text: string }) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
  if (tied.length > 0) kept.push(...tied.sort(byText).slice(0, options.maxFeatures - above));
  return kept.sort(byText);
}

/** The TF-IDF vector of a new text under a fitted vocabulary (terms outside it are ignored). */
export function vectorize(text: string, vocabulary: Vocabulary, options: TermOptions): SparseVector {
  const counts = new Map<number, number>();
  forEachFeature(text, vocabulary.lookup, options, (f) => counts.set(f, (counts.get(f) ?? 0) + 1));
  return weigh(counts, vocabulary.idf);
}

/** Sublinear tf times idf, L2-normalised in float64 and rounded to float32 once (as training rows are). */
function weigh(counts: Map<number, number>, idf: Float32Array): SparseVector {
  const indices = Int32Array.from(counts.keys()).sort();
  const raw = new Float64Array(indices.length);
  let norm = 0;
  for (let i = 0; i < indices.length; i++) {
    const v = (1 + Math.log(counts.get(indices[i]!)!)) * idf[indices[i]!]!;
    raw[i] = v;
    norm += v * v;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;
  const values = new Float32Array(indices.length);
  for (let i = 0; i < raw.length; i++) values[i] = raw[i]! * scale;
  return { indices, values };
}
