/**
 * `generate`: plain generation from a prompt: greedy (temperature 0, the default) or sampled with temperature,
 * top-k and top-p from a seeded PRNG (the same seed gives the same text), up to maxNewTokens or the end-of-sequence
 * token. One position per step through the key/value cache.
 */
import { z } from 'zod';
import type { Model } from '../engine/model.ts';
import type { Technique } from './technique.ts';
import { promptFields, tokenStrings } from './metrics.ts';
import { generateTokens, samplingFields } from './sampling.ts';

export const generateParams = z.object({
  ...promptFields,
  ...samplingFields,
}).strict();
export type GenerateParams = z.infer<typeof generateParams>;

/** One generated continuation (also used by `steering`). */
export const continuationSchema = z.object({
  /** The new tokens only. */
  tokens: z.array(z.number().int()),
  token_strings: z.array(z.string()),
  /** The new tokens decoded. */
  text: z.string(),
  /** Log-probability of each new token under the model (before temperature, top-k and top-p). */
  logprobs: z.array(z.number()),
  stop_reason: z.enum(['eos', 'max_new_tokens', 'context']),
});
export type Continuation = z.infer<typeof continuationSchema>;

export const generateResult = z.object({
  prompt_tokens: z.array(z.number().int()),
  prompt_text: z.string(),
  sampling: z.object({ temperature: z.number(), top_k: z.number().int(), top_p: z.number(), seed: z.number().int(), max_new_tokens: z.number().int() }),
  continuation: continuationSchema,
});
export type GenerateResult = z.infer<typeof generateResult>;

/**
 * Text for token ids; ids the tokenizer does not know (embedding rows some models pad beyond the tokenizer, which a
 * random or odd model may still generate) show as `[id N]` instead of failing.
 */
export function textOf(model: Model, ids: readonly number[]): string {
  let out = '';
  let run: number[] = [];
  const flush = () => {
    if (run.length) out += model.detokenize(run);
    run = [];
  };
  for (const id of ids) {
    if (model.tokenizer.idToToken(id) === undefined) {
      flush();
      out += `[id ${id}]`;
    } else run.push(id);
  }
  flush();
  return out;
}

export const generateTechnique: Technique<GenerateParams, GenerateResult> = {
  name: 'generate',
  summary: 'Generate text from a prompt: greedy, or sampled (temperature, top-k, top-p) with a seed.',
  schemaVersion: 1,
  params: generateParams,
  result: generateResult,
  async run(params, { model, progress, signal }) {
    const g = await generateTokens(model, params.prompt, {
      ...params,
      ...(signal ? { signal } : {}),
      onToken: (i) => progress(i + 1, params.maxNewTokens, `token ${i + 1}`),
    });
    return {
      prompt_tokens: g.promptTokens,
      prompt_text: textOf(model, g.promptTokens),
      sampling: { temperature: params.temperature, top_k: params.topK, top_p: params.topP, seed: params.seed, max_new_tokens: params.maxNewTokens },
      continuation: {
        tokens: g.newTokens,
        token_strings: tokenStrings(model, g.newTokens),
        text: textOf(model, g.newTokens),
        logprobs: g.logprobs,
        stop_reason: g.stopReason,
      },
    };
  },
  summarize(r) {
    const how = r.sampling.temperature === 0 ? 'greedy' : `temperature ${r.sampling.temperature}, top-k ${r.sampling.top_k || 'off'}, top-p ${r.sampling.top_p}, seed ${r.sampling.seed}`;
    return [
      `Prompt (${r.prompt_tokens.length} tokens): ${JSON.stringify(r.prompt_text)}`,
      `Generated ${r.continuation.tokens.length} tokens (${how}; stopped: ${r.continuation.stop_reason.replaceAll('_', ' ')}):`,
      r.continuation.text,
    ].join('\n');
  },
};
