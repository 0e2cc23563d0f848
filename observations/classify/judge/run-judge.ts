import { sdkErrorKind, type SdkApiError } from '../../../core/model-sdks.ts';
import type { Transcript } from '../../transcript.schema.ts';
import { anthropicJudgeCall, createAnthropicClient } from './anthropic-judge.ts';
import { JudgeError, type JudgeErrorId } from './judge-errors.ts';
import { interpretAnswer, type JudgeFinding, type RejectedFinding, type UnclearFinding, type UnmatchedQuotePolicy } from './judge-findings.ts';
import { parseJudgeAnswer } from './judge-output.ts';
import { addUsage, estimateCost, type JudgeCost, type JudgeUsage, ZERO_USAGE } from './judge-pricing.ts';
import { buildJudgePrompt, type JudgePrompt, type PinnedEthogramVersion } from './judge-prompt.ts';
import { type JudgeProvider, type JudgeSettings, resolveJudgeKey, type StructuredOutputMode } from './judge-settings.ts';
import { createOpenAIClient, openAIJudgeCall } from './openai-judge.ts';
import type { ProviderCall, ProviderReply } from './provider-reply.ts';

/** Everything needed to say later which judge proposed a coding, under which prompt, and at what cost. */
export interface JudgeProvenance {
  method: 'llm_judge';
  provider: JudgeProvider;
  /** The model requested, and the one the server says answered. */
  model: string;
  responseModel: string | null;
  baseUrl: string;
  ethogramVersionId: string;
  promptVersion: string;
  promptSha256: string;
  temperature: number | null;
  maxTokens: number;
  structuredOutput: StructuredOutputMode | 'forced_tool';
  /** Requests made, retries included. */
  attempts: number;
  /** Tokens of every answer received, failed attempts included (they were billed too). */
  usage: JudgeUsage;
  cost: JudgeCost;
  stopReason: string | null;
  requestId: string | null;
}

export interface JudgeResult {
  /** Behaviours the judge proposes, with their spans. */
  findings: JudgeFinding[];
  unclear: UnclearFinding[];
  saidNone: boolean;
  rejected: RejectedFinding[];
  droppedQuotes: number;
  duplicates: number;
  provenance: JudgeProvenance;
}

/** Waits between attempts: exponential from `baseDelayMs` with jitter, at most `maxDelayMs`. */
export interface RetryPolicy {
  baseDelayMs: number;
  /** Also the longest Retry-After honoured: a provider asking for more ends the call (retryable) so a job can pause. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 30_000 };

export interface JudgeRunOptions {
  signal?: AbortSignal;
  unmatchedQuotes?: UnmatchedQuotePolicy;
  retry?: Partial<RetryPolicy>;
}

/** A configured judge: its key resolved and its client built once, for coding many transcripts. */
export interface Judge {
  readonly settings: JudgeSettings;
  /** Codes one transcript against a pinned ethogram version. Throws JudgeError when no findings can be had. */
  judge(version: PinnedEthogramVersion, transcript: Transcript, options?: JudgeRunOptions): Promise<JudgeResult>;
}

/**
 * Creates a judge from parsed settings. The key is read from the server's environment now (`env`: the caller passes
 * the environment its entry point read; tests pass their own),
 * so a missing key fails before any transcript is sent (`judge_missing_key` naming the variable).
 */
export function createJudge(settings: JudgeSettings, context: { env: Readonly<Record<string, string | undefined>> }): Judge {
  const key = resolveJudgeKey(settings, context.env);
  // The client is built on the first call (the SDKs load on first use), once for all the judge's calls.
  let client: Promise<ProviderCall> | null = null;
  const call: ProviderCall = async (prompt, s, signal) => {
    client ??=
      settings.provider === 'anthropic'
        ? createAnthropicClient(settings, key!).then(anthropicJudgeCall)
        : createOpenAIClient(settings, key).then(openAIJudgeCall);
    return (await client)(prompt, s, signal);
  };
  return {
    settings,
    judge: async (version, transcript, options = {}) => runJudge(call, settings, key, buildJudgePrompt(version, transcript), version, transcript, options),
  };
}

/** Builds a judge and codes one transcript with it (a missing key rejects the promise like any other failure). */
export async function judgeTranscript(
  settings: JudgeSettings,
  version: PinnedEthogramVersion,
  transcript: Transcript,
  options: JudgeRunOptions & { env: Readonly<Record<string, string | undefined>> },
): Promise<JudgeResult> {
  return createJudge(settings, { env: options.env }).judge(version, transcript, options);
}

/**
 * Calls the judge until it gives a valid answer, within `1 + settings.maxRetries` requests. Retried: 429,
 * 408/409/5xx, unreachable or timed-out servers, and answers that are not valid JSON of the findings schema.
 * Not retried, because the same request would fail the same way: refusals, truncation, context overflow,
 * authentication and other 4xx errors.
 */
async function runJudge(
  call: ProviderCall,
  settings: JudgeSettings,
  key: string | null,
  prompt: JudgePrompt,
  version: PinnedEthogramVersion,
  transcript: Transcript,
  options: JudgeRunOptions,
): Promise<JudgeResult> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const scrub = (text: string) => (key ? text.split(key).join('[key]') : text);
  let usage = ZERO_USAGE;
  let attempts = 0;
  const fail = (id: JudgeErrorId, message: string, retryable: boolean, extra: Partial<JudgeError['details']> = {}) =>
    new JudgeError(id, scrub(message), retryable, { attempts, usage, ...extra });

  for (;;) {
    if (options.signal?.aborted) throw fail('judge_cancelled', 'The judge call was cancelled.', false);
    attempts++;
    const retriesLeft = attempts <= settings.maxRetries;
    let reply: ProviderReply;
    try {
      reply = await call(prompt, settings, options.signal);
    } catch (error) {
      const failure = classifyCallError(error, settings, options.signal, fail);
      if (!failure.retryable || !retriesLeft) throw failure;
      const asked = failure.details.retryAfterMs;
      if (asked !== undefined && asked > policy.maxDelayMs) throw failure;
      await pause(asked ?? backoff(attempts, policy), options.signal, fail);
      continue;
    }

    usage = addUsage(usage, reply.usage);
    if (reply.kind === 'refusal') {
      throw fail('judge_refused', `The judge model declined to code this observation: "${clip(reply.text, 300)}"`, false, { modelText: scrub(clip(reply.text, 2000)) });
    }
    if (reply.kind === 'truncated') {
      throw fail(
        'judge_truncated',
        `The judge's answer reached the token limit (maxTokens ${settings.maxTokens}) before its findings were complete: raise maxTokens in the judge settings.`,
        false,
        { setting: 'maxTokens' },
      );
    }
    if (reply.kind === 'context_exceeded') {
      throw fail('judge_input_too_large', `The transcript and ethogram do not fit ${settings.model}'s context window: use a model with a longer context.`, false, { setting: 'model' });
    }

    const parsed = parseJudgeAnswer(reply.payload);
    if (parsed.ok) {
      const interpreted = interpretAnswer(parsed.answer, transcript, prompt.behaviourCodes, options.unmatchedQuotes);
      return { ...interpreted, provenance: provenanceOf(settings, prompt, version, reply, attempts, usage) };
    }
    if (!retriesLeft) {
      const hint =
        settings.provider === 'openai-compatible'
          ? ` The server may be ignoring the "${settings.structuredOutput}" constraint: try another structuredOutput mode (json_schema, vllm_structured_outputs, guided_json, prompt_only) in the judge settings.`
          : '';
      throw fail('judge_invalid_output', `The judge's answer did not follow the findings schema on ${attempts} attempts: ${parsed.problems.slice(0, 3).join('; ')}.${hint}`, false, {
        problems: parsed.problems,
        modelText: scrub(clip(typeof reply.payload === 'string' ? reply.payload : JSON.stringify(reply.payload), 2000)),
        ...(hint ? { setting: 'structuredOutput' } : {}),
      });
    }
    await pause(backoff(attempts, policy), options.signal, fail);
  }
}

type Fail = (id: JudgeErrorId, message: string, retryable: boolean, extra?: Partial<JudgeError['details']>) => JudgeError;

/** Maps what the SDKs throw to a JudgeError, deciding what may be retried. */
function classifyCallError(error: unknown, settings: JudgeSettings, signal: AbortSignal | undefined, fail: Fail): JudgeError {
  const kind = sdkErrorKind(error);
  if (signal?.aborted || kind === 'aborted') {
    return fail('judge_cancelled', 'The judge call was cancelled.', false);
  }
  if (kind === 'timeout') {
    return fail('judge_unreachable', `The judge server at ${settings.baseUrl} did not answer within ${settings.timeoutMs} ms (timeoutMs).`, true, { setting: 'timeoutMs' });
  }
  if (kind === 'connection') {
    return fail('judge_unreachable', `The judge server at ${settings.baseUrl} could not be reached: ${clip((error as Error).message, 200)}.`, true, { setting: 'baseUrl' });
  }
  if (kind !== 'api') throw error;
  const apiError = error as SdkApiError;
  const status = apiError.status ?? 0;
  const said = clip(apiError.message, 300);
  if (status === 429) {
    const retryAfterMs = retryAfterOf(apiError.headers);
    return fail('judge_rate_limited', `The judge provider is rate limiting requests (HTTP 429): ${said}`, true, { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  if (status === 408 || status === 409 || status >= 500) {
    return fail('judge_unavailable', `The judge provider failed to answer (HTTP ${status}): ${said}`, true, { status });
  }
  if (status === 401 || status === 403) {
    return fail('judge_auth_failed', `The judge provider did not accept the key in ${settings.apiKeyEnv ?? '(no key configured)'} for ${settings.model} (HTTP ${status}): ${said}`, false, {
      status,
      setting: 'apiKeyEnv',
    });
  }
  if (/context|too long|too many tokens|maximum.*tokens/i.test(said)) {
    return fail('judge_input_too_large', `The transcript and ethogram are too long for ${settings.model} (HTTP ${status}): ${said}`, false, { status, setting: 'model' });
  }
  return fail('judge_request_rejected', `The judge provider rejected the request for ${settings.model} (HTTP ${status}): ${said}`, false, { status });
}

/** Retry-After as milliseconds: OpenAI's `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
function retryAfterOf(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (headers?.get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function backoff(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

function pause(ms: number, signal: AbortSignal | undefined, fail: Fail): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = () => {
      clearTimeout(timer);
      reject(fail('judge_cancelled', 'The judge call was cancelled.', false));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', cancelled);
      resolve();
    }, ms);
    if (signal?.aborted) cancelled();
    else signal?.addEventListener('abort', cancelled, { once: true });
  });
}

function provenanceOf(settings: JudgeSettings, prompt: JudgePrompt, version: PinnedEthogramVersion, reply: ProviderReply, attempts: number, usage: JudgeUsage): JudgeProvenance {
  return {
    method: 'llm_judge',
    provider: settings.provider,
    model: settings.model,
    responseModel: reply.responseModel,
    baseUrl: settings.baseUrl,
    ethogramVersionId: version.id,
    promptVersion: prompt.promptVersion,
    promptSha256: prompt.promptSha256,
    temperature: settings.temperature,
    maxTokens: settings.maxTokens,
    structuredOutput: settings.provider === 'anthropic' ? 'forced_tool' : settings.provider === 'openai' ? 'json_schema' : settings.structuredOutput,
    attempts,
    usage,
    cost: estimateCost(usage, { provider: settings.provider, models: [reply.responseModel, settings.model], settingsPrice: settings.price }),
    stopReason: reply.stopReason,
    requestId: reply.requestId,
  };
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
