import type { MessageCreateParamsStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { modelSdks, sdkErrorKind, type SdkApiError } from '../core/model-sdks.ts';
import { describeTarget, resolveLiveKey, type LiveTarget } from './live-target.ts';

/** One turn of the conversation sent to the target; the system prompt comes from the target itself. */
export interface LiveMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ModelUsage {
  inputTokens: number | null;
  outputTokens: number | null;
}

/** A piece of the answer as it arrives, then exactly one `done` when the model has finished. */
export type ModelStreamEvent =
  | { type: 'text'; text: string }
  | {
      type: 'done';
      /** As the provider says it: `stop`/`length` (OpenAI-style), `end_turn`/`max_tokens` (Anthropic)... */
      finishReason: string | null;
      /** The model id the API reported (often a dated snapshot of the one asked for). */
      modelVersion: string | null;
      usage: ModelUsage;
    };

export interface StreamModelOptions {
  target: LiveTarget;
  messages: readonly LiveMessage[];
  /** The server's environment, passed down from the entry point: the key is read from it at call time. */
  env: Readonly<Record<string, string | undefined>>;
  /** Aborting it stops the answer: the generator ends at once with a `stopped` LiveModelError. */
  signal?: AbortSignal;
}

export const liveModelErrorReasons = ['stopped', 'unreachable', 'timeout', 'auth', 'rate_limited', 'rejected', 'upstream_error', 'in_band_error'] as const;
export type LiveModelErrorReason = (typeof liveModelErrorReasons)[number];

/**
 * Why an answer did not finish: `stopped` (the caller aborted), `unreachable` (no connection), `timeout` (the model
 * stayed silent for the target's timeoutMs), `auth` (401/403), `rate_limited` (429), `rejected` (another 4xx: unknown
 * model, unsupported parameter...), `upstream_error` (5xx, a connection cut mid-answer, a malformed stream),
 * `in_band_error` (the provider reported an error inside a 200 stream). The message says what happened, with the
 * upstream's status and words when there are some, and never contains the key.
 */
export class LiveModelError extends Error {
  public readonly reason: LiveModelErrorReason;
  /** The upstream HTTP status, when the failure was an HTTP answer. */
  public readonly status: number | null;
  constructor(
    reason: LiveModelErrorReason,
    message: string,
    status: number | null = null,
  ) {
    super(message);
    this.reason = reason;
    this.status = status;
    this.name = 'LiveModelError';
  }
}

/** Sent when a local server needs no key: the SDK insists on one, and a placeholder says plainly it is none. */
const NO_KEY_PLACEHOLDER = 'no-key-configured';

/**
 * Streams the target's answer to `messages`, text delta by text delta, then one `done` event. Reasoning and
 * thinking deltas are left out. Throws `LiveModelError` (after any deltas already yielded, which the caller keeps
 * as the partial answer), and, before any request, the AppError of `resolveLiveKey` when the key is missing
 * (`validation_failed`) or may not go to the target's origin (`forbidden`). Breaking out of the loop closes the
 * upstream connection too.
 */
export async function* streamModel(options: StreamModelOptions): AsyncGenerator<ModelStreamEvent, void, undefined> {
  const { target, messages, env, signal } = options;
  const apiKey = resolveLiveKey(target, env);
  const name = describeTarget(target);
  const watch = new StreamWatch(target.timeoutMs, name, signal);
  let chars = 0;
  let atYield = false;
  try {
    if (messages.length === 0) throw new LiveModelError('rejected', `There is nothing for ${name} to answer: send a message first.`);
    const source = target.provider === 'anthropic' ? anthropicStream(target, messages, apiKey, watch) : openAIStream(target, messages, apiKey, watch);
    for await (const event of source) {
      watch.check();
      if (event.type === 'text') chars += event.text.length;
      // The model's silence is measured, not the caller's: a slow consumer must not time the stream out.
      watch.pause();
      atYield = true;
      yield event;
      atYield = false;
      watch.check();
      watch.resume();
    }
    watch.check();
  } catch (error) {
    if (atYield) throw error; // thrown in by the consumer (`generator.throw()`): not the model's failure
    watch.check();
    throw redact(toLiveModelError(error, target, name, chars), apiKey);
  } finally {
    watch.dispose();
  }
}

/**
 * One AbortController for the request, fired by the caller's signal or by the silence timer, remembering which
 * came first. The SDKs end a stream quietly when it is aborted, so `check()` turns that into the right error.
 */
class StreamWatch {
  private readonly timeoutMs: number;
  private readonly name: string;
  private readonly outer: AbortSignal | undefined;
  readonly controller = new AbortController();
  private ended: 'stopped' | 'timeout' | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    timeoutMs: number,
    name: string,
    outer: AbortSignal | undefined,
  ) {
    this.timeoutMs = timeoutMs;
    this.name = name;
    this.outer = outer;
    if (outer?.aborted) this.end('stopped');
    outer?.addEventListener('abort', this.onAbort, { once: true });
    this.resume();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Something arrived from the model: the silence timer starts again. */
  alive(): void {
    this.resume();
  }

  pause(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  resume(): void {
    this.pause();
    if (!this.ended) this.timer = setTimeout(() => this.end('timeout'), this.timeoutMs);
  }

  /** Throws `stopped` or `timeout` once either has happened. */
  check(): void {
    if (this.ended === 'stopped') throw new LiveModelError('stopped', 'The answer was stopped.');
    if (this.ended === 'timeout') {
      throw new LiveModelError('timeout', `${this.name} sent nothing for ${this.timeoutMs / 1000} s (the target's timeoutMs): it may be overloaded; ask again, or raise timeoutMs.`);
    }
  }

  dispose(): void {
    this.pause();
    this.outer?.removeEventListener('abort', this.onAbort);
    // Closes the upstream connection when the consumer broke out early; a no-op once the stream has ended.
    this.controller.abort();
  }

  private readonly onAbort = () => this.end('stopped');

  private end(why: 'stopped' | 'timeout'): void {
    this.ended ??= why;
    this.pause();
    this.controller.abort();
  }
}

async function* openAIStream(target: LiveTarget, messages: readonly LiveMessage[], apiKey: string | null, watch: StreamWatch): AsyncGenerator<ModelStreamEvent> {
  // Nothing read from the environment (OPENAI_BASE_URL, OPENAI_ORG_ID...); no retries: a person is watching and asks again.
  const { OpenAI } = await modelSdks();
  const client = new OpenAI({
    apiKey: apiKey ?? NO_KEY_PLACEHOLDER,
    baseURL: target.baseUrl,
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: target.timeoutMs,
    logLevel: 'off',
  });
  const params: ChatCompletionCreateParamsStreaming = {
    model: target.model,
    messages: [...(target.systemPrompt ? [{ role: 'system', content: target.systemPrompt } as const] : []), ...messages.map((m): ChatCompletionMessageParam => ({ role: m.role, content: m.content }))],
    stream: true,
    stream_options: { include_usage: true },
    // OpenAI's reasoning models reject `max_tokens`; local servers still expect it.
    ...(target.provider === 'openai' ? { max_completion_tokens: target.maxTokens } : { max_tokens: target.maxTokens }),
    ...(target.temperature !== null ? { temperature: target.temperature } : {}),
    ...(target.topP !== null ? { top_p: target.topP } : {}),
    ...(target.seed !== null ? { seed: target.seed } : {}),
  };
  const stream = await client.chat.completions.create(params, { signal: watch.signal });
  let finishReason: string | null = null;
  let modelVersion: string | null = null;
  const usage: ModelUsage = { inputTokens: null, outputTokens: null };
  for await (const chunk of stream) {
    watch.alive();
    if (typeof chunk.model === 'string' && chunk.model) modelVersion = chunk.model;
    const choice = chunk.choices?.[0];
    // A refusal is what the model said, so it is shown like text; reasoning fields (reasoning_content...) are not read.
    const text = choice?.delta?.content || choice?.delta?.refusal;
    if (text) yield { type: 'text', text };
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    if (chunk.usage) {
      usage.inputTokens = typeof chunk.usage.prompt_tokens === 'number' ? chunk.usage.prompt_tokens : null;
      usage.outputTokens = typeof chunk.usage.completion_tokens === 'number' ? chunk.usage.completion_tokens : null;
    }
  }
  watch.check();
  if (finishReason === null) throw new LiveModelError('upstream_error', `${describeTarget(target)} ended the stream before the answer was complete (no finish_reason); ask again.`);
  yield { type: 'done', finishReason, modelVersion, usage };
}

async function* anthropicStream(target: LiveTarget, messages: readonly LiveMessage[], apiKey: string | null, watch: StreamWatch): AsyncGenerator<ModelStreamEvent> {
  // No credentials looked up elsewhere (ANTHROPIC_AUTH_TOKEN, profiles on disk); no retries, no logging.
  const { Anthropic } = await modelSdks();
  const client = new Anthropic({ apiKey: apiKey ?? NO_KEY_PLACEHOLDER, authToken: null, baseURL: target.baseUrl, maxRetries: 0, timeout: target.timeoutMs, logLevel: 'off' });
  const params: MessageCreateParamsStreaming = {
    model: target.model,
    max_tokens: target.maxTokens,
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    stream: true,
    ...(target.systemPrompt ? { system: target.systemPrompt } : {}),
    ...(target.temperature !== null ? { temperature: target.temperature } : {}),
    ...(target.topP !== null ? { top_p: target.topP } : {}),
  };
  const stream = await client.messages.create(params, { signal: watch.signal });
  let finishReason: string | null = null;
  let modelVersion: string | null = null;
  let stopped = false;
  const usage: ModelUsage = { inputTokens: null, outputTokens: null };
  for await (const event of stream) {
    watch.alive();
    switch (event.type) {
      case 'message_start': {
        modelVersion = event.message.model || null;
        const u = event.message.usage;
        usage.inputTokens = typeof u?.input_tokens === 'number' ? u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) : null;
        break;
      }
      case 'content_block_delta':
        // thinking_delta, signature_delta, citations_delta, input_json_delta: not part of the answer's text.
        if (event.delta.type === 'text_delta' && event.delta.text) yield { type: 'text', text: event.delta.text };
        break;
      case 'message_delta': {
        finishReason = event.delta.stop_reason ?? finishReason;
        const u = event.usage;
        if (typeof u?.output_tokens === 'number') usage.outputTokens = u.output_tokens;
        if (typeof u?.input_tokens === 'number') usage.inputTokens = u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);
        break;
      }
      case 'message_stop':
        stopped = true;
        break;
    }
  }
  watch.check();
  if (!stopped) throw new LiveModelError('upstream_error', `${describeTarget(target)} ended the stream before the answer was complete (no message_stop); ask again.`);
  yield { type: 'done', finishReason, modelVersion, usage };
}


/** Maps what the SDKs (and fetch underneath) throw to a reason and a message a person can act on. */
function toLiveModelError(error: unknown, target: LiveTarget, name: string, chars: number): LiveModelError {
  if (error instanceof LiveModelError) return error;
  const where = `${target.provider} ${target.model} at ${new URL(target.baseUrl).origin}`;
  const after = chars > 0 ? ` after ${chars} characters of the answer` : '';
  const kept = chars > 0 ? 'the text so far is kept; ' : '';
  const kind = sdkErrorKind(error);
  if (kind === 'timeout') {
    return new LiveModelError('timeout', `${name} did not answer within ${target.timeoutMs / 1000} s (the target's timeoutMs): it may be overloaded; ask again, or raise timeoutMs.`);
  }
  if (kind === 'aborted') {
    return new LiveModelError('stopped', 'The answer was stopped.');
  }
  if (kind === 'connection') {
    return new LiveModelError('unreachable', `Could not reach ${where} (${causeOf(error)}): check the baseUrl and that the server is running.`);
  }
  if (kind === 'api') {
    const apiError = error as SdkApiError;
    const words = upstreamWords(apiError);
    const status = apiError.status;
    if (status === undefined) {
      return new LiveModelError('in_band_error', `${name} reported an error in the middle of its answer${after} (${words ?? 'no details'}): ${kept}ask again.`);
    }
    const said = `HTTP ${status}${words ? `, ${words}` : ''}`;
    if (status === 401 || status === 403) {
      const message = target.apiKeyEnv
        ? `${name} refused the key in ${target.apiKeyEnv} (${said}): check the key set in that variable on the server and that it has access to ${target.model}.`
        : `${name} wants a key and none is configured (${said}): set one in an environment variable on the server and name it in apiKeyEnv.`;
      return new LiveModelError('auth', message, status);
    }
    if (status === 429) {
      const wait = apiError.headers?.get('retry-after');
      return new LiveModelError('rate_limited', `${name} is rate limiting requests (${said}): wait${wait ? ` ${wait} s` : ' a moment'} and ask again.`, status);
    }
    if (status >= 500) return new LiveModelError('upstream_error', `${name} failed (${said}): the provider has a problem; ask again in a moment.`, status);
    return new LiveModelError('rejected', `${name} rejected the request (${said}): check the model name and the sampling settings.`, status);
  }
  // Errors fetch raises while reading the body (the connection cut), or a malformed event.
  if (error instanceof SyntaxError) return new LiveModelError('upstream_error', `${name} sent a malformed stream event${after} (${error.message}): ${kept}ask again.`);
  return new LiveModelError('upstream_error', `The connection to ${where} broke${after} (${causeOf(error)}): ${kept}ask again.`);
}

/** The upstream's own error message (and type), from either SDK's error. */
function upstreamWords(error: SdkApiError): string | null {
  const body: unknown = error.error;
  const inner = typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object' && body.error !== null ? body.error : body;
  const message = typeof inner === 'object' && inner !== null && 'message' in inner && typeof inner.message === 'string' ? inner.message : null;
  const type = typeof inner === 'object' && inner !== null && 'type' in inner && typeof inner.type === 'string' ? inner.type : null;
  if (message) return type ? `${type}: ${message}` : message;
  // Non-JSON error bodies (proxies, some local servers) are in the SDK's own message, after the status.
  const fallback = error.message.replace(/^\d{3} /, '');
  return fallback && !/status code \(no body\)|no status code or body/.test(fallback) ? fallback.slice(0, 500) : null;
}

/** The most specific description of a network failure: the innermost message, with its code (ECONNREFUSED...). */
function causeOf(error: unknown): string {
  let current: unknown = error;
  let text = 'unknown error';
  let code: string | null = null;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    if ('message' in current && typeof current.message === 'string' && current.message) text = current.message;
    if ('code' in current && typeof current.code === 'string') code = current.code;
    current = 'cause' in current ? current.cause : null;
  }
  return code && !text.includes(code) ? `${text}, ${code}` : text;
}

/** Upstreams sometimes quote the key they were sent (a 401 "Incorrect API key provided: ..."). */
function redact(error: LiveModelError, apiKey: string | null): LiveModelError {
  if (!apiKey || !error.message.includes(apiKey)) return error;
  return new LiveModelError(error.reason, error.message.replaceAll(apiKey, '[the key]'), error.status);
}
