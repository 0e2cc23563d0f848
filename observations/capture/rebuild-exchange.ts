import { anthropicMessagesDraft } from '../importers/anthropic-messages.importer.ts';
import { buildRecord, isFailure, isRecord, type DraftResult } from '../importers/build-record.ts';
import { openAIChatDraft } from '../importers/openai-chat.importer.ts';
import { openAIResponsesDraft } from '../importers/openai-responses.importer.ts';
import type { Transcript } from '../transcript.schema.ts';
import type { CaptureApi, CaptureEndReason, CaptureOutcome, CaptureUsage } from './capture.schema.ts';
import { assembleStream } from './sse/assemble-stream.ts';

/** What the field log derives from an exchange's raw text: never required, so a capture is stored even when none of it can be read. */
export interface RebuiltExchange {
  /** The final response object (for a stream: assembled from its events). */
  rebuilt: Record<string, unknown> | null;
  transcript: Transcript | null;
  model: string | null;
  usage: CaptureUsage | null;
  /** Why no transcript could be made, when none was. */
  problem?: string;
  /** For a stream: the error the upstream sent inside it (after answering 200), when it did. */
  streamError?: string;
}

export interface ExchangeText {
  api: CaptureApi;
  /** The API path from its root, e.g. `/v1/chat/completions`. */
  path: string;
  requestBody: string;
  /** The response body as it arrived (JSON text; for streams the raw SSE text). */
  responseBody: string;
  streamed: boolean;
}

/**
 * Rebuilds the response object, the transcript, the model and the usage of one exchange from its raw text, with
 * the same parsers the importers use. Streams are assembled into the final response object first.
 */
export function rebuildExchange(exchange: ExchangeText): RebuiltExchange {
  const request = parseObject(exchange.requestBody);
  const stream = exchange.streamed ? assembleStream(exchange.api, exchange.path, exchange.responseBody) : null;
  const response = stream ? stream.response : parseObject(exchange.responseBody);
  const model = stringField(response, 'model') ?? stringField(request, 'model');
  const usage = response ? usageOf(exchange.api, response) : null;
  const base = { rebuilt: response, model, usage, ...(stream?.error ? { streamError: stream.error } : {}) };
  const kind = endpointKind(exchange.api, exchange.path);
  if (!kind || !request) return { ...base, transcript: null, problem: kind ? 'The request is not a JSON object.' : `No transcript is made for ${exchange.path}.` };
  const raw = JSON.stringify(response ? { ...request, response } : request);
  const draft: DraftResult =
    kind === 'chat' ? openAIChatDraft(raw, 0) : kind === 'responses' ? openAIResponsesDraft(raw, 0) : anthropicMessagesDraft(raw, 0);
  if (isFailure(draft)) return { ...base, transcript: null, problem: draft.reason };
  const record = buildRecord(draft, 'capture', kind === 'chat' ? 'openai-chat' : kind === 'responses' ? 'openai-responses' : 'anthropic-messages');
  if (record.kind === 'failure') return { ...base, transcript: null, problem: record.reason };
  return { ...base, transcript: record.transcript, model: model ?? record.model };
}

/**
 * How the exchange really ended: a stream that answered 200 and then carried an `error` event (an Anthropic
 * `overloaded_error`, an OpenAI error chunk) failed, whatever its HTTP status said, so it is an `error` with
 * `upstream_error`, its message added to the capture's error.
 */
export function settleOutcome(
  reported: { outcome: CaptureOutcome; endReason: CaptureEndReason; error: string | null },
  rebuilt: Pick<RebuiltExchange, 'streamError'>,
): { outcome: CaptureOutcome; endReason: CaptureEndReason; error: string | null } {
  if (!rebuilt.streamError || reported.outcome === 'error') return reported;
  const note = `The upstream sent an error inside the stream: ${rebuilt.streamError}`.slice(0, 2000);
  return { outcome: 'error', endReason: 'upstream_error', error: reported.error ? `${reported.error}\n${note}` : note };
}

type EndpointKind = 'chat' | 'responses' | 'messages';

function endpointKind(api: CaptureApi, path: string): EndpointKind | null {
  const p = path.replace(/\/+$/, '');
  if (api === 'anthropic') return p.endsWith('/messages') ? 'messages' : null;
  if (p.endsWith('/chat/completions')) return 'chat';
  if (p.endsWith('/responses')) return 'responses';
  return null;
}

/** The JSON object a text holds, or null when it is not JSON or not an object. */
export function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

function stringField(value: Record<string, unknown> | null, key: string): string | null {
  const v = value?.[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/** Usage as reported; counts the upstream did not report stay absent (unknown), never 0. */
function usageOf(api: CaptureApi, response: Record<string, unknown>): CaptureUsage | null {
  const u = response.usage;
  if (!isRecord(u)) return null;
  const usage: CaptureUsage = {};
  const set = (key: keyof CaptureUsage, v: unknown) => {
    const n = count(v);
    if (n !== undefined) usage[key] = n;
  };
  if (api === 'anthropic') {
    set('inputTokens', u.input_tokens);
    set('outputTokens', u.output_tokens);
    set('cacheReadTokens', u.cache_read_input_tokens);
    set('cacheWriteTokens', u.cache_creation_input_tokens);
  } else {
    set('inputTokens', u.prompt_tokens ?? u.input_tokens);
    set('outputTokens', u.completion_tokens ?? u.output_tokens);
    set('totalTokens', u.total_tokens);
    const details = isRecord(u.completion_tokens_details) ? u.completion_tokens_details : isRecord(u.output_tokens_details) ? u.output_tokens_details : undefined;
    set('reasoningTokens', details?.reasoning_tokens);
    const inputDetails = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : isRecord(u.input_tokens_details) ? u.input_tokens_details : undefined;
    set('cacheReadTokens', inputDetails?.cached_tokens);
  }
  return Object.keys(usage).length > 0 ? usage : null;
}
