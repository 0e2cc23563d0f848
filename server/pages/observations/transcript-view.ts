import type { CodingView } from '../../../observations/observation.presenter.ts';
import { partText, type MessageRole, type Transcript, type TranscriptPart } from '../../../observations/transcript.schema.ts';

/**
 * The transcript as the viewer partial renders it: one block per message, each part with its text split into
 * segments at coding span boundaries, so overlapping codes render as flat, non-nested `<mark>` runs. Offsets are
 * UTF-16 code units (JavaScript string indices), the unit the server stores and the browser's DOM Range reports.
 */
export interface SegmentView {
  text: string;
  /** Space-separated ids of the active codings covering this run (empty for uncoded text). */
  codingIds: string;
  /** "REF-FULL Full refusal; SYC-CAVE Capitulation under pushback" for the title attribute. */
  label: string;
  /** The colour of the first covering coding's behaviour (applied by the client bundle). */
  colour: string;
  overlap: boolean;
}

export interface PartView {
  index: number;
  type: TranscriptPart['type'];
  /** Whether the part has text a span can address (text, reasoning, refusal, tool call arguments, tool result). */
  addressable: boolean;
  segments: SegmentView[];
  coded: boolean;
  toolName?: string;
  toolCallId?: string;
  isError?: boolean;
  hasOpaque?: boolean;
  /** Image parts: a link target, only for http(s) URLs. */
  imageUrl?: string;
  mediaType?: string;
  /** `other` parts: the provider's type name and its data as indented JSON. */
  originalType?: string;
  dataJson?: string;
}

export interface MessageView {
  id: string;
  role: MessageRole;
  roleLabel: string;
  name?: string;
  number: number;
  parts: PartView[];
}

const ROLE_LABELS: Record<MessageRole, string> = {
  system: 'System',
  developer: 'Developer',
  user: 'User',
  assistant: 'Assistant',
  tool: 'Tool',
};

type SpanCoding = Pick<CodingView, 'id' | 'behaviour'> & { span: NonNullable<CodingView['span']> };

/** Builds the viewer model; withdrawn codings and whole-observation codings do not mark text. */
export function transcriptView(transcript: Transcript, codings: CodingView[] = []): MessageView[] {
  const spanCodings = codings.filter((c): c is CodingView & SpanCoding => !!c.span && !c.withdrawnAt);
  return transcript.messages.map((message, messageIndex) => ({
    id: message.id,
    role: message.role,
    roleLabel: ROLE_LABELS[message.role] ?? message.role,
    ...(message.name ? { name: message.name } : {}),
    number: messageIndex + 1,
    parts: message.parts.map((part, index) =>
      partView(part, index, spanCodings.filter((c) => c.span.messageId === message.id && c.span.partIndex === index)),
    ),
  }));
}

function partView(part: TranscriptPart, index: number, codings: SpanCoding[]): PartView {
  const text = partText(part);
  const segments = text === null ? [] : segmentText(text, codings);
  const base: PartView = { index, type: part.type, addressable: text !== null, segments, coded: segments.some((s) => s.codingIds !== '') };
  switch (part.type) {
    case 'reasoning':
      return { ...base, hasOpaque: !!part.opaque };
    case 'tool_call':
      return { ...base, toolName: part.name, ...(part.id ? { toolCallId: part.id } : {}) };
    case 'tool_result':
      return { ...base, ...(part.toolCallId ? { toolCallId: part.toolCallId } : {}), isError: !!part.isError };
    case 'image':
      return { ...base, ...(part.url && /^https?:\/\//i.test(part.url) ? { imageUrl: part.url } : {}), ...(part.mediaType ? { mediaType: part.mediaType } : {}) };
    case 'other':
      return { ...base, originalType: part.originalType, dataJson: stringify(part.data) };
    default:
      return base;
  }
}

/**
 * Splits a part's text at every span boundary; each run lists the codings covering all of it. Spans are clamped
 * to the text, and empty or inverted ones are ignored, so a stale coding can never break the page.
 */
export function segmentText(text: string, codings: SpanCoding[]): SegmentView[] {
  const spans = codings
    .map((c) => ({ coding: c, start: clamp(c.span.start, text.length), end: clamp(c.span.end, text.length) }))
    .filter((s) => s.end > s.start);
  const cuts = new Set<number>([0, text.length]);
  for (const s of spans) {
    cuts.add(s.start);
    cuts.add(s.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const segments: SegmentView[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i]!;
    const to = points[i + 1]!;
    const covering = spans.filter((s) => s.start <= from && s.end >= to).map((s) => s.coding);
    segments.push({
      text: text.slice(from, to),
      codingIds: covering.map((c) => c.id).join(' '),
      label: covering.map((c) => `${c.behaviour.code} ${c.behaviour.name}`).join('; '),
      colour: covering[0]?.behaviour.colour ?? '',
      overlap: covering.length > 1,
    });
  }
  if (segments.length === 0) segments.push({ text: '', codingIds: '', label: '', colour: '', overlap: false });
  return segments;
}

function clamp(n: number, max: number): number {
  return Math.max(0, Math.min(Number.isFinite(n) ? Math.trunc(n) : 0, max));
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? 'null';
  } catch {
    return String(value);
  }
}
