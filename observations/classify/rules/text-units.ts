/** Words, tokens and sentences of a text, each with its offsets in the text (UTF-16 code units). */

export interface TextRange {
  start: number;
  end: number;
}

export interface Token extends TextRange {
  text: string;
  /** True for a token containing a letter (a word, or one CJK character), false for digits and punctuation. */
  wordy: boolean;
}

/**
 * CJK ideographs and kana are one token each (they are written without spaces); other letters, marks and digits
 * form words (with inner apostrophes or hyphens); every other visible character is a token on its own.
 */
const TOKEN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{M}\p{N}]+(?:['’\-][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]/gu;
const LETTER = /\p{L}/u;

/** Every token of the text, in order (whitespace is not a token). */
export function tokens(text: string): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(TOKEN)) out.push({ start: m.index, end: m.index + m[0].length, text: m[0], wordy: LETTER.test(m[0]) });
  return out;
}

/** Only the word tokens (those with a letter). */
export function words(text: string): Token[] {
  return tokens(text).filter((t) => t.wordy);
}

/** The number of words in a range (CJK characters count one each). */
export function wordCount(text: string): number {
  let n = 0;
  for (const m of text.matchAll(TOKEN)) if (LETTER.test(m[0])) n++;
  return n;
}

const TERMINATOR = /[.!?…。！？]/;
const CLOSER = /["'”’)\]»」』*_]/;

/**
 * Sentence ranges: a sentence ends after . ! ? … (with any closing quotes or brackets) before whitespace, after
 * 。！？ directly, or at a line break. Ranges are trimmed of surrounding whitespace; blank ones are dropped.
 */
export function sentences(text: string): TextRange[] {
  const out: TextRange[] = [];
  let start = 0;
  const push = (end: number) => {
    let s = start;
    let e = end;
    while (s < e && /\s/.test(text[s]!)) s++;
    while (e > s && /\s/.test(text[e - 1]!)) e--;
    if (e > s) out.push({ start: s, end: e });
    start = end;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      push(i);
      continue;
    }
    if (!TERMINATOR.test(ch)) continue;
    let j = i + 1;
    while (j < text.length && (TERMINATOR.test(text[j]!) || CLOSER.test(text[j]!))) j++;
    const fullWidth = '。！？'.includes(ch);
    if (j >= text.length || /\s/.test(text[j]!) || fullWidth) {
      push(j);
      i = j - 1;
    }
  }
  push(text.length);
  return out;
}
