import { partText, type Transcript } from '../../transcript.schema.ts';

/**
 * Maps a judge's quote back to the exact characters of the transcript, so a proposed coding points at a span
 * the way a person's coding does. Offsets are UTF-16 code units within one part's text (`partText`), as codings
 * and the DOM count them, and `quote` is always the transcript's own text at those offsets.
 */
export interface QuoteSpan {
  messageId: string;
  partIndex: number;
  charStart: number;
  charEnd: number;
  /** Exactly `partText(part).slice(charStart, charEnd)`. */
  quote: string;
}

/**
 * How the quote was found: `exact` (character for character, surrounding whitespace aside), `whitespace`
 * (after collapsing runs of whitespace on both sides: models reflow line breaks and indentation), or `elided`
 * (the quote shortened with "..." or "…": its pieces found in order in one part; the span covers them all).
 */
export type QuoteMatchKind = 'exact' | 'whitespace' | 'elided';

export interface QuoteMatch extends QuoteSpan {
  match: QuoteMatchKind;
}

interface Candidate {
  messageId: string;
  partIndex: number;
  text: string;
}

/** Quotable parts, those of the message the judge named first, then the rest in transcript order (judges misname ids). */
function candidates(transcript: Transcript, preferredMessageId: string | undefined): Candidate[] {
  const all: Candidate[] = [];
  for (const message of transcript.messages) {
    message.parts.forEach((part, partIndex) => {
      const text = partText(part);
      if (text) all.push({ messageId: message.id, partIndex, text });
    });
  }
  if (!preferredMessageId) return all;
  return [...all.filter((c) => c.messageId === preferredMessageId), ...all.filter((c) => c.messageId !== preferredMessageId)];
}

function spanOf(candidate: Candidate, charStart: number, charEnd: number, match: QuoteMatchKind): QuoteMatch {
  return { messageId: candidate.messageId, partIndex: candidate.partIndex, charStart, charEnd, quote: candidate.text.slice(charStart, charEnd), match };
}

/** Text with each whitespace run collapsed to one space, and for every kept character its offset in the original. */
function collapseWhitespace(text: string): { collapsed: string; origin: number[] } {
  let collapsed = '';
  const origin: number[] = [];
  let inSpace = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      if (!inSpace) {
        collapsed += ' ';
        origin.push(i);
      }
      inSpace = true;
    } else {
      collapsed += ch;
      origin.push(i);
      inSpace = false;
    }
  }
  return { collapsed, origin };
}

const normalise = (quote: string) => quote.replace(/\s+/g, ' ').trim();

/**
 * Finds `needle` (already whitespace-collapsed and trimmed) in `text` from `from` (an offset in the original),
 * returning original offsets. The needle starts and ends with a non-space, so both ends map to real characters.
 */
function findCollapsed(text: string, needle: string, from = 0): [number, number] | null {
  if (!needle) return null;
  const { collapsed, origin } = collapseWhitespace(text);
  let startIndex = origin.findIndex((offset) => offset >= from);
  if (startIndex < 0) return null;
  const at = collapsed.indexOf(needle, startIndex);
  if (at < 0) return null;
  startIndex = origin[at]!;
  return [startIndex, origin[at + needle.length - 1]! + 1];
}

const ELLIPSIS = /\s*(?:\.\.\.|…)\s*/;

/** Where the last of `pieces` ends when each is found after the previous one, from `from`; null if one is missing. */
function followingPieces(text: string, pieces: readonly string[], from: number): number | null {
  let end = from;
  for (const piece of pieces) {
    const next = findCollapsed(text, piece, end);
    if (!next) return null;
    end = next[1];
  }
  return end;
}

/**
 * Locates a quote in the transcript: exact first, then with whitespace collapsed, then (for a quote shortened
 * with an ellipsis) piece by piece; a quote wrapped in quotation marks is tried again without them. The message
 * the judge named is searched first; a quote found elsewhere is still mapped to where it really is. The first
 * occurrence wins. Returns null when the text is not there.
 */
export function mapQuote(transcript: Transcript, quote: string, preferredMessageId?: string): QuoteMatch | null {
  const trimmed = quote.trim();
  if (!trimmed) return null;
  const parts = candidates(transcript, preferredMessageId);

  for (const c of parts) {
    const at = c.text.indexOf(trimmed);
    if (at >= 0) return spanOf(c, at, at + trimmed.length, 'exact');
  }

  const needle = normalise(trimmed);
  for (const c of parts) {
    const found = findCollapsed(c.text, needle);
    if (found) return spanOf(c, found[0], found[1], 'whitespace');
  }

  const elided = ELLIPSIS.test(trimmed) ? findElided(parts, trimmed) : null;
  if (elided) return elided;

  // Models add quotation marks around a quote despite being told not to; the text inside is what they meant.
  const inner = /^(["“'‘])([\s\S]+)(["”'’])$/.exec(trimmed);
  return inner ? mapQuote(transcript, inner[2]!, preferredMessageId) : null;
}

/** Pieces shorter than this in all would match almost anywhere: they are not evidence of a place. */
const MIN_ELIDED_CHARS = 10;

function findElided(parts: readonly Candidate[], trimmed: string): QuoteMatch | null {
  const pieces = trimmed.split(ELLIPSIS).map(normalise).filter(Boolean);
  if (pieces.join('').length < MIN_ELIDED_CHARS) return null;
  for (const c of parts) {
    // Each occurrence of the first piece may start the match: the later pieces may only follow a later one.
    for (let first = findCollapsed(c.text, pieces[0]!); first; first = findCollapsed(c.text, pieces[0]!, first[0] + 1)) {
      const end = followingPieces(c.text, pieces.slice(1), first[1]);
      if (end !== null) return spanOf(c, first[0], end, 'elided');
    }
  }
  return null;
}
