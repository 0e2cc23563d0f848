import { errorMessage, eventJson, isObject, mergeDelta, type AssembledStream } from './assembled-stream.ts';
import type { SseEvent } from './sse-parser.ts';

type JsonObject = Record<string, unknown>;

interface ChoiceState {
  index: number;
  message?: JsonObject;
  text?: string;
  rest: JsonObject;
}

/**
 * Rebuilds the `chat.completion` object (or, for the legacy `/v1/completions`, the `text_completion`) from the
 * `chat.completion.chunk` events of an OpenAI-style stream: content, refusal and reasoning fragments joined,
 * tool-call fragments merged by their `index`, the finish reason, logprobs, and the usage of the final chunk
 * (present only when the caller asked for `stream_options.include_usage`). `data: [DONE]` marks the end; a chunk
 * carrying `error` (OpenAI, vLLM, llama.cpp and Ollama all send one when a stream fails midway) is an in-band error.
 */
export function assembleOpenAIChatStream(events: Iterable<SseEvent>): AssembledStream {
  const top: JsonObject = {};
  const choices = new Map<number, ChoiceState>();
  let error: string | null = null;
  let finished = false;
  let chunks = 0;
  for (const event of events) {
    if (event.data.trim() === '[DONE]') {
      finished = true;
      continue;
    }
    const chunk = eventJson(event);
    if (!chunk) continue;
    if (event.event === 'error' || (chunk.error !== undefined && chunk.error !== null)) {
      error = errorMessage(chunk);
      continue;
    }
    chunks++;
    for (const [key, value] of Object.entries(chunk)) {
      if (key === 'choices') continue;
      if (value !== null && value !== undefined) top[key] = value;
      else if (!(key in top)) top[key] = value ?? null;
    }
    if (Array.isArray(chunk.choices)) for (const choice of chunk.choices) if (isObject(choice)) addChoice(choices, choice);
  }
  if (chunks === 0) return { response: null, error, finished };
  const isCompletion = typeof top.object === 'string' && top.object.startsWith('text_completion');
  const { usage, ...fields } = top;
  const response: JsonObject = {
    ...fields,
    object: isCompletion ? 'text_completion' : 'chat.completion',
    choices: [...choices.values()].sort((a, b) => a.index - b.index).map(finalChoice),
    ...(usage !== undefined && usage !== null ? { usage } : {}),
  };
  return { response, error, finished };
}

function addChoice(choices: Map<number, ChoiceState>, choice: JsonObject): void {
  const index = typeof choice.index === 'number' ? choice.index : 0;
  let state = choices.get(index);
  if (!state) {
    state = { index, rest: { finish_reason: null } };
    choices.set(index, state);
  }
  for (const [key, value] of Object.entries(choice)) {
    if (key === 'index') continue;
    if (key === 'delta' && isObject(value)) addDelta((state.message ??= { role: 'assistant', content: null, refusal: null }), value);
    else if (key === 'text' && typeof value === 'string') state.text = (state.text ?? '') + value;
    else if (key === 'logprobs' && isObject(value)) {
      if (isObject(state.rest.logprobs)) mergeDelta(state.rest.logprobs, value);
      else state.rest.logprobs = structuredClone(value);
    } else if (value !== null && value !== undefined) state.rest[key] = value;
    else if (!(key in state.rest)) state.rest[key] = null;
  }
}

function addDelta(message: JsonObject, delta: JsonObject): void {
  // `content` and `refusal` start as null (as in a non-streamed message) and become text at their first fragment.
  const { tool_calls: toolCalls, ...rest } = delta;
  mergeDelta(message, rest);
  if (!Array.isArray(toolCalls)) return;
  const calls = (message.tool_calls ??= []) as JsonObject[];
  for (const fragment of toolCalls) {
    if (!isObject(fragment)) continue;
    const { index, ...call } = fragment;
    const at = typeof index === 'number' ? index : positionOf(calls, call.id);
    if (!calls[at]) calls[at] = { id: null, type: 'function', function: { name: '', arguments: '' } };
    mergeDelta(calls[at]!, call);
  }
}

/** Servers that send whole tool calls without an `index`: a known id continues its call, a new one opens the next. */
function positionOf(calls: JsonObject[], id: unknown): number {
  const known = typeof id === 'string' ? calls.findIndex((c) => c?.id === id) : -1;
  return known >= 0 ? known : calls.length;
}

function finalChoice(state: ChoiceState): JsonObject {
  const { finish_reason: finishReason, ...rest } = state.rest;
  if (state.message) {
    const calls = state.message.tool_calls;
    if (Array.isArray(calls)) state.message.tool_calls = calls.filter((c) => c !== undefined && c !== null);
    return { index: state.index, message: state.message, ...rest, finish_reason: finishReason ?? null, logprobs: rest.logprobs ?? null };
  }
  return { index: state.index, text: state.text ?? '', ...rest, finish_reason: finishReason ?? null, logprobs: rest.logprobs ?? null };
}
