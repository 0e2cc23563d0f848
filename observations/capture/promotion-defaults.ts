import { isRecord } from '../importers/build-record.ts';
import type { Transcript } from '../transcript.schema.ts';
import type { CaptureApi } from './capture.schema.ts';
import { parseObject } from './rebuild-exchange.ts';

/** The capture facts a promotion reads; the row and the presented view both have them. */
export interface PromotableCapture {
  api: CaptureApi;
  upstream: string;
  model: string | null;
  flag: string | null;
  requestBody: string;
  transcript: Transcript | null;
}

const TITLE_FROM_MESSAGE = 80;

/**
 * The title and surprise a promotion starts from: the flag (the note the caller attached as the call was made),
 * else the start of the first user message as the title and no surprise (the person says what was surprising).
 */
export function promotionDefaults(capture: PromotableCapture): { title: string; surprise: string } {
  const flag = capture.flag?.trim() ?? '';
  const firstUser = firstUserText(capture.transcript);
  const title = flag
    ? shorten(flag.split('\n')[0]!.trim(), 200)
    : firstUser
      ? shorten(firstUser, TITLE_FROM_MESSAGE)
      : shorten(`${capture.model ?? 'Model call'} via ${capture.upstream}`, 200);
  return { title, surprise: flag };
}

/**
 * Who provides the model: `anthropic` for the Anthropic API, `openai` for OpenAI's own API, and for any other
 * OpenAI-compatible server (Ollama, vLLM, llama.cpp) the upstream's name, which is what tells them apart.
 */
export function providerOf(capture: Pick<PromotableCapture, 'api' | 'upstream'>): string {
  const upstream = capture.upstream.trim().toLowerCase();
  if (capture.api === 'anthropic' || upstream === 'anthropic' || upstream.endsWith('anthropic.com')) return 'anthropic';
  if (upstream === 'openai' || upstream.endsWith('openai.com')) return 'openai';
  return shorten(capture.upstream.trim(), 100);
}

/** Request fields that shape sampling; nested objects (`thinking`, `reasoning`) are kept as `thinking.budget_tokens`. */
const SAMPLING_KEYS = [
  'temperature', 'top_p', 'top_k', 'min_p', 'max_tokens', 'max_completion_tokens', 'max_output_tokens', 'frequency_penalty',
  'presence_penalty', 'repetition_penalty', 'seed', 'stop', 'stop_sequences', 'n', 'logprobs', 'top_logprobs', 'reasoning_effort',
  'thinking', 'reasoning', 'response_format', 'tool_choice', 'parallel_tool_calls', 'service_tier', 'verbosity',
];

/** The sampling parameters the request set (as the observation's `sampling` accepts them: scalars, at most 30). */
export function samplingOf(requestBody: string): Record<string, string | number | boolean | null> {
  const request = parseObject(requestBody);
  const out: Record<string, string | number | boolean | null> = {};
  if (!request) return out;
  const put = (key: string, value: unknown) => {
    if (Object.keys(out).length >= 30 || value === undefined) return;
    if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[key] = value;
    else if (typeof value === 'string') out[key] = value.slice(0, 200);
    else if (Array.isArray(value)) out[key] = JSON.stringify(value).slice(0, 200);
  };
  for (const key of SAMPLING_KEYS) {
    const value = request[key];
    if (isRecord(value)) for (const [inner, v] of Object.entries(value)) put(`${key}.${inner}`.slice(0, 50), v);
    else put(key, value);
  }
  return out;
}

/** The names of the tools the request offered (OpenAI `function.name` or `name`, Anthropic `name`). */
export function toolNamesOf(requestBody: string): string[] {
  const tools = parseObject(requestBody)?.tools;
  if (!Array.isArray(tools)) return [];
  const names = tools.flatMap((t: unknown) => {
    if (!isRecord(t)) return [];
    const name = isRecord(t.function) ? t.function.name : t.name ?? t.type;
    return typeof name === 'string' && name ? [name.slice(0, 200)] : [];
  });
  return [...new Set(names)].slice(0, 50);
}

function firstUserText(transcript: Transcript | null): string {
  const message = transcript?.messages.find((m) => m.role === 'user' && m.parts.some((p) => p.type === 'text' && p.text.trim()));
  const part = message?.parts.find((p) => p.type === 'text' && p.text.trim());
  return part && part.type === 'text' ? part.text.replace(/\s+/g, ' ').trim() : '';
}

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '') + '…';
}

