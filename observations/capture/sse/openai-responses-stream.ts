import { errorMessage, eventJson, isObject, type AssembledStream } from './assembled-stream.ts';
import type { SseEvent } from './sse-parser.ts';

type JsonObject = Record<string, unknown>;

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const SNAPSHOT = new Set(['response.created', 'response.in_progress', 'response.queued']);

/**
 * Rebuilds the `response` object of an OpenAI Responses stream. `response.completed` (or `.incomplete`,
 * `.failed`) carries the whole final response, so it is used as sent; a stream cut before it is rebuilt from the
 * last response snapshot plus the output items and their deltas (text, refusal, function-call arguments,
 * reasoning summaries and reasoning text) as far as they arrived. `error` events and `response.failed` are
 * in-band errors.
 */
export function assembleOpenAIResponsesStream(events: Iterable<SseEvent>): AssembledStream {
  let snapshot: JsonObject | null = null;
  let final: JsonObject | null = null;
  let error: string | null = null;
  const output: JsonObject[] = [];
  for (const event of events) {
    const data = eventJson(event);
    if (!data) continue;
    const type = typeof data.type === 'string' ? data.type : event.event;
    if (type === 'error' || event.event === 'error') {
      error = errorMessage(data);
      continue;
    }
    const response = isObject(data.response) ? data.response : null;
    if (TERMINAL.has(type) && response) {
      final = response;
      if (type === 'response.failed') error = response.error ? errorMessage(response.error) : 'The response failed.';
    } else if (SNAPSHOT.has(type) && response) snapshot = response;
    else applyItemEvent(output, type, data);
  }
  const finished = final !== null || error !== null;
  if (final) return { response: final, error, finished };
  if (!snapshot && output.length === 0) return { response: null, error, finished };
  return { response: { ...(snapshot ?? { object: 'response' }), output: output.filter(Boolean) }, error, finished };
}

function applyItemEvent(output: JsonObject[], type: string, data: JsonObject): void {
  if (type === 'response.output_item.added' || type === 'response.output_item.done') {
    if (isObject(data.item) && typeof data.output_index === 'number') output[data.output_index] = structuredClone(data.item);
    return;
  }
  const item = itemOf(output, data);
  if (!item) return;
  const delta = typeof data.delta === 'string' ? data.delta : '';
  switch (type) {
    case 'response.content_part.added':
    case 'response.content_part.done':
      if (isObject(data.part)) listOf(item, 'content')[indexOf(data.content_index)] = structuredClone(data.part);
      return;
    case 'response.output_text.delta':
      appendTo(partOf(item, 'content', data.content_index, { type: 'output_text', text: '', annotations: [] }), 'text', delta);
      return;
    case 'response.output_text.done':
      if (typeof data.text === 'string') partOf(item, 'content', data.content_index, { type: 'output_text', annotations: [] }).text = data.text;
      return;
    case 'response.output_text.annotation.added':
      listOf(partOf(item, 'content', data.content_index, { type: 'output_text', text: '' }), 'annotations').push(data.annotation);
      return;
    case 'response.refusal.delta':
      appendTo(partOf(item, 'content', data.content_index, { type: 'refusal', refusal: '' }), 'refusal', delta);
      return;
    case 'response.refusal.done':
      if (typeof data.refusal === 'string') partOf(item, 'content', data.content_index, { type: 'refusal' }).refusal = data.refusal;
      return;
    case 'response.function_call_arguments.delta':
    case 'response.custom_tool_call_input.delta':
      appendTo(item, type.startsWith('response.custom') ? 'input' : 'arguments', delta);
      return;
    case 'response.function_call_arguments.done':
      if (typeof data.arguments === 'string') item.arguments = data.arguments;
      return;
    case 'response.reasoning_summary_part.added':
    case 'response.reasoning_summary_part.done':
      if (isObject(data.part)) listOf(item, 'summary')[indexOf(data.summary_index)] = structuredClone(data.part);
      return;
    case 'response.reasoning_summary_text.delta':
      appendTo(partOf(item, 'summary', data.summary_index, { type: 'summary_text', text: '' }), 'text', delta);
      return;
    case 'response.reasoning_summary_text.done':
      if (typeof data.text === 'string') partOf(item, 'summary', data.summary_index, { type: 'summary_text' }).text = data.text;
      return;
    case 'response.reasoning_text.delta':
      appendTo(partOf(item, 'content', data.content_index, { type: 'reasoning_text', text: '' }), 'text', delta);
      return;
    case 'response.reasoning_text.done':
      if (typeof data.text === 'string') partOf(item, 'content', data.content_index, { type: 'reasoning_text' }).text = data.text;
      return;
  }
}

function itemOf(output: JsonObject[], data: JsonObject): JsonObject | undefined {
  if (typeof data.output_index === 'number' && output[data.output_index]) return output[data.output_index];
  return typeof data.item_id === 'string' ? output.find((item) => item?.id === data.item_id) : undefined;
}

const indexOf = (value: unknown): number => (typeof value === 'number' && value >= 0 ? value : 0);

function listOf(owner: JsonObject, key: string): unknown[] {
  if (!Array.isArray(owner[key])) owner[key] = [];
  return owner[key] as unknown[];
}

function partOf(item: JsonObject, key: string, index: unknown, blank: JsonObject): JsonObject {
  const list = listOf(item, key);
  const at = indexOf(index);
  if (!isObject(list[at])) list[at] = { ...blank };
  return list[at] as JsonObject;
}

function appendTo(owner: JsonObject, key: string, text: string): void {
  owner[key] = (typeof owner[key] === 'string' ? owner[key] : '') + text;
}
