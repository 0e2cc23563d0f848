import type { Transcript, TranscriptMessage } from '../../transcript.schema.ts';
import { combineEvidence, confidenceOf, excerpt, type DetectorContext, type Finding } from './finding.ts';
import { codeFences } from './markdown-mask.ts';
import { sentences, words } from './text-units.ts';
import { spanIn, type TextSegment } from './transcript-text.ts';

/**
 * Empty or truncated output.
 *
 * - `empty_output`: an assistant message with no visible text (empty or whitespace only), no tool call and no
 *   refusal; a message that has only a reasoning trace counts as empty, with slightly less confidence.
 * - For each assistant message that ends in text, the evidence that it was cut off, combined into one finding
 *   named after the strongest:
 *   `stop_reason_length` the provider's stop reason (from the observation's provenance, for the last assistant
 *     message) is `length`, `max_tokens`, `max_output_tokens` or `model_context_window_exceeded`;
 *   `unclosed_code_fence` a ``` or ~~~ block is opened and never closed;
 *   `ends_mid_sentence` the last line ends on an article, preposition or conjunction, a comma, a hyphen or an
 *     open bracket (strong), or is a prose line of at least LONG_LINE_WORDS words ending on a letter with no
 *     closing punctuation (weak: many replies end a list item or a short answer without a full stop).
 *
 * Not read: a message that ends in a tool call (text before a call often ends on a colon), and endings that
 * close naturally without a full stop: headings, list items and table rows ending on a content word, URLs,
 * emoji, numbers, closing brackets and quotes.
 */
export const DETECTOR_ID = 'empty-or-truncated';

const LENGTH_STOP_REASONS = new Set(['length', 'max_tokens', 'max_output_tokens', 'model_context_window_exceeded', 'model_length']);
const LONG_LINE_WORDS = 8;
/** Function words a complete sentence does not end on (en, fr, de, es, it, pt, nl). */
const DANGLING_WORDS = new Set([
  'the', 'a', 'an', 'and', 'or', 'but', 'of', 'to', 'with', 'for', 'in', 'on', 'at', 'by', 'from', 'that', 'which', 'is', 'are', 'was', 'were', 'be', 'as', 'if', 'because', 'than', 'into', 'their', 'its', 'your', 'our', 'my', 'this', 'these', 'such', 'will', 'would', 'can', 'could', 'should', 'has', 'have', 'had',
  'le', 'la', 'les', 'un', 'une', 'des', 'du', 'de', 'et', 'ou', 'mais', 'dans', 'pour', 'avec', 'sur', 'par', 'que', 'qui', 'est',
  'der', 'die', 'das', 'ein', 'eine', 'und', 'oder', 'aber', 'mit', 'für', 'auf', 'von', 'zu', 'dass', 'ist',
  'el', 'los', 'las', 'una', 'y', 'pero', 'con', 'para', 'por', 'en', 'es',
  'il', 'lo', 'gli', 'di', 'e', 'ma', 'per', 'che', 'è',
  'o', 'os', 'as', 'um', 'uma', 'em', 'com', 'não',
  'het', 'een', 'en', 'van', 'met', 'voor', 'maar', 'dat',
]);

interface Evidence {
  code: 'stop_reason_length' | 'unclosed_code_fence' | 'ends_mid_sentence';
  confidence: number;
  reason: string;
  start: number;
}

export function detect(transcript: Transcript, context?: DetectorContext): Finding[] {
  const findings: Finding[] = [];
  const assistantIndexes = transcript.messages.flatMap((m, i) => (m.role === 'assistant' ? [i] : []));
  const lastAssistant = assistantIndexes[assistantIndexes.length - 1];
  const stoppedForLength = (context?.stopReason ?? '')
    .split(',')
    .map((r) => r.trim().toLowerCase())
    .find((r) => LENGTH_STOP_REASONS.has(r));
  for (const index of assistantIndexes) {
    const message = transcript.messages[index]!;
    const empty = emptyFinding(message);
    if (empty) {
      findings.push(empty);
      continue;
    }
    const truncated = truncationFinding(message, index === lastAssistant ? stoppedForLength : undefined);
    if (truncated) findings.push(truncated);
  }
  return findings;
}

function emptyFinding(message: TranscriptMessage): Finding | null {
  const substantive = message.parts.some((p) => p.type === 'tool_call' || p.type === 'image' || p.type === 'other' || ((p.type === 'text' || p.type === 'refusal') && p.text.trim() !== ''));
  if (substantive) return null;
  const reasoningOnly = message.parts.some((p) => p.type === 'reasoning' && p.text.trim() !== '');
  const whitespace = message.parts.some((p) => p.type === 'text' && p.text.length > 0);
  return {
    detector: DETECTOR_ID,
    code: 'empty_output',
    explanation: reasoningOnly
      ? `Assistant message ${message.id} has a reasoning trace but no visible reply.`
      : `Assistant message ${message.id} is empty${whitespace ? ' (whitespace only)' : ''}: no text, tool call or refusal.`,
    confidence: reasoningOnly ? 0.8 : 0.95,
    span: null,
    messageId: message.id,
    measures: { parts: message.parts.length, reasoningOnly: reasoningOnly ? 1 : 0 },
  };
}

function truncationFinding(message: TranscriptMessage, stopReason: string | undefined): Finding | null {
  const lastIndex = message.parts.length - 1;
  const last = message.parts[lastIndex];
  // A message that ends in a tool call (or anything but text) was not cut off mid-text.
  if (!last || last.type !== 'text' || last.text.trim() === '') {
    return null;
  }
  const segment: TextSegment = { messageId: message.id, messageIndex: 0, partIndex: lastIndex, partType: 'text', text: last.text };
  const text = last.text.trimEnd();
  const evidence: Evidence[] = [];
  const tail = lastSentenceStart(text);
  if (stopReason) evidence.push({ code: 'stop_reason_length', confidence: 0.95, reason: `the provider's stop reason is '${stopReason}'`, start: tail });
  const open = codeFences(text).find((f) => !f.closed);
  if (open) {
    const lines = text.slice(open.start).split('\n').length - 1;
    evidence.push({ code: 'unclosed_code_fence', confidence: 0.8, reason: `the code block opened at character ${open.start} is never closed (${lines} lines after it)`, start: open.start });
  } else {
    const ending = midSentenceEnding(text);
    if (ending) evidence.push({ ...ending, code: 'ends_mid_sentence', start: tail });
  }
  if (evidence.length === 0) return null;
  evidence.sort((a, b) => b.confidence - a.confidence);
  const strongest = evidence[0]!;
  return {
    detector: DETECTOR_ID,
    code: strongest.code,
    explanation: `The reply looks cut off: ${evidence.map((e) => e.reason).join('; ')}.`,
    confidence: confidenceOf(combineEvidence(evidence.map((e) => e.confidence))),
    span: spanIn(segment, strongest.start, text.length),
    messageId: message.id,
    measures: { evidence: evidence.map((e) => e.code).join(','), length: text.length },
  };
}

function lastSentenceStart(text: string): number {
  const all = sentences(text);
  return all[all.length - 1]?.start ?? 0;
}

const STRUCTURAL_LINE = /^\s*(?:[-*+]\s|\d+[.)]\s|#{1,6}\s|\||>)/;
const CLOSED_ENDING = /[.!?…。！？:;)\]}"'”’»*_`~>]$|\p{Extended_Pictographic}\uFE0F?$|\d$/u;
const URL_ENDING = /(?:https?:\/\/|www\.)\S+$/;

/** Why the last line reads as cut off mid-sentence, or null when it ends naturally. */
function midSentenceEnding(text: string): { confidence: number; reason: string } | null {
  const lastLine = text.slice(text.lastIndexOf('\n') + 1);
  if (lastLine.trim() === '' || URL_ENDING.test(lastLine)) return null;
  const lastChar = lastLine[lastLine.length - 1]!;
  const lineWords = words(lastLine);
  const lastWord = lineWords[lineWords.length - 1];
  const endsOnWord = lastWord !== undefined && lastWord.end === lastLine.length;
  if (/[,\-–(\[{]$/.test(lastLine) && lineWords.length >= 2) {
    return { confidence: 0.7, reason: `the last line ends with '${lastChar}' ('…${excerpt(lastLine.slice(-40), 40)}')` };
  }
  if (endsOnWord && lineWords.length >= 3 && DANGLING_WORDS.has(lastWord.text.toLowerCase())) {
    return { confidence: 0.7, reason: `the last line ends on '${lastWord.text}', a word a sentence does not end on ('…${excerpt(lastLine.slice(-40), 40)}')` };
  }
  if (CLOSED_ENDING.test(lastLine) || STRUCTURAL_LINE.test(lastLine)) return null;
  if (endsOnWord && lineWords.length >= LONG_LINE_WORDS) {
    return { confidence: 0.4, reason: `the last line (${lineWords.length} words) ends without closing punctuation ('…${excerpt(lastLine.slice(-40), 40)}')` };
  }
  return null;
}
