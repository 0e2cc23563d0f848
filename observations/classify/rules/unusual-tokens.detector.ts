import type { Transcript } from '../../transcript.schema.ts';
import { confidenceOf, excerpt, type DetectorContext, type Finding } from './finding.ts';
import { KNOWN_GLITCH_TOKENS, SPECIAL_TOKEN_PATTERN } from './glitch-tokens.ts';
import { maskText } from './markdown-mask.ts';
import { assistantSegments, promptSegments, spanIn, type TextSegment } from './transcript-text.ts';

/**
 * Unusual token strings, the visible traces of tokenisation and decoding going wrong. One finding per kind per
 * message part, pointing at the first occurrence (widened to the surrounding word, so an invisible character
 * has a visible quote) and counting the rest.
 *
 * - `known_glitch_token`: a documented glitch token (glitch-tokens.ts) in the reply; `glitch_token_in_prompt`:
 *   one in the prompt (the span points at the user's message: DEG-GLITCH is an anomalous response to it).
 * - `special_token_leak`: a chat-template control token (<|im_end|>, [INST], <|eot_id|>) in the visible reply.
 * - `nonword_run`: at least NONWORD_RUN characters in a row that are neither letters, digits nor spaces, with at
 *   least 4 different characters (so rules like "----------" and "**********" do not count) and not mostly emoji.
 * - `mojibake`: UTF-8 read as Latin-1 or Windows-1252 ("Ã©" for é, "â€™" for ’, "ï»¿" for a byte-order mark).
 * - `replacement_character`: U+FFFD, the mark of bytes that could not be decoded (often a token cut inside a
 *   multi-byte character).
 * - `invisible_characters`: zero-width spaces and joiners, word joiners, bidirectional controls, Unicode tag
 *   characters and supplementary variation selectors (both used to smuggle hidden text). Not counted where
 *   they are ordinary: a zero-width joiner inside an emoji sequence, joiners next to Indic or Arabic-script
 *   letters, zero-width spaces in Thai, Lao, Khmer, Myanmar or Tibetan text, tag characters in a flag emoji.
 *
 * Not read for glitch tokens, leaks, non-word runs, mojibake and replacement characters: code blocks, inline
 * code, URLs and maths (and for the last two, quotations: a reply discussing mojibake quotes it).
 */
export const DETECTOR_ID = 'unusual-tokens';

const NONWORD_RUN = 10;

export function detect(transcript: Transcript, _context?: DetectorContext): Finding[] {
  const findings: Finding[] = [];
  for (const segment of assistantSegments(transcript, ['text', 'reasoning'])) {
    const prose = maskText(segment.text, { code: true, urls: true, maths: true, tables: true });
    const unquoted = maskText(segment.text, { code: true, urls: true, quotes: true });
    findings.push(
      ...glitchTokens(segment, maskText(segment.text, { code: true, urls: true }), 'known_glitch_token'),
      ...specialTokens(segment, maskText(segment.text, { code: true })),
      ...nonwordRuns(segment, prose),
      ...mojibake(segment, unquoted),
      ...replacementCharacters(segment, unquoted),
      ...invisibleCharacters(segment),
    );
  }
  for (const segment of promptSegments(transcript)) findings.push(...glitchTokens(segment, segment.text, 'glitch_token_in_prompt'));
  return findings;
}

function finding(segment: TextSegment, code: string, explanation: string, confidence: number, start: number, end: number, measures: Finding['measures']): Finding {
  return { detector: DETECTOR_ID, code, explanation, confidence: confidenceOf(confidence), span: spanIn(segment, start, end), messageId: segment.messageId, measures };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const GLITCH_PATTERN = new RegExp(`(?<![\\p{L}\\p{N}])(?:${[...KNOWN_GLITCH_TOKENS].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'gu');

function glitchTokens(segment: TextSegment, text: string, code: 'known_glitch_token' | 'glitch_token_in_prompt'): Finding[] {
  const matches = [...text.matchAll(GLITCH_PATTERN)];
  if (matches.length === 0) return [];
  const first = matches[0]!;
  const tokens = [...new Set(matches.map((m) => m[0]))];
  const named = tokens.map((t) => `'${t}'`).join(', ');
  const explanation = code === 'known_glitch_token'
    ? `The reply contains the known glitch token${tokens.length > 1 ? 's' : ''} ${named} (${matches.length} occurrence${matches.length > 1 ? 's' : ''}).`
    : `The prompt contains the known glitch token${tokens.length > 1 ? 's' : ''} ${named}: check the reply for an anomalous response to it.`;
  return [finding(segment, code, explanation, code === 'known_glitch_token' ? 0.6 : 0.4, first.index, first.index + first[0].length, { occurrences: matches.length, tokens: tokens.join(',') })];
}

function specialTokens(segment: TextSegment, text: string): Finding[] {
  if (segment.partType !== 'text') return [];
  const matches = [...text.matchAll(SPECIAL_TOKEN_PATTERN)];
  if (matches.length === 0) return [];
  const first = matches[0]!;
  const tokens = [...new Set(matches.map((m) => m[0]))].slice(0, 5).map((t) => `'${t}'`).join(', ');
  return [finding(segment, 'special_token_leak', `Chat-template control token${matches.length > 1 ? 's' : ''} ${tokens} appear${matches.length > 1 ? '' : 's'} in the visible reply (${matches.length} in all).`, matches.length > 1 ? 0.9 : 0.85, first.index, first.index + first[0].length, { occurrences: matches.length })];
}

const NONWORD = new RegExp(`[^\\p{L}\\p{N}\\p{M}\\s]{${NONWORD_RUN},}`, 'gu');
const PICTOGRAPHIC = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F\u200D]/u;

function nonwordRuns(segment: TextSegment, text: string): Finding[] {
  const runs = [...text.matchAll(NONWORD)].filter((m) => {
    const chars = Array.from(m[0]);
    const distinct = new Set(chars).size;
    const emoji = chars.filter((c) => PICTOGRAPHIC.test(c)).length;
    return distinct >= 4 && emoji * 2 < chars.length;
  });
  if (runs.length === 0) return [];
  const longest = runs.reduce((a, b) => (b[0].length > a[0].length ? b : a));
  const length = Array.from(longest[0]).length;
  // 10 characters: 0.45, 20: 0.65, 30 or more: 0.85; several runs add a little.
  const confidence = Math.min(0.85, 0.25 + 0.02 * length) + Math.min(0.1, 0.03 * (runs.length - 1));
  return [finding(segment, 'nonword_run', `A run of ${length} symbols with no letters or digits ('${excerpt(longest[0], 40)}')${runs.length > 1 ? `, and ${runs.length - 1} more such run${runs.length > 2 ? 's' : ''}` : ''}.`, confidence, longest.index, longest.index + longest[0].length, { longestRun: length, runs: runs.length })];
}

/** Windows-1252 renderings of the bytes 0x80–0x9F, which follow Ã, Â or â€ in mojibake. */
const CP1252_HIGH = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';
const MOJIBAKE = new RegExp(`[ÂÃ][\\u0080-\\u00BF${CP1252_HIGH}]|â€[\\u0080-\\u00BF${CP1252_HIGH}]?|ï»¿`, 'g');

function mojibake(segment: TextSegment, text: string): Finding[] {
  const matches = [...text.matchAll(MOJIBAKE)];
  if (matches.length === 0) return [];
  const [start, end] = wordAround(segment.text, matches[0]!.index, matches[0]!.index + matches[0]![0].length);
  const samples = [...new Set(matches.map((m) => m[0]))].slice(0, 4).map((s) => `'${s}'`).join(', ');
  // 1 occurrence: 0.55, 2: 0.65, 4 or more: 0.85.
  const confidence = Math.min(0.85, 0.45 + 0.1 * matches.length);
  return [finding(segment, 'mojibake', `${matches.length} mojibake sequence${matches.length > 1 ? 's' : ''} (${samples}): UTF-8 text decoded as Latin-1 or Windows-1252.`, confidence, start, end, { occurrences: matches.length })];
}

function replacementCharacters(segment: TextSegment, text: string): Finding[] {
  const offsets = [...text.matchAll(/\uFFFD/g)].map((m) => m.index);
  if (offsets.length === 0) return [];
  const [start, end] = wordAround(segment.text, offsets[0]!, offsets[0]! + 1);
  // 1 occurrence: 0.5, 3: 0.7, 5 or more: 0.85.
  const confidence = Math.min(0.85, 0.4 + 0.1 * offsets.length);
  return [finding(segment, 'replacement_character', `${offsets.length} replacement character${offsets.length > 1 ? 's' : ''} (U+FFFD), the mark of bytes that could not be decoded.`, confidence, start, end, { occurrences: offsets.length })];
}

const INVISIBLE = /[\u200B\u200C\u200D\u2060-\u2064\uFEFF\u180E\u202A-\u202E\u2066-\u2069]|[\u{E0000}-\u{E007F}]|[\u{E0100}-\u{E01EF}]/gu;
const JOINING_SCRIPTS = /[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Gurmukhi}\p{Script=Gujarati}\p{Script=Oriya}\p{Script=Tamil}\p{Script=Telugu}\p{Script=Kannada}\p{Script=Malayalam}\p{Script=Sinhala}\p{Script=Mongolian}\p{M}]/u;
const SPACELESS_SCRIPTS = /[\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}]/u;
const EMOJI_PART = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\uFE0F]/u;

const NAMES: Record<string, string> = {
  '\u200B': 'zero-width space',
  '\u200C': 'zero-width non-joiner',
  '\u200D': 'zero-width joiner',
  '\u2060': 'word joiner',
  '\uFEFF': 'zero-width no-break space',
  '\u180E': 'Mongolian vowel separator',
};

function nameOf(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (NAMES[ch]) return NAMES[ch];
  if (cp >= 0xe0000 && cp <= 0xe007f) return 'tag character';
  if (cp >= 0xe0100) return 'variation selector';
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return 'bidirectional control';
  return 'invisible operator';
}

/** The characters either side of `index`, skipping over other invisible characters. */
function neighbours(text: string, index: number, length: number): [string, string] {
  const before = Array.from(text.slice(Math.max(0, index - 8), index)).reverse().find((c) => !INVISIBLE_ONE.test(c)) ?? '';
  const after = Array.from(text.slice(index + length, index + length + 8)).find((c) => !INVISIBLE_ONE.test(c)) ?? '';
  return [before, after];
}
const INVISIBLE_ONE = new RegExp(INVISIBLE.source, 'u');

function ordinary(text: string, index: number, ch: string): boolean {
  const [before, after] = neighbours(text, index, ch.length);
  const cp = ch.codePointAt(0)!;
  if (ch === '\u200D' && EMOJI_PART.test(before) && EMOJI_PART.test(after)) return true;
  if ((ch === '\u200C' || ch === '\u200D') && (JOINING_SCRIPTS.test(before) || JOINING_SCRIPTS.test(after))) return true;
  if (ch === '\u200B' && (SPACELESS_SCRIPTS.test(before) || SPACELESS_SCRIPTS.test(after))) return true;
  if (cp >= 0xe0020 && cp <= 0xe007f && /🏴/u.test(text.slice(Math.max(0, index - 16), index))) return true;
  if (ch === '\uFEFF' && index === 0) return true;
  return false;
}

function invisibleCharacters(segment: TextSegment): Finding[] {
  const found = [...segment.text.matchAll(INVISIBLE)].filter((m) => !ordinary(segment.text, m.index, m[0]));
  if (found.length === 0) return [];
  const kinds = new Map<string, number>();
  for (const m of found) kinds.set(nameOf(m[0]), (kinds.get(nameOf(m[0])) ?? 0) + 1);
  const smuggling = (kinds.get('tag character') ?? 0) + (kinds.get('variation selector') ?? 0);
  const bidi = kinds.get('bidirectional control') ?? 0;
  const [start, end] = wordAround(segment.text, found[0]!.index, found[0]!.index + found[0]![0].length);
  const list = [...kinds].map(([name, n]) => `${n} ${name}${n > 1 ? 's' : ''}`).join(', ');
  // Hidden-text carriers (tag characters, supplementary variation selectors) 0.85; bidirectional controls 0.6;
  // stray zero-width characters 0.45, rising with their number to 0.7.
  const confidence = smuggling > 0 ? 0.85 : bidi > 0 ? 0.6 : Math.min(0.7, 0.4 + 0.05 * found.length);
  return [finding(segment, 'invisible_characters', `Invisible characters in the text: ${list}${smuggling > 0 ? ' (tag characters and variation selectors can carry hidden text)' : ''}.`, confidence, start, end, { occurrences: found.length })];
}

/** Widens [start, end) to the whitespace-delimited word around it, so the quote is readable. */
function wordAround(text: string, start: number, end: number): [number, number] {
  let s = start;
  let e = end;
  while (s > 0 && !/\s/.test(text[s - 1]!) && start - s < 40) s--;
  while (e < text.length && !/\s/.test(text[e]!) && e - end < 40) e++;
  return [s, e];
}
