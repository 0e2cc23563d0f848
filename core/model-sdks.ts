import type AnthropicSdk from '@anthropic-ai/sdk';
import type OpenAISdk from 'openai';

/** The official model API clients, as loaded. */
export interface ModelSdks { OpenAI: typeof OpenAISdk; Anthropic: typeof AnthropicSdk }

/** An error either SDK raises for an API answer (it carries the HTTP status and headers, when there was one). */
export type SdkApiError = InstanceType<typeof OpenAISdk.APIError> | InstanceType<typeof AnthropicSdk.APIError>;

let loading: Promise<ModelSdks> | null = null;
let loaded: ModelSdks | null = null;

/**
 * The `openai` and `@anthropic-ai/sdk` packages, loaded on first use: a server that never calls a model API (no
 * judge run, no live session streaming) does not carry them, about 25 MB of its resident memory.
 */
export function modelSdks(): Promise<ModelSdks> {
  loading ??= Promise.all([import('openai'), import('@anthropic-ai/sdk')]).then(([openai, anthropic]) => {
    loaded = { OpenAI: openai.default, Anthropic: anthropic.default };
    return loaded;
  });
  return loading;
}

/**
 * What kind of SDK failure this is, or null when it is not one: `aborted` (the caller's signal), `timeout`,
 * `connection` (no answer at all), `api` (an answer that was an error; cast to SdkApiError for status and
 * headers). Until the SDKs are loaded nothing can have come from them, so everything is null.
 */
export function sdkErrorKind(error: unknown): 'aborted' | 'timeout' | 'connection' | 'api' | null {
  if (!loaded) return null;
  const { OpenAI, Anthropic } = loaded;
  // The timeout is a kind of connection error, so it is asked first.
  if (error instanceof OpenAI.APIConnectionTimeoutError || error instanceof Anthropic.APIConnectionTimeoutError) return 'timeout';
  if (error instanceof OpenAI.APIUserAbortError || error instanceof Anthropic.APIUserAbortError) return 'aborted';
  if (error instanceof OpenAI.APIConnectionError || error instanceof Anthropic.APIConnectionError) return 'connection';
  if (error instanceof OpenAI.APIError || error instanceof Anthropic.APIError) return 'api';
  return null;
}
