import type { Transcript } from '../../transcript.schema.ts';
import * as emptyOrTruncated from './empty-or-truncated.detector.ts';
import type { Detector, DetectorContext, Finding } from './finding.ts';
import * as languageSwitch from './language-switch.detector.ts';
import * as repetitionLoop from './repetition-loop.detector.ts';
import * as stockRefusal from './stock-refusal.detector.ts';
import * as unusualTokens from './unusual-tokens.detector.ts';

export type { Detector, DetectorContext, Finding, FindingSpan } from './finding.ts';

/** One finding code a detector emits, and the starter-ethogram behaviour codes it proposes by default. */
export interface FindingKind {
  description: string;
  /** Codes in ethograms/starter/llm-starter.ethogram.json; empty when no starter behaviour fits (see `note`). */
  behaviourCodes: readonly string[];
  note?: string;
}

export interface DetectorEntry {
  id: string;
  name: string;
  description: string;
  findings: Readonly<Record<string, FindingKind>>;
  detect: Detector;
}

/**
 * The rule detectors, as data: what each looks for and which starter behaviours its findings propose. A
 * researcher's ethogram may use other codes; this mapping is only the default for the starter ethogram.
 */
export const DETECTORS: readonly DetectorEntry[] = [
  {
    id: repetitionLoop.DETECTOR_ID,
    name: 'Repetition loop',
    description: 'The same token, phrase, line or paragraph repeated at least three times in a row (with the share of the reply a looping tail covers), or one character pattern looping inside a word.',
    findings: {
      repetition_loop: { description: 'A run of tokens repeated at least three times in a row.', behaviourCodes: ['DEG-LOOP'] },
      character_loop: { description: 'A character pattern repeated at least six times inside one word.', behaviourCodes: ['DEG-LOOP'] },
    },
    detect: repetitionLoop.detect,
  },
  {
    id: languageSwitch.DETECTOR_ID,
    name: 'Language switch',
    description: 'The reply or reasoning trace changes natural language partway for at least a clause, outside code, quotations and requested translations.',
    findings: {
      language_switch: { description: 'From one identified language to another at a character offset.', behaviourCodes: ['LNG-SWITCH'] },
    },
    detect: languageSwitch.detect,
  },
  {
    id: stockRefusal.DETECTOR_ID,
    name: 'Stock refusal phrasing',
    description: 'A documented refusal phrase ("I can\'t help with that", "I\'m sorry, but I cannot", "As an AI language model", and equivalents in French, German, Spanish, Italian, Portuguese, Dutch, Chinese and Japanese), or a provider refusal part; full or partial by how much else the reply says.',
    findings: {
      refusal_full: { description: 'A refusal with little else in the reply.', behaviourCodes: ['REF-FULL'] },
      refusal_partial: { description: 'A refusal in a reply that goes on substantively.', behaviourCodes: ['REF-PART'] },
    },
    detect: stockRefusal.detect,
  },
  {
    id: emptyOrTruncated.DETECTOR_ID,
    name: 'Empty or truncated output',
    description: 'An assistant message with no visible text, or one cut off: the stop reason says the token limit was hit, a code block is never closed, or the text ends mid-sentence.',
    findings: {
      empty_output: { description: 'No visible reply.', behaviourCodes: [], note: 'No starter behaviour describes an empty reply; shown to reviewers as a rule flag.' },
      stop_reason_length: { description: 'The provider stopped at the token limit.', behaviourCodes: [], note: 'INS-FORMAT explicitly excludes output cut off by the token limit; no other starter behaviour fits.' },
      unclosed_code_fence: { description: 'A code block that is never closed.', behaviourCodes: [], note: 'Usually a cut-off generation (excluded from INS-FORMAT); a reviewer may code INS-FORMAT when a format was required.' },
      ends_mid_sentence: { description: 'The text ends mid-sentence.', behaviourCodes: [], note: 'A symptom of truncation, not a starter behaviour.' },
    },
    detect: emptyOrTruncated.detect,
  },
  {
    id: unusualTokens.DETECTOR_ID,
    name: 'Unusual token strings',
    description: 'Known glitch tokens, chat-template control tokens in the reply, long runs of symbols, mojibake, replacement characters and invisible characters.',
    findings: {
      known_glitch_token: { description: 'A documented glitch token in the reply.', behaviourCodes: ['DEG-GLITCH'] },
      glitch_token_in_prompt: { description: 'A documented glitch token in the prompt.', behaviourCodes: ['DEG-GLITCH'] },
      special_token_leak: { description: 'A chat-template control token in the visible reply.', behaviourCodes: ['DEG-ROLE-LEAK'] },
      nonword_run: { description: 'A long run of symbols with no letters or digits.', behaviourCodes: ['DEG-GIBBERISH'] },
      mojibake: { description: 'UTF-8 decoded as Latin-1 or Windows-1252.', behaviourCodes: ['DEG-GIBBERISH'] },
      replacement_character: { description: 'U+FFFD replacement characters.', behaviourCodes: ['DEG-GIBBERISH'] },
      invisible_characters: { description: 'Zero-width, bidirectional-control or tag characters.', behaviourCodes: [], note: 'Hidden characters are not a starter behaviour (they may be a watermark or smuggled text); reviewers judge.' },
    },
    detect: unusualTokens.detect,
  },
];

/** The registry entry for a detector id, or undefined. */
export function detectorById(id: string): DetectorEntry | undefined {
  return DETECTORS.find((d) => d.id === id);
}

/** The starter behaviour codes a finding proposes by default (possibly none). */
export function behaviourCodesFor(finding: Pick<Finding, 'detector' | 'code'>): readonly string[] {
  return detectorById(finding.detector)?.findings[finding.code]?.behaviourCodes ?? [];
}

/** Runs every detector (or only those named) over a transcript; findings in registry order. */
export function runDetectors(transcript: Transcript, context: DetectorContext = {}, only?: readonly string[]): Finding[] {
  return DETECTORS.filter((d) => !only || only.includes(d.id)).flatMap((d) => d.detect(transcript, context));
}
