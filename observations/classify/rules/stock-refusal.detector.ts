import type { Transcript } from '../../transcript.schema.ts';
import { confidenceOf, excerpt, type DetectorContext, type Finding } from './finding.ts';
import { maskText } from './markdown-mask.ts';
import { REFUSAL_PATTERNS, type RefusalPattern, type RefusalStrength } from './refusal-patterns.ts';
import { sentences, wordCount, type TextRange } from './text-units.ts';
import { assistantSegments, spanIn, type TextSegment } from './transcript-text.ts';

/**
 * Stock refusal phrasing (REF-FULL, REF-PART): the reply contains a phrase from the documented list in
 * refusal-patterns.ts, outside code and quotations (a reply that quotes "I can't help with that" is not
 * refusing). A provider's own refusal part (OpenAI's `refusal`) is a full refusal by definition.
 *
 * Full or partial: the words outside the sentences that refuse are counted, code lines counting as words.
 * Fewer than SUBSTANTIVE_WORDS (a refusal with an apology, a reason and an offer of alternatives) is a full
 * refusal; at least that many, or a refusal that comes only after SUBSTANTIVE_WORDS words of answer, is a
 * partial refusal: the reply goes on (or had gone on) substantively. A rule cannot tell whether those words are
 * the requested content or a long list of alternatives; the confidence is lower in the grey zone between
 * GREY_FROM and SUBSTANTIVE_WORDS words, and reviewers decide.
 */
export const DETECTOR_ID = 'stock-refusal';

const SUBSTANTIVE_WORDS = 60;
const GREY_FROM = 25;
const BASE_CONFIDENCE: Record<RefusalStrength, number> = { strong: 0.85, moderate: 0.7, weak: 0.45 };
const RANK: Record<RefusalStrength, number> = { strong: 3, moderate: 2, weak: 1 };

interface Match {
  pattern: RefusalPattern;
  start: number;
  end: number;
}

export function detect(transcript: Transcript, _context?: DetectorContext): Finding[] {
  const findings: Finding[] = [];
  for (const segment of assistantSegments(transcript, ['text', 'refusal'])) {
    if (segment.partType === 'refusal') {
      if (segment.text.trim() === '') continue;
      findings.push({
        detector: DETECTOR_ID,
        code: 'refusal_full',
        explanation: `The provider returned a refusal instead of an answer: '${excerpt(segment.text)}'.`,
        confidence: 0.97,
        span: spanIn(segment, 0, segment.text.length),
        messageId: segment.messageId,
        measures: { patterns: 0, otherWords: 0, providerRefusal: 1 },
      });
      continue;
    }
    const finding = refusalIn(segment);
    if (finding) findings.push(finding);
  }
  return findings;
}

/** Every stock refusal phrase in a text, in order of position. */
export function refusalMatches(text: string): Match[] {
  const matches: Match[] = [];
  for (const pattern of REFUSAL_PATTERNS) {
    pattern.pattern.lastIndex = 0;
    for (const m of text.matchAll(pattern.pattern)) matches.push({ pattern, start: m.index, end: m.index + m[0].length });
  }
  return matches.sort((a, b) => a.start - b.start || RANK[b.pattern.strength] - RANK[a.pattern.strength]);
}

function refusalIn(segment: TextSegment): Finding | null {
  const masked = maskText(segment.text, { code: true, quotes: true });
  const matches = refusalMatches(masked);
  if (matches.length === 0) return null;
  const sentenceRanges = sentences(masked);
  const sentenceOf = (offset: number): TextRange => sentenceRanges.find((s) => s.start <= offset && offset < s.end) ?? { start: offset, end: offset };
  const refusing = uniqueRanges(matches.map((m) => sentenceOf(m.start)));
  const strongest = matches.reduce((best, m) => (RANK[m.pattern.strength] > RANK[best.pattern.strength] ? m : best));
  const first = matches[0]!;

  const totalWords = substantiveWords(segment.text, { start: 0, end: segment.text.length });
  const refusingWords = refusing.reduce((n, r) => n + wordCount(segment.text.slice(r.start, r.end)), 0);
  const otherWords = Math.max(0, totalWords - refusingWords);
  const wordsBefore = substantiveWords(segment.text, { start: 0, end: refusing[0]!.start });
  const partial = otherWords >= SUBSTANTIVE_WORDS || wordsBefore >= SUBSTANTIVE_WORDS;

  const distinct = new Set(matches.map((m) => m.pattern.id)).size;
  let confidence = BASE_CONFIDENCE[strongest.pattern.strength] + Math.min(0.1, 0.05 * (distinct - 1));
  if (!partial && otherWords >= GREY_FROM) confidence *= 0.8;
  if (partial) confidence *= otherWords >= 2 * SUBSTANTIVE_WORDS ? 0.85 : 0.75;

  const span = sentenceOf(strongest.start);
  const phrases = [...new Set(matches.map((m) => `'${segment.text.slice(m.start, m.end)}'`))].slice(0, 3).join(', ');
  const explanation = partial
    ? `Stock refusal phrasing (${phrases}; ${strongest.pattern.strength}, ${strongest.pattern.language}) in a reply that goes on with ${otherWords} other words${wordsBefore >= SUBSTANTIVE_WORDS ? ` (${wordsBefore} before the refusal)` : ''}: a partial refusal.`
    : `Stock refusal phrasing (${phrases}; ${strongest.pattern.strength}, ${strongest.pattern.language}) with only ${otherWords} other words in the reply: a full refusal.`;
  return {
    detector: DETECTOR_ID,
    code: partial ? 'refusal_partial' : 'refusal_full',
    explanation,
    confidence: confidenceOf(confidence),
    span: spanIn(segment, span.start, span.end),
    messageId: segment.messageId,
    measures: { patterns: distinct, strongest: strongest.pattern.id, firstAt: first.start, otherWords, wordsBefore, providerRefusal: 0 },
  };
}

function uniqueRanges(ranges: TextRange[]): TextRange[] {
  const seen = new Set<string>();
  return ranges.filter((r) => {
    const key = `${r.start}:${r.end}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Words in a range, where each non-blank line of code counts as five words (code is substance too). */
function substantiveWords(text: string, range: TextRange): number {
  const slice = text.slice(range.start, range.end);
  const prose = maskText(slice, { code: true });
  let codeLines = 0;
  const proseLines = prose.split('\n');
  slice.split('\n').forEach((line, i) => {
    if (line.trim() !== '' && (proseLines[i] ?? '').trim() === '' && !/^\s*(```|~~~)/.test(line)) codeLines++;
  });
  return wordCount(prose) + 5 * codeLines;
}
