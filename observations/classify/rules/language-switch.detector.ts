import type { Transcript } from '../../transcript.schema.ts';
import { confidenceOf, excerpt, type DetectorContext, type Finding } from './finding.ts';
import { identifyLanguage, LANGUAGE_MENTIONS, LANGUAGE_NAMES, scriptOf, type LanguageGuess, type ScriptGroup } from './language-identify.ts';
import { maskText } from './markdown-mask.ts';
import { sentences, type TextRange } from './text-units.ts';
import { assistantSegments, promptSegments, spanIn, trimRange, type TextSegment } from './transcript-text.ts';

/**
 * A language switch mid-answer (LNG-SWITCH): the reply, or a reasoning trace, is written in one language and
 * continues in another for at least a clause.
 *
 * How: code, URLs, quotations, blockquotes, tables, maths and short emphasised phrases are blanked first (they
 * are where other languages legitimately appear). The rest is cut into windows: sentences, further cut where
 * the script changes (an English sentence that carries on in Chinese), and each window is identified
 * (language-identify.ts) or left unknown. Consecutive windows of one language form blocks. The reply's
 * language is that of its first block of at least ESTABLISH_WORDS words; a later block in another language of
 * at least SWITCH_WORDS words is a switch, reported from its first character, with where (and whether) the
 * reply returns to the first language.
 *
 * Not a switch: a block announced just before it ("in French:", "translation") or a language the prompt
 * mentions or is written in (a translation or bilingual answer was asked for); a reply wholly in another
 * language (that is LNG-MISMATCH, not read here); a foreign phrase shorter than SWITCH_WORDS words.
 */
export const DETECTOR_ID = 'language-switch';

const ESTABLISH_WORDS = 6;
const SWITCH_WORDS = 6;

interface Window extends TextRange {
  guess: LanguageGuess | null;
}

interface Block extends TextRange {
  language: string;
  words: number;
  strength: number;
}

export function detect(transcript: Transcript, _context?: DetectorContext): Finding[] {
  const expected = expectedLanguages(transcript);
  const findings: Finding[] = [];
  for (const segment of assistantSegments(transcript, ['text', 'reasoning'])) {
    findings.push(...switchesIn(segment, expected));
  }
  return findings;
}

/** Languages the prompt asks for or is written in: switching into these is not reported. */
function expectedLanguages(transcript: Transcript): Set<string> {
  const expected = new Set<string>();
  for (const segment of promptSegments(transcript)) {
    const lower = segment.text.toLowerCase();
    for (const [language, names] of Object.entries(LANGUAGE_MENTIONS)) {
      if (names.some((name) => mentions(lower, name))) expected.add(language);
    }
    for (const w of windowsOf(maskText(segment.text, { code: true, urls: true }))) if (w.guess) expected.add(w.guess.language);
  }
  return expected;
}

function mentions(lowerText: string, name: string): boolean {
  const at = lowerText.indexOf(name);
  if (at < 0) return false;
  if (!/^\p{Script=Latin}/u.test(name)) return true;
  const before = lowerText[at - 1];
  const after = lowerText[at + name.length];
  return !(before && /\p{L}/u.test(before)) && !(after && /\p{L}/u.test(after));
}

const TRANSLATION_CUES = /\b(?:translat\w*|traduc\w*|traduz\w*|traduzion\w*|übersetz\w*|vertaal\w*|vertaling)\b/iu;

function switchesIn(segment: TextSegment, expected: Set<string>): Finding[] {
  const masked = maskText(segment.text, { code: true, urls: true, quotes: true, tables: true, emphasis: true, maths: true });
  const blocks = blocksOf(windowsOf(masked));
  const baseIndex = blocks.findIndex((b) => b.words >= ESTABLISH_WORDS);
  if (baseIndex < 0) return [];
  const base = blocks[baseIndex]!;
  const findings: Finding[] = [];
  let previous = base;
  for (const [i, block] of blocks.entries()) {
    if (i <= baseIndex || block.words < SWITCH_WORDS) continue;
    if (block.language !== base.language && block.language !== previous.language) {
      // The lead-in, and the block's own first words ("As the French say, c'est la vie").
      const leadIn = segment.text.slice(Math.max(0, block.start - 160), Math.min(block.end, block.start + 40)).toLowerCase();
      const announced = TRANSLATION_CUES.test(leadIn) || (LANGUAGE_MENTIONS[block.language] ?? []).some((name) => mentions(leadIn, name));
      if (!announced && !expected.has(block.language)) findings.push(findingFor(segment, previous, block, blocks[i + 1], base));
    }
    previous = block;
  }
  return findings;
}

function findingFor(segment: TextSegment, from: Block, to: Block, next: Block | undefined, base: Block): Finding {
  const [start, end] = trimRange(segment.text, to.start, to.end);
  const fromName = LANGUAGE_NAMES[from.language] ?? from.language;
  const toName = LANGUAGE_NAMES[to.language] ?? to.language;
  const where = segment.partType === 'reasoning' ? 'the reasoning trace' : 'the reply';
  const after = !next
    ? ' and stays in it to the end'
    : next.language === base.language
      ? `, then returns to ${LANGUAGE_NAMES[base.language] ?? base.language} at character ${next.start}`
      : `, then continues in ${LANGUAGE_NAMES[next.language] ?? next.language} at character ${next.start}`;
  // Words in the new language saturate (6 words: 0.39, 12: 0.63, 24: 0.86), scaled by how clearly both sides
  // were identified.
  const fromWords = 1 - Math.exp(-to.words / 12);
  const confidence = (0.35 + 0.6 * fromWords) * Math.min(to.strength, 0.5 + from.strength / 2);
  return {
    detector: DETECTOR_ID,
    code: 'language_switch',
    explanation: `${where[0]!.toUpperCase()}${where.slice(1)} switches from ${fromName} (${from.language}) to ${toName} (${to.language}) at character ${start} for ${Math.round(to.words)} words ('${excerpt(segment.text.slice(start, end), 50)}')${after}.`,
    confidence: confidenceOf(confidence),
    span: spanIn(segment, start, end),
    messageId: segment.messageId,
    measures: { from: from.language, to: to.language, offset: start, words: Math.round(to.words), inReasoning: segment.partType === 'reasoning' ? 1 : 0 },
  };
}

/** Sentences of the masked text, each cut again where it changes script for at least a few letters. */
function windowsOf(masked: string): Window[] {
  const out: Window[] = [];
  for (const sentence of sentences(masked)) {
    for (const run of scriptRuns(masked, sentence)) {
      out.push({ ...run, guess: identifyLanguage(masked.slice(run.start, run.end)) });
    }
  }
  return out;
}

/** Runs of one script within a range; a run too short to stand alone (a name, one CJK word) joins its neighbour. */
function scriptRuns(text: string, range: TextRange): TextRange[] {
  const runs: Array<TextRange & { group: ScriptGroup; letters: number }> = [];
  for (let i = range.start; i < range.end; ) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const group = scriptOf(ch);
    if (group) {
      const last = runs[runs.length - 1];
      if (!last || last.group !== group) runs.push({ start: i, end: i + ch.length, group, letters: 1 });
      else last.letters++;
    }
    if (runs.length) runs[runs.length - 1]!.end = i + ch.length;
    i += ch.length;
  }
  const merged: typeof runs = [];
  for (const run of runs) {
    const last = merged[merged.length - 1];
    const short = run.letters < (run.group === 'cjk' ? 4 : 12);
    if (last && (short || last.group === run.group)) {
      last.end = run.end;
      if (last.group === run.group) last.letters += run.letters;
    } else merged.push({ ...run });
  }
  if (merged.length === 0) return [range];
  merged[0]!.start = range.start;
  merged[merged.length - 1]!.end = range.end;
  return merged;
}

/** Consecutive identified windows of one language; unidentified windows join the block around them. */
function blocksOf(windows: Window[]): Block[] {
  const blocks: Block[] = [];
  for (const w of windows) {
    const last = blocks[blocks.length - 1];
    if (!w.guess) {
      if (last) last.end = w.end;
      continue;
    }
    if (last && last.language === w.guess.language) {
      last.end = w.end;
      last.strength = (last.strength * last.words + w.guess.strength * w.guess.words) / (last.words + w.guess.words);
      last.words += w.guess.words;
    } else blocks.push({ start: w.start, end: w.end, language: w.guess.language, words: w.guess.words, strength: w.guess.strength });
  }
  return blocks;
}
