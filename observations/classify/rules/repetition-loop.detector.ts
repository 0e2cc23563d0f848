import type { Transcript } from '../../transcript.schema.ts';
import { confidenceOf, excerpt, percent, type Finding } from './finding.ts';
import { maskText } from './markdown-mask.ts';
import { tokens, type Token } from './text-units.ts';
import { assistantSegments, spanIn, type TextSegment } from './transcript-text.ts';

/**
 * Repetition loops and degenerate output: the same run of tokens (a word, a phrase, a sentence, a paragraph)
 * recurring at least three times in a row with nothing in between, as DEG-LOOP defines it; and a character
 * pattern looping inside one word ("hahahahahahaha", "aaaaaaaaaaaaaaaa").
 *
 * How: the reply is tokenised (words, single CJK characters, single punctuation marks; compared lower-cased).
 * For every period p up to MAX_PERIOD tokens, a region where token[i] = token[i - p] throughout is periodic:
 * its length over p is the number of repeats (a cut-off last repeat counts towards coverage, not the count).
 * The longest regions win; the smallest period names them. A loop that reaches the end of the reply is the
 * classic degenerate tail; its repeated-suffix coverage (the share of the reply's characters in the loop) is
 * reported and raises the confidence.
 *
 * Not read: closed code blocks and Markdown table rows (code and tables repeat legitimately). An unclosed code
 * block is read, as a generation cut off while looping often leaves one open. Repeats separated by a changing
 * part (numbering, one changed word) are not loops here; that near-identical case is left to reviewers.
 */
export const DETECTOR_ID = 'repetition-loop';

const MAX_PERIOD = 256;
const MIN_REPEATS = 3;
const MAX_FINDINGS_PER_PART = 3;
const MIN_CHAR_LOOP = 12;
const MIN_CHAR_REPEATS = 6;

interface Loop {
  first: number;
  last: number;
  period: number;
  repeats: number;
}

export function detect(transcript: Transcript): Finding[] {
  const findings: Finding[] = [];
  for (const segment of assistantSegments(transcript, ['text', 'reasoning'])) {
    const masked = maskText(segment.text, { code: true, closedFencesOnly: true, tables: true });
    const toks = tokens(masked);
    findings.push(...tokenLoops(segment, masked, toks), ...characterLoops(segment, toks));
  }
  return findings;
}

/** Maximal periodic token regions with at least MIN_REPEATS whole repeats of a unit containing a word. */
function periodicRegions(toks: Token[], text: string): Loop[] {
  const ids = internIds(toks);
  const n = ids.length;
  const found: Loop[] = [];
  const maxPeriod = Math.min(MAX_PERIOD, Math.floor(n / MIN_REPEATS));
  for (let p = 1; p <= maxPeriod; p++) {
    let runStart = -1;
    for (let i = p; i <= n; i++) {
      if (i < n && ids[i] === ids[i - p]) {
        if (runStart < 0) runStart = i;
        continue;
      }
      if (runStart >= 0) {
        const first = runStart - p;
        const repeats = Math.floor((i - first) / p);
        if (repeats >= MIN_REPEATS && toks.slice(first, first + p).some((t) => t.wordy)) found.push({ first, last: i - 1, period: p, repeats });
        runStart = -1;
      }
    }
  }
  // Longest first; for the same region the smallest period (p, 2p, 3p... all describe it).
  found.sort((a, b) => b.last - b.first - (a.last - a.first) || a.period - b.period || a.first - b.first);
  const chosen: Loop[] = [];
  for (const loop of found) {
    if (chosen.some((c) => loop.first <= c.last && c.first <= loop.last)) continue;
    chosen.push(loop);
  }
  return chosen.map((loop) => inPhase(loop, toks, text));
}

/**
 * A periodic region can start mid-unit (the full stop before "The light..." matches the one ending each
 * repeat). Shift its start, within one period, to where a repeat most plausibly begins: after a line break,
 * else after a sentence end, so the unit reads as written.
 */
function inPhase(loop: Loop, toks: Token[], text: string): Loop {
  const startScore = (i: number) => {
    if (i === 0) return 3;
    const between = text.slice(toks[i - 1]!.end, toks[i]!.start);
    return (between.includes('\n') ? 2 : 0) + (/^[.!?…。！？:;]$/.test(toks[i - 1]!.text) ? 1 : 0);
  };
  let best = 0;
  let bestScore = startScore(loop.first);
  for (let s = 1; s < loop.period; s++) {
    const score = startScore(loop.first + s);
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  if (best === 0) return loop;
  const first = loop.first + best;
  const repeats = Math.floor((loop.last - first + 1) / loop.period);
  return repeats >= MIN_REPEATS ? { ...loop, first, repeats } : loop;
}

function internIds(toks: Token[]): Int32Array {
  const table = new Map<string, number>();
  const ids = new Int32Array(toks.length);
  toks.forEach((t, i) => {
    const key = t.text.toLowerCase();
    let id = table.get(key);
    if (id === undefined) table.set(key, (id = table.size));
    ids[i] = id;
  });
  return ids;
}

function tokenLoops(segment: TextSegment, masked: string, toks: Token[]): Finding[] {
  if (toks.length < MIN_REPEATS) return [];
  const contentStart = toks[0]!.start;
  const contentLength = masked.trimEnd().length - contentStart;
  const lastToken = toks.length - 1;
  const ids = toks.map((t) => t.text.toLowerCase());
  return periodicRegions(toks, masked)
    .slice(0, MAX_FINDINGS_PER_PART)
    .map((loop) => {
      const start = toks[loop.first]!.start;
      const unit = segment.text.slice(start, toks[loop.first + loop.period - 1]!.end);
      // A generation cut off inside a word leaves a last token that only starts the expected one ("hap").
      const cutOffWord = loop.last === lastToken - 1 && ids[loop.last + 1 - loop.period]!.startsWith(ids[lastToken]!);
      const atEnd = loop.last === lastToken || cutOffWord;
      const end = toks[cutOffWord ? lastToken : loop.last]!.end;
      const coverage = contentLength > 0 ? (end - start) / contentLength : 0;
      // 3 repeats: 0.40, 4: 0.58, 5: 0.71, 6: 0.79, 8: 0.90, 10: 0.95; a loop running to the end of the reply
      // gains up to half of the remaining doubt in proportion to its coverage (full at 50% coverage).
      const fromRepeats = 1 - 0.6 * 0.7 ** (loop.repeats - MIN_REPEATS);
      const confidence = atEnd ? fromRepeats + (1 - fromRepeats) * 0.5 * Math.min(1, coverage * 2) : fromRepeats;
      const unitName = loop.period === 1 ? 'token' : `${loop.period}-token phrase`;
      const where = atEnd
        ? `, up to the end of the reply (the repeated suffix covers ${percent(coverage)} of it)`
        : ` (characters ${start}–${end}, ${percent(coverage)} of the reply)`;
      return {
        detector: DETECTOR_ID,
        code: 'repetition_loop',
        explanation: `The ${unitName} '${excerpt(unit)}' repeats ${loop.repeats} times in a row${where}.`,
        confidence: confidenceOf(confidence),
        span: spanIn(segment, start, end),
        messageId: segment.messageId,
        measures: { unitTokens: loop.period, repeats: loop.repeats, coverage: Math.round(coverage * 1000) / 1000, atEnd: atEnd ? 1 : 0 },
      } satisfies Finding;
    });
}

/** A word that is one short pattern over and over ("hahahahahahaha"): the longest periodic stretch inside it. */
function characterLoops(segment: TextSegment, toks: Token[]): Finding[] {
  const out: Finding[] = [];
  for (const t of toks) {
    if (!t.wordy || t.text.length < MIN_CHAR_LOOP) continue;
    const chars = Array.from(t.text.toLowerCase());
    let best: { from: number; to: number; period: number } | null = null;
    for (let q = 1; q <= 6; q++) {
      let runStart = -1;
      for (let i = q; i <= chars.length; i++) {
        if (i < chars.length && chars[i] === chars[i - q]) {
          if (runStart < 0) runStart = i;
          continue;
        }
        if (runStart >= 0) {
          const from = runStart - q;
          if (!best || i - from > best.to - best.from) best = { from, to: i, period: q };
          runStart = -1;
        }
      }
    }
    if (!best) continue;
    const length = best.to - best.from;
    const repeats = Math.floor(length / best.period);
    if (length < MIN_CHAR_LOOP || repeats < MIN_CHAR_REPEATS) continue;
    // Code points back to UTF-16 offsets within the token.
    const startOffset = t.start + chars.slice(0, best.from).join('').length;
    const endOffset = startOffset + chars.slice(best.from, best.to).join('').length;
    const unit = chars.slice(best.from, best.from + best.period).join('');
    out.push({
      detector: DETECTOR_ID,
      code: 'character_loop',
      explanation: `Inside one word, the character pattern '${unit}' repeats ${repeats} times in a row (${length} characters).`,
      // 12 characters: 0.42, 30: 0.6, 60 or more: 0.9.
      confidence: confidenceOf(Math.min(0.9, 0.3 + 0.01 * length)),
      span: spanIn(segment, startOffset, endOffset),
      messageId: segment.messageId,
      measures: { unitCharacters: best.period, repeats, characters: length },
    });
  }
  return out;
}
