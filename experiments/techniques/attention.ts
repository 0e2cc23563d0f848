/**
 * `attention`: attention patterns (blocks.L.attn.hook_pattern) per layer and head, with the token strings that
 * label the query and key axes.
 */
import { z } from 'zod';
import type { Technique } from './technique.ts';
import { checkHeads, checkLayers, fmt, indexSchema, promptFields, promptOptions, range, tokenStrings } from './metrics.ts';

export const attentionParams = z.object({
  ...promptFields,
  /** Layers to return (default all). */
  layers: z.array(indexSchema).min(1, { error: 'Give at least one layer, or leave layers out for all.' }).optional(),
  /** Heads to return in each layer (default all). */
  heads: z.array(indexSchema).min(1, { error: 'Give at least one head, or leave heads out for all.' }).optional(),
}).strict();
export type AttentionParams = z.infer<typeof attentionParams>;

export const attentionResult = z.object({
  tokens: z.array(z.number().int()),
  /** Labels of the query axis (rows) and of the key axis (columns); the same tokens, as the prompt is causal. */
  query_tokens: z.array(z.string()),
  key_tokens: z.array(z.string()),
  layers: z.array(z.object({
    layer: z.number().int(),
    heads: z.array(z.object({
      head: z.number().int(),
      /** [query_pos][key_pos]; each row sums to 1, entries above the diagonal are 0. */
      pattern: z.array(z.array(z.number())),
    })),
  })),
});
export type AttentionResult = z.infer<typeof attentionResult>;

export const attentionTechnique: Technique<AttentionParams, AttentionResult> = {
  name: 'attention',
  summary: 'Attention patterns per layer and head, with token labels for both axes.',
  schemaVersion: 1,
  params: attentionParams,
  result: attentionResult,
  async run(params, { model, progress }) {
    const layers = params.layers ?? range(model.config.nLayers);
    const heads = params.heads ?? range(model.config.nHeads);
    checkLayers(model, layers);
    checkHeads(model, heads);
    const names = layers.map((l) => `blocks.${l}.attn.hook_pattern`);
    const { tokens, cache } = await model.runWithCache(params.prompt, { names }, promptOptions(params));
    const n = tokens.length;
    const strings = tokenStrings(model, tokens);
    const out = layers.map((layer, i) => {
      const t = cache.get(names[i]!)!;
      progress(i + 1, layers.length, `layer ${layer}`);
      return {
        layer,
        heads: heads.map((head) => ({
          head,
          pattern: range(n).map((q) => Array.from(t.data.subarray((head * n + q) * n, (head * n + q + 1) * n))),
        })),
      };
    });
    return { tokens, query_tokens: strings, key_tokens: strings, layers: out };
  },
  summarize(result) {
    const lines = [`${result.tokens.length} tokens: ${JSON.stringify(result.query_tokens)}`];
    for (const l of result.layers) {
      for (const h of l.heads) {
        // For each head, where the last query position looks most.
        const last = h.pattern[h.pattern.length - 1]!;
        let best = 0;
        for (let k = 1; k < last.length; k++) if (last[k]! > last[best]!) best = k;
        lines.push(`  L${l.layer}H${h.head}: last token attends most to ${best} ${JSON.stringify(result.key_tokens[best])} (${fmt(last[best]!, 3)})`);
      }
    }
    return lines.join('\n');
  },
};
