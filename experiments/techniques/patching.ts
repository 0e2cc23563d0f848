/**
 * `patching` (activation patching): run the corrupted prompt while copying one activation from the clean run, and
 * see how much of the clean behaviour comes back. The metric is the logit difference (answer minus wrong token)
 * at a position, normalised as (patched - corrupted) / (clean - corrupted): 0 when the patch changes nothing, 1
 * when it restores the clean run. Two sweeps (TransformerLens' patching.py):
 * - resid_pre by layer and position (blocks.L.hook_resid_pre, one position at a time);
 * - attention head outputs by layer and head (blocks.L.attn.hook_z of one head, every position).
 */
import { z } from 'zod';
import { EngineError } from '../engine/errors.ts';
import type { Tensor } from '../engine/hooks.ts';
import type { Hooks, Model } from '../engine/model.ts';
import type { Technique } from './technique.ts';
import {
  checkAborted, checkLayers, fmt, indexSchema, logitDiff, logitDiffMetricFields, positionSchema, promptOptions, promptSchema, range,
  resolvePosition, resolveToken, tokenInfo, tokenInfoSchema, tokenStrings,
} from './metrics.ts';

const kindSchema = z.enum(['resid_pre', 'attn_head_out'], { error: 'A patching kind is "resid_pre" or "attn_head_out".' });

export const patchingParams = z.object({
  clean: promptSchema,
  corrupted: promptSchema,
  prependBos: z.boolean().optional(),
  ...logitDiffMetricFields,
  /** Which sweeps to run (default both). */
  kinds: z.array(kindSchema).min(1, { error: 'Give at least one kind of patching.' }).default(['resid_pre', 'attn_head_out']),
  /** Layers to patch (default all). */
  layers: z.array(indexSchema).min(1, { error: 'Give at least one layer, or leave layers out for all.' }).optional(),
  /** Positions for the resid_pre sweep (default all; negative from the end). */
  positions: z.array(positionSchema).min(1, { error: 'Give at least one position, or leave positions out for all.' }).optional(),
}).strict();
export type PatchingParams = z.infer<typeof patchingParams>;

export const patchingResult = z.object({
  tokens: z.object({ clean: z.array(z.number().int()), corrupted: z.array(z.number().int()) }),
  token_strings: z.object({ clean: z.array(z.string()), corrupted: z.array(z.string()) }),
  answer: tokenInfoSchema,
  wrong: tokenInfoSchema,
  /** Position whose logits give the metric. */
  position: z.number().int(),
  clean_logit_diff: z.number(),
  corrupted_logit_diff: z.number(),
  /** values[i][j]: normalised metric when resid_pre of layers[i] at positions[j] comes from the clean run. */
  resid_pre: z.object({ layers: z.array(z.number().int()), positions: z.array(z.number().int()), values: z.array(z.array(z.number())) }).nullable(),
  /** values[i][h]: normalised metric when head h of layers[i] (hook_z, every position) comes from the clean run. */
  attn_head_out: z.object({ layers: z.array(z.number().int()), heads: z.array(z.number().int()), values: z.array(z.array(z.number())) }).nullable(),
});
export type PatchingResult = z.infer<typeof patchingResult>;

/** (patched - corrupted) / (clean - corrupted): 0 for no effect, 1 for a full restoration. */
export function normalisedPatch(patched: number, clean: number, corrupted: number): number {
  return (patched - corrupted) / (clean - corrupted) + 0; // + 0: no -0 in results
}

/** Copies rows `positions` of axis 0 (positions) from `source` into a copy of `act`. */
export function patchPositions(act: Tensor, source: Tensor, positions: readonly number[]): Float32Array {
  const width = act.data.length / act.shape[0]!;
  const out = act.data.slice();
  for (const p of positions) out.set(source.data.subarray(p * width, (p + 1) * width), p * width);
  return out;
}

/** Copies head `head` of a [pos, head, d_head] activation (every position) from `source` into a copy of `act`. */
export function patchHead(act: Tensor, source: Tensor, head: number): Float32Array {
  const [n, H, dh] = act.shape as [number, number, number];
  const out = act.data.slice();
  for (let p = 0; p < n; p++) {
    const o = (p * H + head) * dh;
    out.set(source.data.subarray(o, o + dh), o);
  }
  return out;
}

async function metricWith(model: Model, tokens: number[], hooks: Hooks, pos: number, a: number, b: number): Promise<number> {
  const { logits } = await model.runWithHooks(tokens, hooks);
  return logitDiff(logits, pos, a, b);
}

export const patchingTechnique: Technique<PatchingParams, PatchingResult> = {
  name: 'patching',
  summary: 'Activation patching from a clean into a corrupted prompt: resid_pre by layer and position, head outputs by layer and head.',
  schemaVersion: 1,
  params: patchingParams,
  result: patchingResult,
  async run(params, { model, progress, signal }) {
    const opts = promptOptions(params);
    const cleanTokens = model.toTokens(params.clean, opts);
    const corruptTokens = model.toTokens(params.corrupted, opts);
    if (cleanTokens.length !== corruptTokens.length) {
      throw new EngineError(
        'invalid_input',
        `The clean prompt is ${cleanTokens.length} tokens and the corrupted prompt ${corruptTokens.length}; activation patching needs prompts of the same length in tokens.`,
        { clean: tokenStrings(model, cleanTokens), corrupted: tokenStrings(model, corruptTokens) },
      );
    }
    const n = cleanTokens.length;
    const answer = resolveToken(model, params.answer, 'answer');
    const wrong = resolveToken(model, params.wrong, 'wrong');
    const pos = resolvePosition(params.position, n);
    const layers = params.layers ?? range(model.config.nLayers);
    checkLayers(model, layers);
    const positions = params.positions ? params.positions.map((p) => resolvePosition(p, n)) : range(n);
    const kinds = new Set(params.kinds);

    const names: string[] = [];
    for (const l of layers) {
      if (kinds.has('resid_pre')) names.push(`blocks.${l}.hook_resid_pre`);
      if (kinds.has('attn_head_out')) names.push(`blocks.${l}.attn.hook_z`);
    }
    const clean = await model.runWithCache(cleanTokens, { names });
    const cleanDiff = logitDiff(clean.logits, pos, answer, wrong);
    const corruptDiff = logitDiff(await model.forward(corruptTokens), pos, answer, wrong);
    if (!(Math.abs(cleanDiff - corruptDiff) > 1e-6 * Math.max(1, Math.abs(cleanDiff)))) {
      throw new EngineError(
        'invalid_input',
        `The clean and corrupted prompts give the same logit difference (${fmt(cleanDiff)}), so a patch's effect cannot be normalised; choose prompts (or answer and wrong tokens) the model tells apart.`,
      );
    }
    const norm = (x: number) => normalisedPatch(x, cleanDiff, corruptDiff);
    const total = layers.length * kinds.size;
    let done = 0;

    let residPre: PatchingResult['resid_pre'] = null;
    if (kinds.has('resid_pre')) {
      const values: number[][] = [];
      for (const l of layers) {
        const name = `blocks.${l}.hook_resid_pre`;
        const source = clean.cache.get(name)!;
        const rowValues: number[] = [];
        for (const p of positions) {
          checkAborted(signal);
          rowValues.push(norm(await metricWith(model, corruptTokens, { [name]: (act) => patchPositions(act, source, [p]) }, pos, answer, wrong)));
        }
        values.push(rowValues);
        progress(++done, total, `resid_pre layer ${l}`);
      }
      residPre = { layers, positions, values };
    }

    let headOut: PatchingResult['attn_head_out'] = null;
    if (kinds.has('attn_head_out')) {
      const heads = range(model.config.nHeads);
      const values: number[][] = [];
      for (const l of layers) {
        const name = `blocks.${l}.attn.hook_z`;
        const source = clean.cache.get(name)!;
        const rowValues: number[] = [];
        for (const h of heads) {
          checkAborted(signal);
          rowValues.push(norm(await metricWith(model, corruptTokens, { [name]: (act) => patchHead(act, source, h) }, pos, answer, wrong)));
        }
        values.push(rowValues);
        progress(++done, total, `attn_head_out layer ${l}`);
      }
      headOut = { layers, heads, values };
    }

    return {
      tokens: { clean: cleanTokens, corrupted: corruptTokens },
      token_strings: { clean: tokenStrings(model, cleanTokens), corrupted: tokenStrings(model, corruptTokens) },
      answer: tokenInfo(model, answer),
      wrong: tokenInfo(model, wrong),
      position: pos,
      clean_logit_diff: cleanDiff,
      corrupted_logit_diff: corruptDiff,
      resid_pre: residPre,
      attn_head_out: headOut,
    };
  },
  summarize(result) {
    const lines = [
      `logit difference ${JSON.stringify(result.answer.text)} - ${JSON.stringify(result.wrong.text)} at position ${result.position}: clean ${fmt(result.clean_logit_diff)}, corrupted ${fmt(result.corrupted_logit_diff)}`,
    ];
    if (result.resid_pre) {
      lines.push('resid_pre (rows: layers; columns: positions):');
      lines.push(`        ${result.resid_pre.positions.map((p) => JSON.stringify(result.token_strings.clean[p]).slice(0, 7).padStart(8)).join('')}`);
      result.resid_pre.values.forEach((r, i) => lines.push(`  L${String(result.resid_pre!.layers[i]).padEnd(4)}${r.map((v) => fmt(v, 3).padStart(8)).join('')}`));
    }
    if (result.attn_head_out) {
      lines.push('attention heads (rows: layers; columns: heads):');
      result.attn_head_out.values.forEach((r, i) => lines.push(`  L${String(result.attn_head_out!.layers[i]).padEnd(4)}${r.map((v) => fmt(v, 3).padStart(8)).join('')}`));
    }
    return lines.join('\n');
  },
};
