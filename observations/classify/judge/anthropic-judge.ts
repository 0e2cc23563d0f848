import type Anthropic from '@anthropic-ai/sdk';
import { modelSdks } from '../../../core/model-sdks.ts';
import type { MessageCreateParamsNonStreaming, Tool } from '@anthropic-ai/sdk/resources/messages';
import { FINDINGS_SCHEMA_NAME } from './judge-output.ts';
import type { JudgeSettings } from './judge-settings.ts';
import type { ProviderCall, ProviderReply } from './provider-reply.ts';

/**
 * An Anthropic client for the judge: the configured base URL and key, no credentials looked up elsewhere
 * (ANTHROPIC_AUTH_TOKEN, profiles on disk), the SDK's own retries off (the run loop retries), its logging off.
 */
export async function createAnthropicClient(settings: JudgeSettings, apiKey: string): Promise<Anthropic> {
  const { Anthropic } = await modelSdks();
  return new Anthropic({ apiKey, authToken: null, baseURL: settings.baseUrl, maxRetries: 0, timeout: settings.timeoutMs, logLevel: 'off' });
}

const TOOL_DESCRIPTION = 'Record the behaviours of the ethogram that the transcript shows, with the exact quote for each.';

/**
 * One Messages request with a single tool whose input schema is the findings schema, forced with
 * `tool_choice: {type: 'tool'}` and marked strict. No extended thinking: a forced tool choice does not combine
 * with it.
 */
export function anthropicJudgeCall(client: Anthropic): ProviderCall {
  return async (prompt, settings, signal) => {
    const params: MessageCreateParamsNonStreaming = {
      model: settings.model,
      max_tokens: settings.maxTokens,
      // The system prompt (instructions and ethogram) is the same for every transcript of a run: cached, it is
      // read at a tenth of the input price after the first call.
      system: [{ type: 'text', text: prompt.system, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: prompt.user }],
      tools: [{ name: FINDINGS_SCHEMA_NAME, description: TOOL_DESCRIPTION, input_schema: prompt.schema as Tool.InputSchema, strict: true }],
      tool_choice: { type: 'tool', name: FINDINGS_SCHEMA_NAME, disable_parallel_tool_use: true },
      ...(settings.temperature !== null ? { temperature: settings.temperature } : {}),
    };
    const message = await client.messages.create(params, signal ? { signal } : {});
    return readMessage(message);
  };
}

function readMessage(message: Anthropic.Message): ProviderReply {
  const usage = message.usage;
  const cacheReadTokens = usage?.cache_read_input_tokens ?? 0;
  const cacheWriteTokens = usage?.cache_creation_input_tokens ?? 0;
  const meta = {
    usage: {
      inputTokens: typeof usage?.input_tokens === 'number' ? usage.input_tokens + cacheReadTokens + cacheWriteTokens : null,
      outputTokens: typeof usage?.output_tokens === 'number' ? usage.output_tokens : null,
      ...(cacheReadTokens ? { cacheReadTokens } : {}),
      ...(cacheWriteTokens ? { cacheWriteTokens } : {}),
    },
    responseModel: typeof message.model === 'string' ? message.model : null,
    stopReason: message.stop_reason ?? null,
    requestId: (message as { _request_id?: string | null })._request_id ?? null,
  };
  const content = Array.isArray(message.content) ? message.content : [];
  const text = content
    .filter((block): block is Anthropic.TextBlock => block.type === 'text')
    .map((block) => block.text)
    .join('\n')
    .trim();
  switch (message.stop_reason) {
    case 'refusal':
      return { ...meta, kind: 'refusal', text: text || 'stop_reason refusal' };
    case 'max_tokens':
      return { ...meta, kind: 'truncated' };
    case 'model_context_window_exceeded':
      return { ...meta, kind: 'context_exceeded' };
  }
  const tool = content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use' && block.name === FINDINGS_SCHEMA_NAME);
  if (tool) return { ...meta, kind: 'answer', payload: tool.input };
  // With the tool forced, prose instead of the tool call is the model declining; nothing at all is a broken answer.
  return text ? { ...meta, kind: 'refusal', text } : { ...meta, kind: 'answer', payload: '' };
}
