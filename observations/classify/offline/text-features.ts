/**
 * Text features for the offline classifier: Unicode-aware, lower-cased word tokens (CJK ideographs and kana one
 * token each, as they are written without spaces), word unigrams and bigrams, and optionally character n-grams
 * within words (padded with spaces, so prefixes and suffixes count: " run", "ing "). Terms of different kinds
 * live in one vocabulary; a bigram joins its words with a space, a character n-gram starts with \u0002, so the
 * kinds cannot collide.
 */

export interface FeatureOptions {
  /** Word bigrams as well as unigrams (default true). */
  bigrams: boolean;
  /** Character n-gram lengths inside words, e.g. [3, 5]; null for none (default null: word features suffice and are faster). */
  charNgrams: [number, number] | null;
  /** Keep at most this many terms, the most frequent by document frequency (default 20,000). */
  maxFeatures: number;
  /** Drop terms found in fewer documents than this (default: 1 below 50 training examples, else 2). */
  minDf: number;
  /** Drop terms found in more than this share of documents (default 1: keep all; idf already weighs them down). */
  maxDfRatio: number;
}

export const DEFAULT_FEATURE_OPTIONS: Omit<FeatureOptions, 'minDf'> = { bigrams: true, charNgrams: null, maxFeatures: 20_000, maxDfRatio: 1 };

const WORD = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*/gu;
/** Lower-cased word tokens of a text (NFKC-normalised, so full-width and compatibility forms match). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(WORD)) out.push(m[0].replace(/’/g, "'"));
  return out;
}

/** Starts every character n-gram term (a control character, so no word can start with it). */
export const CHAR_GRAM_PREFIX = '\u0002';

/** The character n-gram terms of one word (padded with spaces), each prefixed to keep it apart from words. */
export function charGrams(word: string, [min, max]: [number, number], emit: (term: string) => void): void {
  const padded = Array.from(` ${word} `);
  for (let n = min; n <= max; n++) {
    for (let s = 0; s + n <= padded.length; s++) emit(CHAR_GRAM_PREFIX + padded.slice(s, s + n).join(''));
  }
}

/** The bigram term of two words. Words never contain a space, so the first space splits it back. */
export function bigramTerm(a: string, b: string): string {
  return `${a} ${b}`;
}
