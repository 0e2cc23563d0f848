import type { TranscriptPart } from '../transcript.schema.ts';
import type { DraftMessage, FormatEvidence, FormatParseResult, TranscriptMetadata, TranscriptParseError } from './parse-transcript.ts';

type JsonObject = Record<string, unknown>;
type JsonPath = (string | number)[];
type AnthropicRole = 'user' | 'assistant';

/** A message found in the pasted JSON: its 1-based number (as people count) and where it sits. */
type LocatedMessage = { value: unknown; number: number; path: JsonPath; isResponse: boolean };

type Located =
  | { ok: true; system: unknown; messages: LocatedMessage[]; metadata: TranscriptMetadata }
  | { ok: false; error: TranscriptParseError };

/** State shared while converting one transcript. */
type Conversion = { toolNamesById: Map<string, string>; inlineImageSeen: boolean };

/** Block types only the Anthropic Messages API uses. */
const ANTHROPIC_ONLY_BLOCK_TYPES = [
  'tool_use',
  'tool_result',
  'thinking',
  'redacted_thinking',
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'mcp_tool_use',
  'mcp_tool_result',
  'document',
  'search_result',
  'container_upload',
];

const INLINE_IMAGE_WARNING = 'Inline (base64) image data was left out of the transcript; only its media type was kept';

/**
 * Read Anthropic Messages JSON: a request `{ system?, messages }`, a response `Message` (`type: "message"`),
 * or an array of messages. `tool_result` blocks become their own `tool` messages, so tool replies look the same
 * whichever provider produced them.
 */
export function parseAnthropicMessages(value: unknown): FormatParseResult {
  const located = locateMessages(value);
  if (!located.ok) return located;
  const conversion: Conversion = { toolNamesById: new Map(), inlineImageSeen: false };
  const messages: DraftMessage[] = [];
  const system = systemMessage(located.system, conversion);
  if ('error' in system) return { ok: false, error: system.error };
  if (system.message) messages.push(system.message);
  for (const message of located.messages) {
    const converted = convertMessage(message, conversion);
    if ('error' in converted) return { ok: false, error: converted.error };
    messages.push(...converted);
  }
  const warnings = conversion.inlineImageSeen ? [INLINE_IMAGE_WARNING] : [];
  return { ok: true, messages, warnings, metadata: located.metadata };
}

/** How much parsed JSON looks like Anthropic Messages (see `FormatEvidence`). */
export function anthropicMessagesEvidence(value: unknown): FormatEvidence {
  const isResponse = isRecord(value) && value.type === 'message';
  const messages = Array.isArray(value) ? value : isRecord(value) && Array.isArray(value.messages) ? value.messages : undefined;
  const singleMessage = isRecord(value) && typeof value.role === 'string';
  const fits = isResponse || singleMessage || (messages !== undefined && messages.every((m) => isRecord(m) && ('role' in m || m.type === 'message')));
  let score = 0;
  if (isResponse) score += 3;
  if (isRecord(value) && value.system !== undefined && messages !== undefined) score += 3;
  if (isRecord(value) && value.stop_reason !== undefined) score += 1;
  const all = [...(messages ?? []), ...(isResponse || singleMessage ? [value] : [])];
  for (const message of all) {
    if (!isRecord(message)) continue;
    if (message.type === 'message') score += 3;
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content) {
      if (!isRecord(block)) continue;
      if (ANTHROPIC_ONLY_BLOCK_TYPES.includes(String(block.type))) score += 2;
      if (block.type === 'image' && isRecord(block.source)) score += 2;
    }
  }
  return { fits, score };
}

function locateMessages(value: unknown): Located {
  if (Array.isArray(value)) {
    if (value.length === 0) return { ok: false, error: { message: 'The JSON array is empty: it holds no messages' } };
    const messages = value.map((m, i) => ({ value: m, number: i + 1, path: [i], isResponse: isRecord(m) && m.type === 'message' }));
    return { ok: true, system: undefined, messages, metadata: {} };
  }
  if (!isRecord(value)) {
    return { ok: false, error: { message: 'Anthropic Messages JSON is an object with "messages", a response with "type": "message", or an array of messages' } };
  }
  const metadata = metadataOf(value);
  if (value.type === 'message') return { ok: true, system: undefined, messages: [{ value, number: 1, path: [], isResponse: true }], metadata };
  if (!Array.isArray(value.messages)) {
    if (typeof value.role === 'string') return { ok: true, system: undefined, messages: [{ value, number: 1, path: [], isResponse: false }], metadata };
    return { ok: false, error: { message: 'Anthropic Messages JSON needs "messages" (a request) or "type": "message" (a response)' } };
  }
  const messages: LocatedMessage[] = value.messages.map((m, i) => ({ value: m, number: i + 1, path: ['messages', i], isResponse: false }));
  if (isRecord(value.response) && value.response.type === 'message') {
    Object.assign(metadata, metadataOf(value.response));
    messages.push({ value: value.response, number: messages.length + 1, path: ['response'], isResponse: true });
  }
  if (messages.length === 0) return { ok: false, error: { message: 'The "messages" list is empty', path: ['messages'] } };
  return { ok: true, system: value.system, messages, metadata };
}

function metadataOf(value: JsonObject): TranscriptMetadata {
  const metadata: TranscriptMetadata = {};
  if (typeof value.model === 'string') metadata.model = value.model;
  if (typeof value.stop_reason === 'string') metadata.stopReason = value.stop_reason;
  return metadata;
}

function systemMessage(system: unknown, conversion: Conversion): { message?: DraftMessage } | { error: TranscriptParseError } {
  if (system === undefined || system === null || system === '') return {};
  if (typeof system === 'string') return { message: { role: 'system', parts: [{ type: 'text', text: system }] } };
  if (Array.isArray(system)) return { message: { role: 'system', parts: system.flatMap((block) => convertBlock(block, conversion)) } };
  return { error: { message: `"system" is of type ${typeof system}; expected text or a list of text blocks`, path: ['system'] } };
}

/** One Anthropic message can become several: each `tool_result` block is split out as a `tool` message, in order. */
function convertMessage(located: LocatedMessage, conversion: Conversion): DraftMessage[] | { error: TranscriptParseError } {
  const { value, number, path, isResponse } = located;
  if (!isRecord(value)) return { error: { message: `Message ${number} is not an object with "role" and "content"`, path } };
  const role = roleOf(value, isResponse, number);
  if (typeof role !== 'string') return { error: { ...role, path: [...path, 'role'] } };
  const content = value.content;
  if (typeof content === 'string') return [{ role, parts: content === '' ? [] : [{ type: 'text', text: content }] }];
  if (content === undefined || content === null) return [{ role, parts: [] }];
  if (!Array.isArray(content)) {
    return {
      error: {
        message: `Message ${number} has "content" of type ${typeof content}; expected text or a list of content blocks`,
        path: [...path, 'content'],
      },
    };
  }
  const messages: DraftMessage[] = [];
  let pending: TranscriptPart[] = [];
  for (const block of content) {
    if (isRecord(block) && block.type === 'tool_result') {
      if (pending.length > 0) messages.push({ role, parts: pending });
      pending = [];
      messages.push(toolResultMessage(block, conversion));
    } else {
      pending.push(...convertBlock(block, conversion));
    }
  }
  if (pending.length > 0 || messages.length === 0) messages.push({ role, parts: pending });
  return messages;
}

function roleOf(message: JsonObject, isResponse: boolean, number: number): AnthropicRole | { message: string } {
  if (isResponse && message.role === undefined) return 'assistant';
  if (typeof message.role !== 'string') return { message: `Message ${number} has no "role"; expected user or assistant` };
  const lowered = message.role.toLowerCase();
  if (lowered === 'user' || lowered === 'assistant') return lowered;
  const seen = `Message ${number} has role ${JSON.stringify(message.role)}`;
  if (lowered === 'system') return { message: `${seen}; Anthropic messages are user or assistant, and the system prompt goes in the top-level "system"` };
  return { message: `${seen}; expected user or assistant` };
}

function toolResultMessage(block: JsonObject, conversion: Conversion): DraftMessage {
  const toolCallId = typeof block.tool_use_id === 'string' ? block.tool_use_id : undefined;
  const texts: string[] = [];
  const extras: TranscriptPart[] = [];
  if (typeof block.content === 'string') texts.push(block.content);
  else if (Array.isArray(block.content)) {
    for (const inner of block.content) {
      if (isRecord(inner) && inner.type === 'text' && typeof inner.text === 'string') texts.push(inner.text);
      else extras.push(...convertBlock(inner, conversion));
    }
  }
  const result: TranscriptPart = {
    type: 'tool_result',
    ...(toolCallId === undefined ? {} : { toolCallId }),
    text: texts.join('\n'),
    ...(typeof block.is_error === 'boolean' ? { isError: block.is_error } : {}),
  };
  const name = toolCallId === undefined ? undefined : conversion.toolNamesById.get(toolCallId);
  return { role: 'tool', ...(name === undefined ? {} : { name }), parts: [result, ...extras] };
}

function convertBlock(block: unknown, conversion: Conversion): TranscriptPart[] {
  if (typeof block === 'string') return [{ type: 'text', text: block }];
  if (!isRecord(block)) return [{ type: 'other', originalType: block === null ? 'null' : typeof block, data: block }];
  switch (block.type) {
    case 'text':
      if (typeof block.text !== 'string') break;
      // Citations have no part of their own; an `other` part right after the text keeps them.
      return Array.isArray(block.citations) && block.citations.length > 0
        ? [{ type: 'text', text: block.text }, { type: 'other', originalType: 'citations', data: block.citations }]
        : [{ type: 'text', text: block.text }];
    case 'thinking': {
      const signature = typeof block.signature === 'string' ? { opaque: block.signature } : {};
      return [{ type: 'reasoning', text: typeof block.thinking === 'string' ? block.thinking : '', ...signature }];
    }
    case 'redacted_thinking':
      return [{ type: 'reasoning', text: '', ...(typeof block.data === 'string' ? { opaque: block.data } : {}) }];
    case 'tool_use': {
      const id = typeof block.id === 'string' ? block.id : undefined;
      const name = typeof block.name === 'string' ? block.name : '';
      if (id !== undefined && name !== '') conversion.toolNamesById.set(id, name);
      const input = typeof block.input === 'string' ? block.input : (JSON.stringify(block.input ?? {}) ?? '');
      return [{ type: 'tool_call', ...(id === undefined ? {} : { id }), name, arguments: input }];
    }
    case 'image': {
      const image = imagePart(block.source, conversion);
      if (image) return [image];
      break;
    }
  }
  return [{ type: 'other', originalType: typeof block.type === 'string' ? block.type : 'unknown', data: block }];
}

/** Base64 images can be megabytes; the raw paste keeps them, the transcript keeps only the media type. */
function imagePart(source: unknown, conversion: Conversion): TranscriptPart | undefined {
  if (!isRecord(source)) return undefined;
  if (source.type === 'url' && typeof source.url === 'string') return { type: 'image', url: source.url };
  if (source.type === 'base64') {
    conversion.inlineImageSeen = true;
    return typeof source.media_type === 'string' ? { type: 'image', mediaType: source.media_type } : { type: 'image' };
  }
  return undefined;
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
