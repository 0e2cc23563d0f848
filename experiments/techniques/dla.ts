/**
 * `dla` (direct logit attribution): how much each component's direct write to the residual stream at a position
 * moves a logit difference (target minus contrast token). The final residual stream is the sum of the embeddings
 * (+ learned positions), every head's result (attn.hook_result), each layer's attention output bias b_O and each
 * MLP's output (with its bias). The final norm is linear once its scale is fixed, so, as TransformerLens' logit_attrs
 * with the cached ln_final.hook_scale, each part contributes ((c - mean c) / scale) * w_ln . (W_U[:, target] -
 * W_U[:, contrast]) (RMSNorm: no centring), and the norm's bias and the unembedding bias give a constant part. The
 * parts sum to the logit difference of the run.
 */
import { z } from 'zod';
import type { Technique } from './technique.ts';
import { fmt, logitDiff, positionSchema, promptFields, promptOptions, resolvePosition, resolveToken, tokenInfo, tokenInfoSchema, tokenSchema, tokenStrings } from './metrics.ts';

export const dlaParams = z.object({
  ...promptFields,
  /** The token whose logit is explained. */
  target: tokenSchema,
  /** Explain target minus this token's logit (default: the target's logit alone). */
  contrast: tokenSchema.optional(),
  /** The position whose logits are explained (default -1, the last). */
  position: positionSchema.default(-1),
}).strict();
export type DlaParams = z.infer<typeof dlaParams>;

const componentKind = z.enum(['embed', 'pos_embed', 'head', 'attn_bias', 'mlp', 'final_bias']);

export const dlaResult = z.object({
  tokens: z.array(z.number().int()),
  token_strings: z.array(z.string()),
  position: z.number().int(),
  target: tokenInfoSchema,
  contrast: tokenInfoSchema.nullable(),
  /** The run's logit difference, logits[position, target] - logits[position, contrast]. */
  total: z.number(),
  /** The sum of every component's value (equals total up to float rounding). */
  sum_of_parts: z.number(),
  /** ln_final.hook_scale at the position. */
  final_scale: z.number(),
  /** Every part, in residual-stream order. */
  components: z.array(z.object({
    label: z.string(),
    kind: componentKind,
    layer: z.number().int().nullable(),
    head: z.number().int().nullable(),
    value: z.number(),
  })),
  /** The same values by kind: heads [layer][head], mlps [layer], attn_bias [layer] (0 without b_O). */
  heads: z.array(z.array(z.number())),
  mlps: z.array(z.number()),
  attn_bias: z.array(z.number()),
  embed: z.number(),
  /** Learned positional embeddings (GPT-2); null for rotary models. */
  pos_embed: z.number().nullable(),
  /** Final norm bias and unembedding bias. */
  final_bias: z.number(),
});
export type DlaResult = z.infer<typeof dlaResult>;

export const dlaTechnique: Technique<DlaParams, DlaResult> = {
  name: 'dla',
  summary: 'Direct logit attribution of a logit difference to the embeddings, each head, each MLP and the biases.',
  schemaVersion: 1,
  params: dlaParams,
  result: dlaResult,
  async run(params, { model, progress }) {
    const c = model.config;
    const d = c.dModel;
    const target = resolveToken(model, params.target, 'target');
    const contrast = params.contrast === undefined ? null : resolveToken(model, params.contrast, 'contrast');
    const learnedPos = c.positional === 'learned';
    const names = ['hook_embed', ...(learnedPos ? ['hook_pos_embed'] : []), 'ln_final.hook_scale'];
    for (let l = 0; l < c.nLayers; l++) names.push(`blocks.${l}.attn.hook_result`, `blocks.${l}.hook_mlp_out`);
    const { tokens, logits, cache } = await model.runWithCache(params.prompt, { names }, promptOptions(params));
    const p = resolvePosition(params.position, tokens.length);

    // The logit-difference direction after the final norm's weight, and the constant part.
    const { w, b } = model.finalNormWeights();
    const u = new Float64Array(d);
    const ut = model.weightRows('W_U', target, 1).data;
    const uc = contrast === null ? null : model.weightRows('W_U', contrast, 1).data;
    for (let j = 0; j < d; j++) u[j] = ut[j]! - (uc ? uc[j]! : 0);
    let finalBias = 0;
    if (b) for (let j = 0; j < d; j++) finalBias += b[j]! * u[j]!;
    const bu = model.unembedBias();
    if (bu) finalBias += bu[target]! - (contrast === null ? 0 : bu[contrast]!);
    const dir = new Float64Array(d);
    let dirSum = 0;
    for (let j = 0; j < d; j++) {
      dir[j] = w[j]! * u[j]!;
      dirSum += dir[j]!;
    }
    const scale = cache.get('ln_final.hook_scale')!.data[p]!;
    const centre = c.normType === 'layernorm';
    /** A residual-stream vector's contribution through the fixed-scale final norm. */
    const attr = (v: ArrayLike<number>, offset: number): number => {
      let dot = 0;
      let mean = 0;
      for (let j = 0; j < d; j++) {
        dot += v[offset + j]! * dir[j]!;
        mean += v[offset + j]!;
      }
      mean /= d;
      return (dot - (centre ? mean * dirSum : 0)) / scale;
    };

    const components: DlaResult['components'] = [];
    const push = (label: string, kind: z.infer<typeof componentKind>, layer: number | null, head: number | null, value: number) => {
      components.push({ label, kind, layer, head, value });
      return value;
    };
    const embed = push('embed', 'embed', null, null, attr(cache.get('hook_embed')!.data, p * d));
    const posEmbed = learnedPos ? push('pos_embed', 'pos_embed', null, null, attr(cache.get('hook_pos_embed')!.data, p * d)) : null;
    const heads: number[][] = [];
    const mlps: number[] = [];
    const attnBias: number[] = [];
    for (let l = 0; l < c.nLayers; l++) {
      const result = cache.get(`blocks.${l}.attn.hook_result`)!.data;
      heads.push(Array.from({ length: c.nHeads }, (_, h) => push(`L${l}H${h}`, 'head', l, h, attr(result, (p * c.nHeads + h) * d))));
      const bo = model.attnOutBias(l);
      attnBias.push(bo ? push(`L${l} attn bias`, 'attn_bias', l, null, attr(bo, 0)) : 0);
      mlps.push(push(`L${l} MLP`, 'mlp', l, null, attr(cache.get(`blocks.${l}.hook_mlp_out`)!.data, p * d)));
    }
    push('final bias', 'final_bias', null, null, finalBias);
    progress(1, 1, 'attributed');
    const sum = components.reduce((s, x) => s + x.value, 0);
    return {
      tokens,
      token_strings: tokenStrings(model, tokens),
      position: p,
      target: tokenInfo(model, target),
      contrast: contrast === null ? null : tokenInfo(model, contrast),
      total: logitDiff(logits, p, target, contrast),
      sum_of_parts: sum,
      final_scale: scale,
      components,
      heads,
      mlps,
      attn_bias: attnBias,
      embed,
      pos_embed: posEmbed,
      final_bias: finalBias,
    };
  },
  summarize(result) {
    const what = result.contrast ? `${JSON.stringify(result.target.text)} - ${JSON.stringify(result.contrast.text)}` : JSON.stringify(result.target.text);
    const lines = [`logit ${what} at position ${result.position}: ${fmt(result.total)} (parts sum to ${fmt(result.sum_of_parts)})`];
    const sorted = [...result.components].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, 12);
    for (const x of sorted) lines.push(`  ${x.label.padEnd(16)} ${fmt(x.value).padStart(10)}`);
    return lines.join('\n');
  },
};
