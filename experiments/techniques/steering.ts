/**
 * `steering`: activation addition (ActAdd, Turner et al. 2023; CAA, Rimsky et al. 2023). A steering vector is read
 * from the residual stream at a layer: the difference between a contrast pair of prompts (positive minus negative),
 * or the difference of the means over two sets of prompts, each prompt reduced to its last position or to the mean
 * over its positions; or given directly. The vector times a coefficient is added to the residual stream at that
 * layer (hook_resid_pre or hook_resid_post; every position, or from a position on) while generating. The result has
 * the text generated with and without steering, with the same seed, and where they first differ. Coefficient 0 is
 * an exact no-op (the addition of 0 * vector leaves every activation's bits unchanged).
 */
import { z } from 'zod';
import { EngineError } from '../engine/errors.ts';
import type { HookFn, Model, Prompt, PromptOptions } from '../engine/model.ts';
import { continuationSchema, textOf, type Continuation } from './generate.ts';
import type { Technique } from './technique.ts';
import { checkLayers, fmt, indexSchema, promptFields, promptOptions, promptSchema, tokenStrings } from './metrics.ts';
import { generateTokens, samplingFields, type Generation } from './sampling.ts';

const reduceSchema = z.enum(['last', 'mean'], { error: 'reduce is "last" (the last position) or "mean" (the mean over positions).' });

const vectorSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('contrast'), positive: promptSchema, negative: promptSchema, reduce: reduceSchema.default('last') }).strict(),
  z.object({
    kind: z.literal('means'),
    positive: z.array(promptSchema).min(1, { error: 'Give at least one positive prompt.' }),
    negative: z.array(promptSchema).min(1, { error: 'Give at least one negative prompt.' }),
    reduce: reduceSchema.default('last'),
  }).strict(),
  z.object({ kind: z.literal('given'), values: z.array(z.number()).min(1, { error: 'The vector has no values.' }) }).strict(),
], { error: 'vector is { kind: "contrast", positive, negative }, { kind: "means", positive: [...], negative: [...] } or { kind: "given", values: [...] }.' });

export const steeringParams = z.object({
  ...promptFields,
  /** The layer whose residual stream is read (for the vector) and steered. */
  layer: indexSchema,
  /** resid_pre: blocks.L.hook_resid_pre (the stream entering block L); resid_post: blocks.L.hook_resid_post. */
  hook: z.enum(['resid_pre', 'resid_post'], { error: 'hook is "resid_pre" or "resid_post".' }).default('resid_pre'),
  vector: vectorSchema,
  /** Multiplier of the vector (0 changes nothing). */
  coefficient: z.number({ error: 'coefficient is a number.' }),
  /** Add at every position (default), or at positions from this one on (0 is the first token of the prompt). */
  fromPosition: indexSchema.optional(),
  ...samplingFields,
}).strict();
export type SteeringParams = z.infer<typeof steeringParams>;

export const steeringResult = z.object({
  hook_name: z.string(),
  layer: z.number().int(),
  coefficient: z.number(),
  from_position: z.number().int(),
  vector: z.object({
    kind: z.enum(['contrast', 'means', 'given']),
    reduce: z.enum(['last', 'mean']).nullable(),
    positive_prompts: z.number().int(),
    negative_prompts: z.number().int(),
    /** L2 norm of the vector (before the coefficient). */
    norm: z.number(),
  }),
  prompt_tokens: z.array(z.number().int()),
  prompt_text: z.string(),
  sampling: z.object({ temperature: z.number(), top_k: z.number().int(), top_p: z.number(), seed: z.number().int(), max_new_tokens: z.number().int() }),
  baseline: continuationSchema,
  steered: continuationSchema,
  /** The first new token that differs: its index among the new tokens and its position in the sequence; null if none. */
  first_difference: z.object({ index: z.number().int(), position: z.number().int() }).nullable(),
});
export type SteeringResult = z.infer<typeof steeringResult>;

/** The residual stream at `hookName` for a prompt, reduced to its last position or its mean over positions. */
async function residualAt(model: Model, prompt: Prompt, hookName: string, layer: number, reduce: 'last' | 'mean', opts: PromptOptions): Promise<Float64Array> {
  const stopAtLayer = Math.min(layer + 1, model.config.nLayers);
  const r = await model.run(prompt, { ...opts, cache: { names: [hookName] }, stopAtLayer });
  const act = r.cache.get(hookName)!;
  const [n, d] = act.shape as [number, number];
  const out = new Float64Array(d);
  if (reduce === 'last') for (let j = 0; j < d; j++) out[j] = act.data[(n - 1) * d + j]!;
  else {
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[j] = out[j]! + act.data[i * d + j]!;
    for (let j = 0; j < d; j++) out[j] = out[j]! / n;
  }
  return out;
}

/** The steering vector of the parameters (float32, d_model values). */
export async function steeringVector(
  model: Model,
  params: Pick<SteeringParams, 'vector' | 'layer' | 'hook' | 'prependBos'>,
  tick: () => void = () => {},
): Promise<Float32Array> {
  checkLayers(model, [params.layer]);
  const d = model.config.dModel;
  const v = params.vector;
  if (v.kind === 'given') {
    if (v.values.length !== d) throw new EngineError('invalid_input', `The given vector has ${v.values.length} values; the model's residual stream has ${d}.`);
    return Float32Array.from(v.values);
  }
  const hookName = `blocks.${params.layer}.hook_${params.hook}`;
  const opts = promptOptions(params);
  const mean = async (prompts: Prompt[]) => {
    const acc = new Float64Array(d);
    for (const p of prompts) {
      const r = await residualAt(model, p, hookName, params.layer, v.reduce, opts);
      for (let j = 0; j < d; j++) acc[j] = acc[j]! + r[j]!;
      tick();
    }
    for (let j = 0; j < d; j++) acc[j] = acc[j]! / prompts.length;
    return acc;
  };
  const pos = await mean(v.kind === 'contrast' ? [v.positive] : v.positive);
  const neg = await mean(v.kind === 'contrast' ? [v.negative] : v.negative);
  return Float32Array.from(pos, (x, j) => x - neg[j]!);
}

/**
 * A hook adding coefficient * vector to the rows of an activation [pos, d_model] whose position (ctx.start + row)
 * is at least `fromPosition`. Works with the key/value cache: each step sees only its new position.
 */
export function steeringHook(vector: Float32Array, coefficient: number, fromPosition = 0): HookFn {
  const scaled = Float32Array.from(vector, (x) => Math.fround(coefficient * x));
  return (act, ctx) => {
    const d = scaled.length;
    const n = act.shape[0]!;
    for (let r = Math.max(0, fromPosition - ctx.start); r < n; r++) {
      for (let j = 0; j < d; j++) act.data[r * d + j] = act.data[r * d + j]! + scaled[j]!;
    }
  };
}

function continuation(model: Model, g: Generation): Continuation {
  return {
    tokens: g.newTokens,
    token_strings: tokenStrings(model, g.newTokens),
    text: textOf(model, g.newTokens),
    logprobs: g.logprobs,
    stop_reason: g.stopReason,
  };
}

export const steeringTechnique: Technique<SteeringParams, SteeringResult> = {
  name: 'steering',
  summary: 'Activation addition: a vector from a contrast pair or two prompt sets, added at a layer; text with and without.',
  schemaVersion: 1,
  params: steeringParams,
  result: steeringResult,
  async run(params, { model, progress, signal }) {
    checkLayers(model, [params.layer]);
    const v = params.vector;
    const nVectorPrompts = v.kind === 'contrast' ? 2 : v.kind === 'means' ? v.positive.length + v.negative.length : 0;
    const total = nVectorPrompts + 2 * params.maxNewTokens;
    let done = 0;
    const vector = await steeringVector(model, params, () => progress(++done, total, 'steering vector'));
    const hookName = `blocks.${params.layer}.hook_${params.hook}`;
    const gen = (label: string, hooks?: Record<string, HookFn>) => {
      const base = done;
      return generateTokens(model, params.prompt, {
        ...params,
        ...(hooks ? { hooks } : {}),
        ...(signal ? { signal } : {}),
        onToken: (i) => progress(base + i + 1, total, `${label} token ${i + 1}`),
      });
    };
    const baseline = await gen('baseline');
    done = nVectorPrompts + params.maxNewTokens;
    const steered = await gen('steered', { [hookName]: steeringHook(vector, params.coefficient, params.fromPosition ?? 0) });
    let first: SteeringResult['first_difference'] = null;
    const len = Math.max(baseline.newTokens.length, steered.newTokens.length);
    for (let i = 0; i < len; i++) {
      if (baseline.newTokens[i] !== steered.newTokens[i]) {
        first = { index: i, position: baseline.promptTokens.length + i };
        break;
      }
    }
    let sq = 0;
    for (const x of vector) sq += x * x;
    return {
      hook_name: hookName,
      layer: params.layer,
      coefficient: params.coefficient,
      from_position: params.fromPosition ?? 0,
      vector: {
        kind: v.kind,
        reduce: v.kind === 'given' ? null : v.reduce,
        positive_prompts: v.kind === 'contrast' ? 1 : v.kind === 'means' ? v.positive.length : 0,
        negative_prompts: v.kind === 'contrast' ? 1 : v.kind === 'means' ? v.negative.length : 0,
        norm: Math.sqrt(sq),
      },
      prompt_tokens: baseline.promptTokens,
      prompt_text: textOf(model, baseline.promptTokens),
      sampling: { temperature: params.temperature, top_k: params.topK, top_p: params.topP, seed: params.seed, max_new_tokens: params.maxNewTokens },
      baseline: continuation(model, baseline),
      steered: continuation(model, steered),
      first_difference: first,
    };
  },
  summarize(r) {
    const diff = r.first_difference
      ? `They first differ at new token ${r.first_difference.index} (position ${r.first_difference.position}).`
      : 'The two continuations are identical.';
    return [
      `Steering at ${r.hook_name} with coefficient ${r.coefficient} (vector: ${r.vector.kind}, norm ${fmt(r.vector.norm)}), from position ${r.from_position}.`,
      `Prompt: ${JSON.stringify(r.prompt_text)}`,
      `Without steering: ${JSON.stringify(r.baseline.text)}`,
      `With steering:    ${JSON.stringify(r.steered.text)}`,
      diff,
    ].join('\n');
  },
};
