import { errorMessage, eventJson, isObject, mergeDelta, type AssembledStream } from './assembled-stream.ts';
import type { SseEvent } from './sse-parser.ts';

type JsonObject = Record<string, unknown>;

/**
 * Rebuilds the `Message` of an Anthropic Messages stream: `message_start` gives the message (and input usage),
 * each content block is opened by `content_block_start` and grown by its deltas (`text_delta`,
 * `input_json_delta` joined and parsed at `content_block_stop`, `thinking_delta` and `signature_delta`, kept
 * whole, `citations_delta` appended), `message_delta` brings the stop reason and the output usage, and
 * `message_stop` ends it. An `error` event (sent after a 200, e.g. `overloaded_error`) is an in-band error.
 * Tool input whose JSON never completed (a stream cut short) stays as text in the block's `partial_json`.
 */
export function assembleAnthropicMessagesStream(events: Iterable<SseEvent>): AssembledStream {
  let message: JsonObject | null = null;
  const blocks: JsonObject[] = [];
  const partialJson = new Map<number, string>();
  let error: string | null = null;
  let finished = false;
  for (const event of events) {
    const data = eventJson(event);
    if (!data) continue;
    const type = typeof data.type === 'string' ? data.type : event.event;
    const index = typeof data.index === 'number' ? data.index : 0;
    switch (type) {
      case 'message_start':
        if (isObject(data.message)) {
          message = structuredClone(data.message);
          if (Array.isArray(message.content)) message.content.forEach((b, i) => isObject(b) && (blocks[i] = b));
        }
        break;
      case 'content_block_start':
        if (isObject(data.content_block)) blocks[index] = structuredClone(data.content_block);
        break;
      case 'content_block_delta':
        if (isObject(data.delta)) addDelta(blockAt(blocks, index, data.delta), data.delta, index, partialJson);
        break;
      case 'content_block_stop':
        finishJson(blocks[index], partialJson, index);
        break;
      case 'message_delta':
        message ??= { type: 'message', role: 'assistant' };
        if (isObject(data.delta)) for (const [key, value] of Object.entries(data.delta)) if (value !== undefined) message[key] = value;
        if (isObject(data.usage)) {
          const usage = (isObject(message.usage) ? message.usage : (message.usage = {})) as JsonObject;
          // message_delta usage counts are cumulative: they replace the message_start figures they repeat.
          for (const [key, value] of Object.entries(data.usage)) if (value !== null && value !== undefined) usage[key] = value;
        }
        break;
      case 'message_stop':
        finished = true;
        break;
      case 'error':
        error = errorMessage(data);
        finished = true;
        break;
    }
  }
  for (const index of partialJson.keys()) finishJson(blocks[index], partialJson, index);
  const content = blocks.filter((b) => b !== undefined && b !== null);
  if (!message && content.length === 0) return { response: null, error, finished };
  return { response: { ...(message ?? { type: 'message', role: 'assistant' }), content }, error, finished };
}

/** The block a delta grows; a delta whose start never arrived opens a block of the kind it implies. */
function blockAt(blocks: JsonObject[], index: number, delta: JsonObject): JsonObject {
  if (!blocks[index]) {
    blocks[index] =
      delta.type === 'thinking_delta' || delta.type === 'signature_delta'
        ? { type: 'thinking', thinking: '', signature: '' }
        : delta.type === 'input_json_delta'
          ? { type: 'tool_use', input: {} }
          : { type: 'text', text: '' };
  }
  return blocks[index]!;
}

function addDelta(block: JsonObject, delta: JsonObject, index: number, partialJson: Map<number, string>): void {
  switch (delta.type) {
    case 'text_delta':
      append(block, 'text', delta.text);
      return;
    case 'thinking_delta':
      append(block, 'thinking', delta.thinking);
      return;
    case 'signature_delta':
      append(block, 'signature', delta.signature);
      return;
    case 'input_json_delta':
      partialJson.set(index, (partialJson.get(index) ?? '') + (typeof delta.partial_json === 'string' ? delta.partial_json : ''));
      return;
    case 'citations_delta':
      block.citations = [...(Array.isArray(block.citations) ? block.citations : []), delta.citation];
      return;
    default: {
      const { type: _type, ...rest } = delta;
      mergeDelta(block, rest);
    }
  }
}

function append(block: JsonObject, key: string, text: unknown): void {
  if (typeof text !== 'string') return;
  block[key] = (typeof block[key] === 'string' ? block[key] : '') + text;
}

function finishJson(block: JsonObject | undefined, partialJson: Map<number, string>, index: number): void {
  const text = partialJson.get(index);
  partialJson.delete(index);
  if (!block || text === undefined || text === '') return;
  try {
    block.input = JSON.parse(text);
  } catch {
    block.partial_json = text;
  }
}
