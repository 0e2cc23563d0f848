/**
 * A short excerpt of an observation around the first place one of its cluster's top terms occurs, so the
 * researcher sees the words that brought it into the cluster in context. Plain text in three pieces (before,
 * the matched words, after): the page escapes them and marks the middle one.
 */
export interface Excerpt {
  before: string;
  match: string;
  after: string;
  /** The whole excerpt as one string (with ellipses), e.g. for a positive example. */
  text: string;
}

/** Characters shown around the match (the excerpt is about this long). */
export const EXCERPT_WIDTH = 240;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const WORD_CHAR = '[\\p{L}\\p{M}\\p{N}]';

/**
 * A pattern for a term as it may be written: a bigram's words may have stop words or punctuation between them
 * (they were dropped before bigrams were formed), so up to three short words may stand between the two.
 */
function termPattern(term: string): RegExp {
  const words = term.split(' ').map(escapeRegExp);
  const gap = `(?:${WORD_CHAR}|['’])*[^\\p{L}\\p{M}\\p{N}]+(?:(?:${WORD_CHAR}|['’])+[^\\p{L}\\p{M}\\p{N}]+){0,3}?`;
  return new RegExp(`(?<!${WORD_CHAR})${words.join(gap)}(?!${WORD_CHAR})`, 'iu');
}

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * The excerpt around the best term found: terms are tried in order (best first), and for each term the fields
 * in order (put the model's words first), so the excerpt shows the most distinguishing term that occurs.
 * Without any match, the start of the first non-empty field.
 */
export function excerptAround(fields: readonly string[], terms: readonly string[], width = EXCERPT_WIDTH): Excerpt {
  const texts = fields.map(collapse);
  for (const term of terms) {
    const pattern = termPattern(term);
    for (const text of texts) {
      const found = pattern.exec(text);
      if (found) return cut(text, found.index, found.index + found[0].length, width);
    }
  }
  const first = texts.find((t) => t.length > 0) ?? '';
  return cut(first, 0, 0, width);
}

function cut(text: string, matchStart: number, matchEnd: number, width: number): Excerpt {
  const room = Math.max(0, width - (matchEnd - matchStart));
  let start = Math.max(0, matchStart - Math.floor(room / 2));
  let end = Math.min(text.length, matchEnd + (room - (matchStart - start)));
  start = Math.max(0, Math.min(start, end - width));
  // Snap to word boundaries so the excerpt neither starts nor ends mid-word.
  if (start > 0) {
    const space = text.indexOf(' ', start);
    if (space >= 0 && space < matchStart) start = space + 1;
  }
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end);
    if (space > matchEnd) end = space;
  }
  const lead = start > 0 ? '… ' : '';
  const tail = end < text.length ? ' …' : '';
  const before = lead + text.slice(start, matchStart);
  const match = text.slice(matchStart, matchEnd);
  const after = text.slice(matchEnd, end) + tail;
  return { before, match, after, text: before + match + after };
}
