import { eventJson, isObject } from './assembled-stream.ts';
import { SseParser, type SseEvent } from './sse-parser.ts';

/**
 * Watches a stream's bytes as they pass through the proxy until the first event that carries model output (a
 * token), so time to first token can be stamped on the chunk that brought it. It parses only until then: the
 * rest of the stream is forwarded without being looked at.
 */
export class FirstTokenWatch {
  private readonly parser = new SseParser();

  /** True when this chunk completed the stream's first content event. */
  push(chunk: Uint8Array): boolean {
    return this.parser.push(chunk).some(carriesOutput);
  }
}

/**
 * Whether an event carries model output: an Anthropic `content_block_delta`, a Responses `*.delta`, or a Chat
 * Completions chunk whose delta holds text, a refusal, reasoning or a tool call (the first chunk usually holds
 * only the role).
 */
export function carriesOutput(event: SseEvent): boolean {
  if (event.event === 'content_block_delta' || (event.event.startsWith('response.') && event.event.endsWith('.delta'))) return true;
  if (event.event !== 'message') return false;
  const data = eventJson(event);
  if (!data) return false;
  if (typeof data.type === 'string') return data.type === 'content_block_delta' || (data.type.startsWith('response.') && data.type.endsWith('.delta'));
  if (!Array.isArray(data.choices)) return false;
  return data.choices.some((choice) => {
    if (!isObject(choice)) return false;
    if (typeof choice.text === 'string') return choice.text !== '';
    if (!isObject(choice.delta)) return false;
    return Object.entries(choice.delta).some(([key, value]) =>
      key === 'tool_calls' || key === 'function_call' ? value !== null && value !== undefined : key !== 'role' && typeof value === 'string' && value !== '',
    );
  });
}
