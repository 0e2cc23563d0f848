import type { SseEvent } from './sse-parser.ts';

type JsonObject = Record<string, unknown>;

/** What a stream's events add up to. */
export interface AssembledStream {
  /** The final response object, as the non-streaming endpoint would have answered it (null when nothing usable arrived). */
  response: JsonObject | null;
  /** The message of an error the upstream sent inside the stream (after answering 200), when it did. */
  error: string | null;
  /** Whether the stream's own end marker arrived (`[DONE]`, `message_stop`, `response.completed`...). */
  finished: boolean;
}

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The event's data as a JSON object, or null (comments, `[DONE]`, or a line cut short). */
export function eventJson(event: SseEvent): JsonObject | null {
  const data = event.data;
  if (data === '' || (data.charCodeAt(0) !== 123 /* { */ && data.trimStart()[0] !== '{')) return null;
  try {
    const value: unknown = JSON.parse(data);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** An error payload in words: `{error: {message}}`, `{error: "text"}`, `{message}`, or the JSON itself. */
export function errorMessage(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isObject(value)) {
    if ('error' in value && value.error !== undefined && value.error !== null) return errorMessage(value.error);
    const type = typeof value.type === 'string' && value.type !== 'error' ? `${value.type}: ` : '';
    if (typeof value.message === 'string') return type + value.message;
  }
  return JSON.stringify(value);
}

/**
 * Merges a streamed delta into what has arrived so far: text fragments are appended, arrays concatenated,
 * objects merged the same way, and identity fields (ids, types, roles, names) set rather than appended, since
 * some OpenAI-compatible servers repeat them in every fragment.
 */
export function mergeDelta(target: JsonObject, delta: JsonObject): void {
  for (const [key, value] of Object.entries(delta)) {
    if (value === null || value === undefined) {
      if (!(key in target)) target[key] = value ?? null;
      continue;
    }
    const current = target[key];
    if (typeof value === 'string' && typeof current === 'string' && !SET_ONCE.has(key)) target[key] = current + value;
    else if (Array.isArray(value) && Array.isArray(current)) target[key] = [...current, ...value];
    else if (isObject(value) && isObject(current)) mergeDelta(current, value);
    else target[key] = isObject(value) ? structuredClone(value) : Array.isArray(value) ? [...value] : value;
  }
}

const SET_ONCE = new Set(['id', 'type', 'role', 'name', 'index', 'call_id', 'item_id', 'model', 'object', 'status']);
