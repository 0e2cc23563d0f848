import type OpenAI from 'openai';
import { modelSdks } from '../../../core/model-sdks.ts';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { FINDINGS_SCHEMA_NAME } from './judge-output.ts';
import type { JudgePrompt } from './judge-prompt.ts';
import type { JudgeSettings } from './judge-settings.ts';
import type { ProviderCall, ProviderReply } from './provider-reply.ts';

/** Sent when a local server needs no key: the SDK insists on one, and a placeholder says plainly it is none. */
const NO_KEY_PLACEHOLDER = 'no-key-configured';

/**
 * An OpenAI client for the judge: the configured base URL and key, nothing read from the environment
 * (OPENAI_BASE_URL, OPENAI_ORG_ID...), the SDK's own retries off (the run loop retries, counting every
 * attempt), its logging off.
 */
export async function createOpenAIClient(settings: JudgeSettings, apiKey: string | null): Promise<OpenAI> {
  const { OpenAI } = await modelSdks();
  return new OpenAI({
    apiKey: apiKey ?? NO_KEY_PLACEHOLDER,
    baseURL: settings.baseUrl,
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: settings.timeoutMs,
    logLevel: 'off',
  });
}

/** The request fields that make the server follow the findings schema, per provider and structured-output mode. */
export function structuredOutputParams(prompt: JudgePrompt, settings: JudgeSettings): Record<string, unknown> {
  const mode = settings.provider === 'openai' ? 'json_schema' : settings.structuredOutput;
  switch (mode) {
    case 'json_schema':
      return { response_format: { type: 'json_schema', json_schema: { name: FINDINGS_SCHEMA_NAME, strict: true, schema: prompt.schema } } };
    case 'vllm_structured_outputs':
      return { structured_outputs: { json: prompt.schema } };
    case 'guided_json':
      return { guided_json: prompt.schema };
    case 'prompt_only':
      return {};
  }
}

/**
 * One Chat Completions request. OpenAI reasoning models count reasoning in `max_completion_tokens` (and reject
 * `max_tokens`); local servers still expect `max_tokens`, so each gets its own.
 */
export function openAIJudgeCall(client: OpenAI): ProviderCall {
  return async (prompt, settings, signal) => {
    const params = {
      model: settings.model,
      messages: [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ],
      ...(settings.temperature !== null ? { temperature: settings.temperature } : {}),
      ...(settings.provider === 'openai' ? { max_completion_tokens: settings.maxTokens } : { max_tokens: settings.maxTokens }),
      ...structuredOutputParams(prompt, settings),
    } as ChatCompletionCreateParamsNonStreaming;
    const completion = await client.chat.completions.create(params, signal ? { signal } : {});
    return readCompletion(completion);
  };
}

function readCompletion(completion: OpenAI.Chat.Completions.ChatCompletion): ProviderReply {
  const choice = completion.choices?.[0];
  const usage = completion.usage;
  const meta = {
    usage: {
      inputTokens: typeof usage?.prompt_tokens === 'number' ? usage.prompt_tokens : null,
      outputTokens: typeof usage?.completion_tokens === 'number' ? usage.completion_tokens : null,
    },
    responseModel: typeof completion.model === 'string' ? completion.model : null,
    stopReason: choice?.finish_reason ?? null,
    requestId: (completion as { _request_id?: string | null })._request_id ?? null,
  };
  const refusal = choice?.message?.refusal;
  if (refusal) return { ...meta, kind: 'refusal', text: refusal };
  if (choice?.finish_reason === 'length') return { ...meta, kind: 'truncated' };
  if (choice?.finish_reason === 'content_filter') return { ...meta, kind: 'refusal', text: 'stopped by the provider content filter (finish_reason content_filter)' };
  return { ...meta, kind: 'answer', payload: choice?.message?.content ?? '' };
}
