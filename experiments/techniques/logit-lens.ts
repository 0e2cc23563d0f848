/**
 * `logit-lens`: what the residual stream "predicts" after each block. Each block's resid_post (and, first, the
 * embeddings: blocks.0.hook_resid_pre) goes through the final norm, recomputing its statistics, and the
 * unembedding with its bias, as TransformerLens' accumulated_resid(apply_ln=True) followed by model.unembed. The
 * last entry is therefore the model's own logits.
 */
import { z } from 'zod';
import type { Technique } from './technique.ts';
import {
  checkAborted, fmt, klDivergence, logSoftmax, positionSchema, promptFields, promptOptions, rankOf, resolvePosition, resolveToken,
  tokenInfo, tokenInfoSchema, tokenSchema, tokenStrings, topK,
} from './metrics.ts';

export const logitLensParams = z.object({
  ...promptFields,
  /** Positions to read (negative from the end); default the last. */
  positions: z.array(positionSchema).min(1, { error: 'Give at least one position.' }).default([-1]),
  /** How many top tokens per layer (1 to 100). */
  k: z.number().int().min(1, { error: 'k is at least 1.' }).max(100, { error: 'k is at most 100.' }).default(10),
  /** The token whose rank and probability are tracked; default the actual next token, or at the last position the model's final top-1. */
  target: tokenSchema.optional(),
  /** Include the embeddings (blocks.0.hook_resid_pre) as the first entry (TransformerLens' "0_pre"). */
  includeEmbeddings: z.boolean().default(true),
}).strict();
export type LogitLensParams = z.infer<typeof logitLensParams>;

const topTokenSchema = z.object({ id: z.number().int(), text: z.string(), logit: z.number(), prob: z.number() });

export const logitLensResult = z.object({
  tokens: z.array(z.number().int()),
  token_strings: z.array(z.string()),
  /** One label per entry: "embed", then the block index of each resid_post ("0", "1", ...). */
  layer_labels: z.array(z.string()),
  /** The hook each entry reads. */
  hooks: z.array(z.string()),
  positions: z.array(z.object({
    position: z.number().int(),
    /** The token at this position (the input being read). */
    token: tokenInfoSchema,
    target: tokenInfoSchema.extend({ source: z.enum(['param', 'next_token', 'final_top1']) }),
    layers: z.array(z.object({
      label: z.string(),
      top: z.array(topTokenSchema),
      /** 0 is the top token: the number of tokens with a larger logit. */
      target_rank: z.number().int(),
      target_prob: z.number(),
      target_logit: z.number(),
      /** KL(final || this layer) in nats. */
      kl_to_final: z.number(),
    })),
  })),
});
export type LogitLensResult = z.infer<typeof logitLensResult>;

export const logitLensTechnique: Technique<LogitLensParams, LogitLensResult> = {
  name: 'logit-lens',
  summary: 'Per layer, the top tokens and the target token\'s rank and probability when the residual stream is unembedded.',
  schemaVersion: 1,
  params: logitLensParams,
  result: logitLensResult,
  async run(params, { model, progress, signal }) {
    const L = model.config.nLayers;
    const d = model.config.dModel;
    const V = model.config.dVocab;
    const hooks = [...(params.includeEmbeddings ? ['blocks.0.hook_resid_pre'] : []), ...Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_post`)];
    const labels = [...(params.includeEmbeddings ? ['embed'] : []), ...Array.from({ length: L }, (_, l) => String(l))];
    const { tokens, logits, cache } = await model.runWithCache(params.prompt, { names: hooks }, promptOptions(params));
    checkAborted(signal);
    const n = tokens.length;
    const positions = params.positions.map((p) => resolvePosition(p, n));
    const targetParam = params.target === undefined ? null : resolveToken(model, params.target, 'target');

    // Every (entry, position) row at once: [entries * positions, d_model] -> final norm -> unembed.
    const rows = hooks.length * positions.length;
    const stack = new Float32Array(rows * d);
    hooks.forEach((h, e) => {
      const t = cache.get(h)!;
      positions.forEach((p, i) => stack.set(t.data.subarray(p * d, (p + 1) * d), (e * positions.length + i) * d));
    });
    const lensLogits = await model.unembed(model.applyFinalNorm(stack, rows), rows);
    checkAborted(signal);

    const out: LogitLensResult['positions'] = positions.map((p, i) => {
      const finalRow = logits.data.subarray(p * V, (p + 1) * V);
      const finalLogProbs = logSoftmax(finalRow);
      let target: LogitLensResult['positions'][number]['target'];
      const info = (id: number) => tokenInfo(model, id);
      if (targetParam !== null) target = { ...info(targetParam), source: 'param' };
      else if (p < n - 1) target = { ...info(tokens[p + 1]!), source: 'next_token' };
      else target = { ...info(topK(finalRow, 1)[0]!), source: 'final_top1' };
      const layers = hooks.map((_, e) => {
        const r = lensLogits.subarray((e * positions.length + i) * V, (e * positions.length + i + 1) * V);
        const lp = logSoftmax(r);
        return {
          label: labels[e]!,
          top: topK(r, params.k).map((id) => ({ ...info(id), logit: r[id]!, prob: Math.exp(lp[id]!) })),
          target_rank: rankOf(r, target.id),
          target_prob: Math.exp(lp[target.id]!),
          target_logit: r[target.id]!,
          kl_to_final: Math.max(0, klDivergence(finalLogProbs, lp)),
        };
      });
      progress(i + 1, positions.length, `position ${p}`);
      return { position: p, token: info(tokens[p]!), target, layers };
    });
    return { tokens, token_strings: tokenStrings(model, tokens), layer_labels: labels, hooks, positions: out };
  },
  summarize(result) {
    const lines: string[] = [];
    for (const pos of result.positions) {
      lines.push(`position ${pos.position} (${JSON.stringify(pos.token.text)}), target ${JSON.stringify(pos.target.text)} (${pos.target.source}):`);
      for (const l of pos.layers) {
        const top = l.top.slice(0, 5).map((t) => `${JSON.stringify(t.text)} ${fmt(t.prob, 3)}`).join(', ');
        lines.push(`  ${l.label.padStart(5)}  target rank ${String(l.target_rank).padStart(5)} p=${fmt(l.target_prob, 4)}  top: ${top}`);
      }
    }
    return lines.join('\n');
  },
};
