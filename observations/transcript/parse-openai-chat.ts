import type { MessageRole, TranscriptPart } from '../transcript.schema.ts';
import type { DraftMessage, FormatEvidence, FormatParseResult, TranscriptMetadata, TranscriptParseError } from './parse-transcript.ts';

type JsonObject = Record<string, unknown>;
type JsonPath = (string | number)[];

/** A message found in the pasted JSON: its 1-based number (as people count) and where it sits. */
type LocatedMessage = { value: unknown; number: number; path: JsonPath };

type Located =
  | { ok: true; messages: LocatedMessage[]; metadata: TranscriptMetadata; warnings: string[] }
  | { ok: false; error: TranscriptParseError };

/** State shared while converting one transcript. */
type Conversion = { warnings: string[]; toolNamesById: Map<string, string>; inlineImageSeen: boolean };

const OPENAI_ROLES: readonly MessageRole[] = ['system', 'developer', 'user', 'assistant', 'tool'];
const ROLE_LIST = 'system, developer, user, assistant, tool';

/** Markers only OpenAI Chat Completions payloads carry. */
const OPENAI_ONLY_MESSAGE_KEYS = ['tool_calls', 'function_call', 'tool_call_id', 'refusal', 'reasoning_content'];
const OPENAI_ONLY_ROLES = ['system', 'developer', 'tool', 'function'];
const OPENAI_ONLY_PART_TYPES = ['image_url', 'input_audio', 'file', 'refusal'];

/**
 * Read OpenAI Chat Completions JSON: an array of messages, a request `{ model?, messages }`,
 * a response `{ choices: [{ message }] }` (choice 0), or a request with its response.
 */
export function parseOpenAIChat(value: unknown): FormatParseResult {
  const located = locateMessages(value);
  if (!located.ok) return located;
  const conversion: Conversion = { warnings: located.warnings, toolNamesById: new Map(), inlineImageSeen: false };
  const messages: DraftMessage[] = [];
  for (const message of located.messages) {
    const converted = convertMessage(message, conversion);
    if ('error' in converted) return { ok: false, error: converted.error };
    messages.push(converted);
  }
  if (conversion.inlineImageSeen) conversion.warnings.push(INLINE_IMAGE_WARNING);
  return { ok: true, messages, warnings: conversion.warnings, metadata: located.metadata };
}

/** How much parsed JSON looks like OpenAI Chat Completions (see `FormatEvidence`). */
export function openAIChatEvidence(value: unknown): FormatEvidence {
  const response = responseOf(value);
  const messages = Array.isArray(value) ? value : isRecord(value) && Array.isArray(value.messages) ? value.messages : undefined;
  const singleMessage = isRecord(value) && typeof value.role === 'string' && value.type !== 'message';
  const fits =
    response !== undefined ||
    singleMessage ||
    (messages !== undefined && messages.every((m) => isRecord(m) && 'role' in m && m.type !== 'message'));
  let score = 0;
  if (response) score += 3;
  if (isRecord(value) && typeof value.object === 'string' && value.object.startsWith('chat.completion')) score += 3;
  const all = [...(messages ?? []), ...(singleMessage ? [value] : []), ...(response ? choiceMessages(response) : [])];
  for (const message of all) {
    if (!isRecord(message)) continue;
    if (typeof message.role === 'string' && OPENAI_ONLY_ROLES.includes(message.role)) score += 1;
    score += OPENAI_ONLY_MESSAGE_KEYS.filter((key) => message[key] !== undefined && message[key] !== null).length;
    if (Array.isArray(message.content)) {
      score += message.content.filter((part) => isRecord(part) && OPENAI_ONLY_PART_TYPES.includes(String(part.type))).length;
    }
  }
  return { fits, score };
}

const INLINE_IMAGE_WARNING = 'Inline (base64) image data was left out of the transcript; only its media type was kept';

function locateMessages(value: unknown): Located {
  if (Array.isArray(value)) {
    if (value.length === 0) return { ok: false, error: { message: 'The JSON array is empty: it holds no messages' } };
    return { ok: true, messages: value.map((m, i) => ({ value: m, number: i + 1, path: [i] })), metadata: {}, warnings: [] };
  }
  if (!isRecord(value)) return { ok: false, error: { message: 'OpenAI chat JSON is an array of messages or an object with "messages" or "choices"' } };

  const messages: LocatedMessage[] = [];
  const warnings: string[] = [];
  const metadata: TranscriptMetadata = {};
  if (typeof value.model === 'string') metadata.model = value.model;

  if (Array.isArray(value.messages)) {
    value.messages.forEach((m, i) => messages.push({ value: m, number: i + 1, path: ['messages', i] }));
  }
  const response = responseOf(value);
  if (response) {
    const base: JsonPath = response === value ? [] : ['response'];
    const choices = response.choices as unknown[];
    const choice = choices[0];
    if (typeof response.model === 'string') metadata.model = response.model;
    if (String(response.object).startsWith('chat.completion.chunk')) {
      return { ok: false, error: { message: 'This is one chunk of a streamed response: paste the complete response or the messages instead', path: [...base, 'object'] } };
    }
    if (choices.length > 1) warnings.push(`The response has ${choices.length} choices; only the first was read`);
    if (choice === undefined) {
      if (messages.length === 0) return { ok: false, error: { message: 'The response has no choices, so there is no message to read', path: [...base, 'choices'] } };
      warnings.push('The response has no choices; only the request messages were read');
    } else if (!isRecord(choice) || !isRecord(choice.message)) {
      return { ok: false, error: { message: 'The first choice of the response has no "message"', path: [...base, 'choices', 0] } };
    } else {
      if (typeof choice.finish_reason === 'string') metadata.stopReason = choice.finish_reason;
      messages.push({ value: choice.message, number: messages.length + 1, path: [...base, 'choices', 0, 'message'] });
    }
  } else if (!Array.isArray(value.messages)) {
    if (typeof value.role === 'string') return { ok: true, messages: [{ value, number: 1, path: [] }], metadata, warnings };
    return { ok: false, error: { message: 'OpenAI chat JSON needs "messages" (a request) or "choices" (a response)' } };
  }
  if (messages.length === 0) return { ok: false, error: { message: 'The "messages" list is empty', path: ['messages'] } };
  return { ok: true, messages, metadata, warnings };
}

/** The response object: the value itself (`{ choices }`) or a `response` beside the request messages. */
function responseOf(value: unknown): JsonObject | undefined {
  if (!isRecord(value)) return undefined;
  if (Array.isArray(value.choices)) return value;
  if (isRecord(value.response) && Array.isArray(value.response.choices)) return value.response;
  return undefined;
}

function choiceMessages(response: JsonObject): unknown[] {
  return (response.choices as unknown[]).flatMap((choice) => (isRecord(choice) && isRecord(choice.message) ? [choice.message] : []));
}

function convertMessage(located: LocatedMessage, conversion: Conversion): DraftMessage | { error: TranscriptParseError } {
  const { value, number, path } = located;
  if (!isRecord(value)) return { error: { message: `Message ${number} is not an object with "role" and "content"`, path } };
  if (typeof value.role !== 'string') {
    return { error: { message: `Message ${number} has no "role"; expected one of ${ROLE_LIST}`, path: [...path, 'role'] } };
  }
  const lowered = value.role.toLowerCase();
  const role = (lowered === 'function' ? 'tool' : lowered) as MessageRole;
  if (!OPENAI_ROLES.includes(role)) {
    return { error: { message: `Message ${number} has role ${JSON.stringify(value.role)}; expected one of ${ROLE_LIST}`, path: [...path, 'role'] } };
  }
  const content = value.content;
  if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
    return {
      error: {
        message: `Message ${number} has "content" of type ${typeof content}; expected text or a list of content parts`,
        path: [...path, 'content'],
      },
    };
  }
  const contentParts = typeof content === 'string' ? (content === '' ? [] : [textPart(content)]) : (content ?? []).map((part) => convertPart(part, conversion));

  const parts = role === 'tool' ? toolReplyParts(value, contentParts) : [...reasoningParts(value), ...contentParts, ...assistantExtras(value, conversion)];
  const name = messageName(value, role, conversion);
  return name === undefined ? { role, parts } : { role, name, parts };
}

/** A tool reply becomes one `tool_result` holding its text; anything that is not text follows it unchanged. */
function toolReplyParts(message: JsonObject, contentParts: TranscriptPart[]): TranscriptPart[] {
  const texts = contentParts.flatMap((part) => (part.type === 'text' ? [part.text] : []));
  const rest = contentParts.filter((part) => part.type !== 'text');
  const toolCallId = typeof message.tool_call_id === 'string' ? { toolCallId: message.tool_call_id } : {};
  return [{ type: 'tool_result', ...toolCallId, text: texts.join('\n') }, ...rest];
}

/** Local servers (vLLM, DeepSeek, …) return the chain of thought beside the content; it reads first. */
function reasoningParts(message: JsonObject): TranscriptPart[] {
  const reasoning = typeof message.reasoning_content === 'string' ? message.reasoning_content : message.reasoning;
  return typeof reasoning === 'string' && reasoning !== '' ? [{ type: 'reasoning', text: reasoning }] : [];
}

function assistantExtras(message: JsonObject, conversion: Conversion): TranscriptPart[] {
  const parts: TranscriptPart[] = [];
  if (typeof message.refusal === 'string' && message.refusal !== '') parts.push({ type: 'refusal', text: message.refusal });
  if (Array.isArray(message.tool_calls)) parts.push(...message.tool_calls.map((call) => convertToolCall(call, conversion)));
  if (isRecord(message.function_call)) {
    const call = message.function_call;
    const name = stringOr(call.name, '');
    parts.push({ type: 'tool_call', name, arguments: argumentsText(call.arguments) });
  }
  if (isRecord(message.audio)) parts.push({ type: 'other', originalType: 'audio', data: message.audio });
  if (Array.isArray(message.annotations) && message.annotations.length > 0) {
    parts.push({ type: 'other', originalType: 'annotations', data: message.annotations });
  }
  return parts;
}

function convertToolCall(call: unknown, conversion: Conversion): TranscriptPart {
  if (!isRecord(call)) return { type: 'other', originalType: 'tool_call', data: call };
  const id = typeof call.id === 'string' ? { id: call.id } : {};
  const spec = isRecord(call.function) ? call.function : isRecord(call.custom) ? call.custom : undefined;
  if (!spec) return { type: 'other', originalType: typeof call.type === 'string' ? call.type : 'tool_call', data: call };
  const name = stringOr(spec.name, '');
  if (typeof call.id === 'string' && name !== '') conversion.toolNamesById.set(call.id, name);
  // Custom tools send free-form `input`; function tools send `arguments` as a JSON string, kept exactly as written.
  const args = isRecord(call.function) ? spec.arguments : spec.input;
  return { type: 'tool_call', ...id, name, arguments: argumentsText(args) };
}

function convertPart(part: unknown, conversion: Conversion): TranscriptPart {
  if (typeof part === 'string') return textPart(part);
  if (!isRecord(part)) return { type: 'other', originalType: part === null ? 'null' : typeof part, data: part };
  if (part.type === 'text' && typeof part.text === 'string') return textPart(part.text);
  if (part.type === 'refusal' && typeof part.refusal === 'string') return { type: 'refusal', text: part.refusal };
  if (part.type === 'image_url') {
    const url = isRecord(part.image_url) ? part.image_url.url : part.image_url;
    if (typeof url === 'string') return imagePart(url, conversion);
  }
  return { type: 'other', originalType: typeof part.type === 'string' ? part.type : 'unknown', data: part };
}

/** Inline base64 images can be megabytes; the raw paste keeps them, the transcript keeps only the media type. */
function imagePart(url: string, conversion: Conversion): TranscriptPart {
  if (!url.startsWith('data:')) return { type: 'image', url };
  conversion.inlineImageSeen = true;
  const mediaType = /^data:([^;,]{1,100})/.exec(url)?.[1];
  return mediaType ? { type: 'image', mediaType } : { type: 'image' };
}

function messageName(message: JsonObject, role: MessageRole, conversion: Conversion): string | undefined {
  if (typeof message.name === 'string') return message.name;
  if (role === 'tool' && typeof message.tool_call_id === 'string') return conversion.toolNamesById.get(message.tool_call_id);
  return undefined;
}

function textPart(text: string): TranscriptPart {
  return { type: 'text', text };
}

function argumentsText(args: unknown): string {
  if (typeof args === 'string') return args;
  if (args === undefined || args === null) return '';
  return JSON.stringify(args) ?? '';
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
