/**
 * MinHash fingerprints of transcript text, for near-duplicate detection (issue 5): two transcripts whose sets of
 * word 3-shingles overlap a lot (Jaccard similarity) get signatures that agree in about that share of positions,
 * and locality-sensitive banding turns "similar" into "shares at least one band hash", which a GIN index on an
 * int[] column finds without comparing every pair (Broder 1997; Leskovec, Rajaraman and Ullman, Mining of
 * Massive Datasets, ch. 3).
 *
 * - Text is NFKC-normalised and lower-cased; words are runs of letters, marks and digits (each CJK ideograph or
 *   kana is a word), so punctuation, Markdown and whitespace changes do not matter.
 * - Shingles are 3 consecutive words (texts of fewer than 3 words use what they have). Each word is hashed once
 *   (FNV-1a over its UTF-16 code units) and a shingle's hash chains its words' through a murmur3 finaliser.
 * - One permutation hashing (Li, Owen and Zhang, NIPS 2012): the hash's top 6 bits pick one of 64 positions, and
 *   each position keeps the minimum of a second hash over the shingles that fell in it. Empty positions (short
 *   texts) borrow a filled one's value, chosen by a fixed sequence per position (Shrivastava, "Optimal
 *   densification for fast and accurate minwise hashing", ICML 2017), so two texts still agree in a position with
 *   probability about their Jaccard similarity. One hash per shingle instead of 64: fingerprinting an 11 KB
 *   transcript went from about 450 to about 75 microseconds, which the ingestion path and the indexer's
 *   catch-up feel.
 * - 16 bands of 4 positions: the chance two texts share a band is 1 - (1 - s^4)^16 for Jaccard s: 0.05 at
 *   s = 0.2, 0.64 at 0.5, 0.98 at 0.7, 1.00 at 0.8. Candidates are then ranked by the signature estimate.
 * - An empty text (no words) has no fingerprint (null): it is similar to nothing.
 *
 * The scheme is fixed: stored fingerprints are compared with new ones. Changing it means re-fingerprinting every
 * observation (a migration that clears `minhash`, as 0012 did; the search indexer then redoes them).
 */

export const SIGNATURE_SIZE = 64;
export const BANDS = 16;
export const ROWS_PER_BAND = SIGNATURE_SIZE / BANDS;
export const SHINGLE_WORDS = 3;

export interface Fingerprint {
  /** 64 signed 32-bit integers (PostgreSQL `integer[]`). */
  signature: number[];
  /** 16 signed 32-bit band hashes, each mixing the band's number with its 4 positions. */
  bands: number[];
}

const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** The words of a text as fingerprinting sees them. */
export function fingerprintWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    const word = match[0];
    if (!CJK.test(word)) {
      words.push(word);
      continue;
    }
    // Split runs containing CJK into single ideographs/kana, keeping other letters together.
    let run = '';
    for (const ch of word) {
      if (CJK.test(ch)) {
        if (run) words.push(run);
        run = '';
        words.push(ch);
      } else run += ch;
    }
    if (run) words.push(run);
  }
  return words;
}

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Mixed into a shingle's hash to give the value a position keeps the minimum of (the top bits chose the position). */
const VALUE_SEED = 0x5bd1e995;
const POSITION_BITS = 32 - Math.log2(SIGNATURE_SIZE);

/** The i-th position an empty position `empty` looks at for a value to borrow: a fixed sequence, the same for every text. */
function borrowFrom(empty: number, attempt: number): number {
  return fmix32(Math.imul(empty + 1, 0x9e3779b9) ^ Math.imul(attempt, 0x85ebca6b)) >>> POSITION_BITS;
}

const FNV_OFFSET = 0x811c9dc5;
const SHINGLE_SEED = 0x1b873593;

/** FNV-1a over a word's UTF-16 code units. */
function hashWord(word: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  return h;
}

/** Receives a text's word hashes in order. */
interface WordSink {
  addWord(word: number): void;
}

/**
 * Hashes the words of `texts` joined by newlines and cut to their first `cap` characters, in place: lower-casing
 * and hashing each ASCII word as it goes, without making the words' strings (or the joined text). Returns false,
 * part way, at the first character outside ASCII: such text needs the general path (NFKC, Unicode words, CJK).
 */
function scanAsciiWords(texts: readonly string[], cap: number, sink: WordSink): boolean {
  let remaining = cap;
  let h = FNV_OFFSET;
  let inWord = false;
  for (let t = 0; t < texts.length && remaining > 0; t++) {
    const text = texts[t]!;
    if (t > 0) remaining--; // the newline between texts: not a word character, so it ends a word
    if (inWord) {
      sink.addWord(h);
      h = FNV_OFFSET;
      inWord = false;
    }
    const end = Math.min(text.length, remaining);
    remaining -= end;
    for (let i = 0; i < end; i++) {
      let c = text.charCodeAt(i);
      if (c > 0x7f) return false;
      if (c >= 65 && c <= 90) c += 32; // A-Z -> a-z
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
        h = Math.imul(h ^ c, 0x01000193);
        inWord = true;
      } else if (inWord) {
        sink.addWord(h);
        h = FNV_OFFSET;
        inWord = false;
      }
    }
  }
  if (inWord) sink.addWord(h);
  return true;
}

/** The hashes of a text's words, in order: hashWord of each of fingerprintWords(text). */
export function wordHashesOf(text: string): Int32Array {
  const words: number[] = [];
  const ascii = scanAsciiWords([text], Infinity, { addWord: (word) => words.push(word) });
  return ascii ? Int32Array.from(words) : Int32Array.from(fingerprintWords(text), hashWord);
}

/** One step of a shingle's hash: chained through the finaliser word by word, so ("ab","c") and ("a","bc") differ. */
function chainWords(h: number, word: number): number {
  return fmix32(Math.imul(h ^ word, 0x01000193));
}

/** The hashes of the shingles of SHINGLE_WORDS consecutive words (of all the words, when there are fewer). */
function shingleHashes(wordHashes: Int32Array): Int32Array {
  const count = Math.min(SHINGLE_WORDS, wordHashes.length);
  const out = new Int32Array(wordHashes.length - count + 1);
  for (let start = 0; start < out.length; start++) {
    let h = SHINGLE_SEED;
    for (let w = start; w < start + count; w++) h = chainWords(h, wordHashes[w]!);
    out[start] = h;
  }
  return out;
}

/**
 * Folds shingles into the 64 positions as words arrive, so a text is fingerprinted in one pass without keeping its
 * words or shingles: each window of SHINGLE_WORDS consecutive word hashes is one shingle (a text of fewer words is
 * one shingle of all of them). A repeated shingle lands on the same position with the same value, so the minimum
 * needs no set of them.
 */
class SignatureBuilder {
  private readonly mins = new Int32Array(SIGNATURE_SIZE);
  private readonly filled = new Uint8Array(SIGNATURE_SIZE);
  private words = 0;
  private previous2 = 0;
  private previous1 = 0;
  /** chainWords(SHINGLE_SEED, previous1), kept so each word starts a shingle's chain once, not once per shingle. */
  private seeded1 = 0;
  /** chainWords(SHINGLE_SEED, previous2). */
  private seeded2 = 0;

  addWord(word: number): void {
    this.words++;
    if (this.words >= SHINGLE_WORDS) this.addShingle(chainWords(chainWords(this.seeded2, this.previous1), word));
    this.previous2 = this.previous1;
    this.seeded2 = this.seeded1;
    this.previous1 = word;
    this.seeded1 = chainWords(SHINGLE_SEED, word);
  }

  /** The fingerprint of the words added, or null when there were none. */
  finish(): Fingerprint | null {
    if (this.words === 0) return null;
    if (this.words < SHINGLE_WORDS) {
      // Fewer words than a shingle: one shingle of them all (previous1 is the last word, previous2 the one before).
      let h = SHINGLE_SEED;
      if (this.words === 2) h = chainWords(h, this.previous2);
      this.addShingle(chainWords(h, this.previous1));
    }
    const { mins, filled } = this;
    for (let i = 0; i < SIGNATURE_SIZE; i++) {
      if (filled[i] === 1) continue;
      // At least one position is filled; the sequence reaches one quickly (a 1/64 chance per look at worst).
      for (let attempt = 1; ; attempt++) {
        const j = attempt <= 4096 ? borrowFrom(i, attempt) : (i + attempt) % SIGNATURE_SIZE;
        if (filled[j] === 1) {
          mins[i] = mins[j]!;
          break;
        }
      }
    }
    const signature = Array.from(mins);
    return { signature, bands: bandsOf(signature) };
  }

  private addShingle(h: number): void {
    const position = h >>> POSITION_BITS;
    const v = fmix32(h ^ VALUE_SEED);
    if (this.filled[position] === 0 || v < this.mins[position]!) {
      this.mins[position] = v;
      this.filled[position] = 1;
    }
  }
}

/** The fingerprint of a text, or null when it has no words. */
export function fingerprint(text: string): Fingerprint | null {
  return fingerprintJoined([text], Infinity);
}

/**
 * The fingerprint of `texts` joined by newlines and cut to their first `cap` characters: the same as
 * fingerprint(texts.join('\n').slice(0, cap)), without making that string when it is ASCII (most transcripts).
 */
export function fingerprintJoined(texts: readonly string[], cap: number): Fingerprint | null {
  const builder = new SignatureBuilder();
  if (!scanAsciiWords(texts, cap, builder)) return fingerprintGeneral(texts.join('\n').slice(0, cap));
  return builder.finish();
}

/** The fingerprint of any text: Unicode words as fingerprintWords finds them. */
function fingerprintGeneral(text: string): Fingerprint | null {
  const builder = new SignatureBuilder();
  for (const word of fingerprintWords(text)) builder.addWord(hashWord(word));
  return builder.finish();
}

/** The band hashes of a signature. */
export function bandsOf(signature: readonly number[]): number[] {
  const bands: number[] = [];
  for (let b = 0; b < BANDS; b++) {
    let h = fmix32(b + 1);
    for (let r = 0; r < ROWS_PER_BAND; r++) h = fmix32(Math.imul(h ^ signature[b * ROWS_PER_BAND + r]!, 0x27d4eb2d));
    bands.push(h);
  }
  return bands;
}

/** The estimated Jaccard similarity of two signatures: the share of positions where they agree. */
export function estimateSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** The exact Jaccard similarity of two texts' shingle sets (for tests and for checking estimates). */
export function exactSimilarity(a: string, b: string): number {
  const set = (text: string) => {
    const words = wordHashesOf(text);
    return words.length === 0 ? new Set<number>() : new Set(shingleHashes(words));
  };
  const sa = set(a);
  const sb = set(b);
  if (sa.size === 0 && sb.size === 0) return 0;
  let common = 0;
  for (const h of sa) if (sb.has(h)) common++;
  return common / (sa.size + sb.size - common);
}
