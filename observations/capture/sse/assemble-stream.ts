import type { CaptureApi } from '../capture.schema.ts';
import { assembleAnthropicMessagesStream } from './anthropic-messages-stream.ts';
import { eventJson, type AssembledStream } from './assembled-stream.ts';
import { assembleOpenAIChatStream } from './openai-chat-stream.ts';
import { assembleOpenAIResponsesStream } from './openai-responses-stream.ts';
import { parseSse, type SseEvent } from './sse-parser.ts';

export type { AssembledStream } from './assembled-stream.ts';

/** The three stream dialects the field log can rebuild. */
export type StreamDialect = 'openai-chat' | 'openai-responses' | 'anthropic-messages';

const ANTHROPIC_EVENTS = new Set(['message_start', 'content_block_start', 'content_block_delta', 'message_delta', 'message_stop']);

/**
 * Which dialect a stream speaks, read from its first recognisable event (so an OpenAI-compatible server on an
 * unusual path is still understood), else guessed from the API and path.
 */
export function streamDialect(api: CaptureApi, path: string, events: SseEvent[]): StreamDialect {
  for (const event of events.slice(0, 20)) {
    if (ANTHROPIC_EVENTS.has(event.event)) return 'anthropic-messages';
    if (event.event.startsWith('response.')) return 'openai-responses';
    const data = eventJson(event);
    if (!data) continue;
    const type = typeof data.type === 'string' ? data.type : '';
    if (ANTHROPIC_EVENTS.has(type)) return 'anthropic-messages';
    if (type.startsWith('response.')) return 'openai-responses';
    if (Array.isArray(data.choices) || (typeof data.object === 'string' && data.object.includes('completion'))) return 'openai-chat';
  }
  if (api === 'anthropic') return 'anthropic-messages';
  return /\/responses\/?$/.test(path) ? 'openai-responses' : 'openai-chat';
}

/** Rebuilds the final response object of a stream from its raw SSE text (see each dialect's assembler). */
export function assembleStream(api: CaptureApi, path: string, sseText: string): AssembledStream {
  const events = parseSse(sseText);
  switch (streamDialect(api, path, events)) {
    case 'anthropic-messages':
      return assembleAnthropicMessagesStream(events);
    case 'openai-responses':
      return assembleOpenAIResponsesStream(events);
    case 'openai-chat':
      return assembleOpenAIChatStream(events);
  }
}
