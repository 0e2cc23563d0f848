import type { JudgeUsage } from './judge-pricing.ts';
import type { JudgePrompt } from './judge-prompt.ts';
import type { JudgeSettings } from './judge-settings.ts';

/** What every provider's answer comes down to, before it is validated: the run loop decides what to retry. */
export type ProviderReply = ReplyMeta &
  (
    | { kind: 'answer'; /** JSON text (OpenAI) or the forced tool's parsed input (Anthropic). */ payload: unknown }
    | { kind: 'refusal'; /** The model's own words, or the provider's stop reason when it gave none. */ text: string }
    | { kind: 'truncated' }
    | { kind: 'context_exceeded' }
  );

export interface ReplyMeta {
  usage: JudgeUsage;
  /** The model the server says answered (often a dated snapshot of the one requested). */
  responseModel: string | null;
  /** `finish_reason` (OpenAI) or `stop_reason` (Anthropic). */
  stopReason: string | null;
  requestId: string | null;
}

/** One request to a provider for one prompt; throws the SDK's errors, which the run loop classifies. */
export type ProviderCall = (prompt: JudgePrompt, settings: JudgeSettings, signal: AbortSignal | undefined) => Promise<ProviderReply>;
