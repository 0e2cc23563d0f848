import type { MessageRole, TranscriptPart } from '../transcript.schema.ts';
import type { DraftMessage } from '../transcript/parse-transcript.ts';
import { dateOf, isRecord, parseJson, stringOf, type DraftResult, type JsonObject } from './build-record.ts';
import { readDocuments } from './read-documents.ts';
import type { SourceReader } from './read-source.ts';

/**
 * OpenAI Responses API: a request (`input`, `instructions`), a response (`object: "response"`, `output`),
 * a request with its `response`, or a bare array of items. One record per document, as for Chat Completions.
 * Items: messages (parts `input_text`/`output_text`/`refusal`/images, `phase`), `function_call` and
 * `function_call_output` (joined by `call_id`), custom tool calls, `reasoning` (summaries as text,
 * `encrypted_content` kept opaque); every other item (web search, file search, computer, MCP, shell…) is kept
 * as an `other` part with its JSON.
 */
export async function* importOpenAIResponses(reader: SourceReader): AsyncGenerator<DraftResult> {
  for await (const document of readDocuments(reader, 'OpenAI Responses JSON', isItem)) {
    if ('problem' in document) yield { index: document.index, reason: document.problem };
    else yield openAIResponsesDraft(document.raw, document.index);
  }
}

type Conversion = { messages: DraftMessage[]; toolNames: Map<string, string>; warnings: string[] };

const USER_SIDE_ITEMS = new Set(['computer_call_output', 'local_shell_call_output', 'shell_call_output', 'mcp_approval_response', 'apply_patch_call_output', 'item_reference']);

/** One Responses exchange (its raw JSON text) as a record draft. */
export function openAIResponsesDraft(raw: string, index: number): DraftResult {
  const json = parseJson(raw);
  if (!json.ok) return { index, reason: json.reason };
  const value = json.value;
  const request = Array.isArray(value) ? { input: value } : isRecord(value) && value.object !== 'response' ? value : undefined;
  const response = isRecord(value) && value.object === 'response' ? value : request && isRecord(request.response) ? request.response : undefined;
  if (!request && !response) return { index, reason: 'An OpenAI Responses record is a request with "input", a response with "output", or an array of items' };
  const conversion: Conversion = { messages: [], toolNames: new Map(), warnings: [] };
  if (request) {
    if (typeof request.instructions === 'string' && request.instructions !== '') push(conversion, 'system', [{ type: 'text', text: request.instructions }]);
    if (typeof request.input === 'string') push(conversion, 'user', [{ type: 'text', text: request.input }]);
    else if (Array.isArray(request.input)) request.input.forEach((item) => convertItem(item, conversion));
    else if (request.input !== undefined) return { index, reason: '"input" must be text or a list of items' };
  }
  if (response) {
    if (!request && typeof response.instructions === 'string' && response.instructions !== '') {
      push(conversion, 'system', [{ type: 'text', text: response.instructions }]);
    }
    if (!Array.isArray(response.output)) return { index, reason: 'The response has no "output" list' };
    response.output.forEach((item) => convertItem(item, conversion));
  }
  const model = stringOf(response?.model) ?? stringOf(request?.model);
  const created = dateOf(response?.created_at);
  const incomplete = isRecord(response?.incomplete_details) ? stringOf(response.incomplete_details.reason) : undefined;
  const stopReason = incomplete ?? stringOf(response?.status);
  const recordId = stringOf(response?.id);
  return {
    index,
    raw,
    messages: conversion.messages,
    transcriptFormat: 'menagerie',
    ...(recordId ? { recordId } : {}),
    ...(stringOf(request?.previous_response_id) ? { conversationId: stringOf(request?.previous_response_id) } : {}),
    ...(created ? { observedAt: created, createdAt: created.toISOString() } : {}),
    ...(model ? { model } : {}),
    provider: 'openai',
    ...(stopReason ? { stopReason } : {}),
    source: response?.usage !== undefined ? { usage: response.usage } : {},
    warnings: conversion.warnings,
  };
}

function convertItem(item: unknown, conversion: Conversion): void {
  if (typeof item === 'string') return push(conversion, 'user', [{ type: 'text', text: item }]);
  if (!isRecord(item)) return push(conversion, 'user', [{ type: 'other', originalType: item === null ? 'null' : typeof item, data: item }]);
  const type = typeof item.type === 'string' ? item.type : typeof item.role === 'string' ? 'message' : 'unknown';
  switch (type) {
    case 'message':
      return convertMessage(item, conversion);
    case 'function_call':
    case 'custom_tool_call': {
      const id = stringOf(item.call_id) ?? stringOf(item.id);
      const name = typeof item.name === 'string' ? item.name : '';
      if (id && name) conversion.toolNames.set(id, name);
      const args = type === 'function_call' ? item.arguments : item.input;
      const text = typeof args === 'string' ? args : args === undefined ? '' : (JSON.stringify(args) ?? '');
      return push(conversion, 'assistant', [{ type: 'tool_call', ...(id ? { id } : {}), name, arguments: text }]);
    }
    case 'function_call_output':
    case 'custom_tool_call_output': {
      const id = stringOf(item.call_id);
      const { text, extras } = outputParts(item.output);
      const name = id ? conversion.toolNames.get(id) : undefined;
      const status = item.status === 'incomplete' ? { isError: true } : {};
      conversion.messages.push({
        role: 'tool',
        ...(name ? { name } : {}),
        parts: [{ type: 'tool_result', ...(id ? { toolCallId: id } : {}), text, ...status }, ...extras],
      });
      return;
    }
    case 'reasoning':
      return push(conversion, 'assistant', [reasoningPart(item)]);
    default:
      return push(conversion, USER_SIDE_ITEMS.has(type) ? 'tool' : 'assistant', [{ type: 'other', originalType: type, data: item }]);
  }
}

function convertMessage(item: JsonObject, conversion: Conversion): void {
  const role = roleOf(item.role);
  if (!role) {
    conversion.warnings.push(`A message with role ${JSON.stringify(item.role)} was kept as an "other" part of a user message`);
    return push(conversion, 'user', [{ type: 'other', originalType: 'message', data: item }]);
  }
  const parts: TranscriptPart[] = [];
  if (typeof item.content === 'string') parts.push({ type: 'text', text: item.content });
  else if (Array.isArray(item.content)) item.content.forEach((part) => parts.push(...contentParts(part)));
  if (typeof item.phase === 'string') parts.push({ type: 'other', originalType: 'phase', data: item.phase });
  // Consecutive assistant output items read as one turn; user, system and developer messages stay separate.
  if (role === 'assistant') push(conversion, 'assistant', parts);
  else conversion.messages.push({ role, parts });
}

function contentParts(part: unknown): TranscriptPart[] {
  if (!isRecord(part)) return [{ type: 'other', originalType: part === null ? 'null' : typeof part, data: part }];
  switch (part.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      if (typeof part.text !== 'string') break;
      return Array.isArray(part.annotations) && part.annotations.length > 0
        ? [{ type: 'text', text: part.text }, { type: 'other', originalType: 'annotations', data: part.annotations }]
        : [{ type: 'text', text: part.text }];
    case 'refusal':
      if (typeof part.refusal === 'string') return [{ type: 'refusal', text: part.refusal }];
      break;
    case 'input_image':
      if (typeof part.image_url === 'string' && !part.image_url.startsWith('data:')) return [{ type: 'image', url: part.image_url }];
      if (typeof part.image_url === 'string') {
        const mediaType = /^data:([^;,]{1,100})/.exec(part.image_url)?.[1];
        return [{ type: 'image', ...(mediaType ? { mediaType } : {}) }];
      }
      break;
  }
  return [{ type: 'other', originalType: typeof part.type === 'string' ? part.type : 'unknown', data: part }];
}

function reasoningPart(item: JsonObject): TranscriptPart {
  const texts = (list: unknown) =>
    Array.isArray(list) ? list.flatMap((entry) => (isRecord(entry) && typeof entry.text === 'string' ? [entry.text] : [])) : [];
  // Full reasoning text (open-weight models) reads before the summaries when both are present.
  const text = [...texts(item.content), ...texts(item.summary)].join('\n\n');
  const opaque = stringOf(item.encrypted_content);
  return { type: 'reasoning', text, ...(opaque ? { opaque } : {}) };
}

function outputParts(output: unknown): { text: string; extras: TranscriptPart[] } {
  if (typeof output === 'string') return { text: output, extras: [] };
  if (!Array.isArray(output)) return { text: '', extras: output === undefined ? [] : [{ type: 'other', originalType: 'output', data: output }] };
  const texts: string[] = [];
  const extras: TranscriptPart[] = [];
  for (const part of output) {
    const converted = contentParts(part);
    for (const p of converted) {
      if (p.type === 'text') texts.push(p.text);
      else extras.push(p);
    }
  }
  return { text: texts.join('\n'), extras };
}

/** Append parts to the last message when it has the same role (assistant turns are several items), else start one. */
function push(conversion: Conversion, role: MessageRole, parts: TranscriptPart[]): void {
  const last = conversion.messages.at(-1);
  if (last && last.role === role && role === 'assistant') last.parts.push(...parts);
  else conversion.messages.push({ role, parts });
}

function roleOf(role: unknown): MessageRole | undefined {
  return role === 'user' || role === 'assistant' || role === 'system' || role === 'developer' ? role : undefined;
}

function isItem(value: unknown): boolean {
  return isRecord(value) && (typeof value.role === 'string' || typeof value.type === 'string');
}
