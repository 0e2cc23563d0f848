import { partText, type Transcript } from '../../transcript.schema.ts';
import type { FindingSpan } from './finding.ts';

/** One addressable piece of model-written text: a text, reasoning or refusal part of an assistant message. */
export interface TextSegment {
  messageId: string;
  messageIndex: number;
  partIndex: number;
  partType: 'text' | 'reasoning' | 'refusal';
  text: string;
}

export type SegmentType = TextSegment['partType'];

/** The assistant's own text in the transcript, in order, limited to the given part types. */
export function assistantSegments(transcript: Transcript, types: readonly SegmentType[] = ['text']): TextSegment[] {
  const out: TextSegment[] = [];
  transcript.messages.forEach((message, messageIndex) => {
    if (message.role !== 'assistant') return;
    message.parts.forEach((part, partIndex) => {
      if (part.type !== 'text' && part.type !== 'reasoning' && part.type !== 'refusal') return;
      if (!types.includes(part.type)) return;
      out.push({ messageId: message.id, messageIndex, partIndex, partType: part.type, text: partText(part) ?? '' });
    });
  });
  return out;
}

/** The text of every user (and system/developer) message part, e.g. to see what the reply was asked for. */
export function promptSegments(transcript: Transcript): TextSegment[] {
  const out: TextSegment[] = [];
  transcript.messages.forEach((message, messageIndex) => {
    if (message.role !== 'user' && message.role !== 'system' && message.role !== 'developer') return;
    message.parts.forEach((part, partIndex) => {
      if (part.type !== 'text') return;
      out.push({ messageId: message.id, messageIndex, partIndex, partType: 'text', text: part.text });
    });
  });
  return out;
}

/** The span [start, end) of a segment, with its exact quote. */
export function spanIn(segment: TextSegment, start: number, end: number): FindingSpan {
  const charStart = Math.max(0, Math.min(start, segment.text.length));
  const charEnd = Math.max(charStart, Math.min(end, segment.text.length));
  return { messageId: segment.messageId, partIndex: segment.partIndex, charStart, charEnd, quote: segment.text.slice(charStart, charEnd) };
}

/** Narrows [start, end) so it neither starts nor ends with whitespace. */
export function trimRange(text: string, start: number, end: number): [number, number] {
  let s = start;
  let e = end;
  while (s < e && /\s/.test(text[s]!)) s++;
  while (e > s && /\s/.test(text[e - 1]!)) e--;
  return [s, e];
}
