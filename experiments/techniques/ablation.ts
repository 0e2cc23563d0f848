/**
 * `ablation`: zero or mean ablation of attention heads (blocks.L.attn.hook_z, one head at every position) and MLP
 * neurons (blocks.L.mlp.hook_post), with a metric (logit difference or next-token loss) before and after. Mean
 * ablation replaces a head's z or a neuron's activation by its mean over the prompt's positions, or over every
 * position of a given set of prompts.
 */
import { z } from 'zod';
import { EngineError } from '../engine/errors.ts';
import type { Tensor } from '../engine/hooks.ts';
import { meanNextTokenLoss, type Hooks, type Model } from '../engine/model.ts';
import type { Technique } from './technique.ts';
import {
  checkAborted, checkHeads, checkLayers, fmt, indexSchema, logitDiff, logitDiffMetricFields, promptFields, promptOptions, promptSchema,
  resolvePosition, resolveToken, tokenInfoSchema, tokenInfo, tokenStrings,
} from './metrics.ts';

const metricSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('logit_diff'), ...logitDiffMetricFields }).strict(),
  z.object({ kind: z.literal('loss') }).strict(),
], { error: 'metric is { kind: "loss" } or { kind: "logit_diff", answer, wrong, position? }.' });

export const ablationParams = z.object({
  ...promptFields,
  heads: z.array(z.object({ layer: indexSchema, head: indexSchema }).strict()).default([]),
  neurons: z.array(z.object({ layer: indexSchema, neuron: indexSchema }).strict()).default([]),
  method: z.enum(['zero', 'mean'], { error: 'method is "zero" or "mean".' }).default('zero'),
  /** Mean ablation: take the means over every position of these prompts instead of the prompt's own positions. */
  meanPrompts: z.array(promptSchema).min(1, { error: 'Give at least one prompt for the means, or leave meanPrompts out.' }).optional(),
  /** The metric (default: next-token loss of the prompt). */
  metric: metricSchema.default({ kind: 'loss' }),
  /** Also ablate each head and neuron on its own. */
  individually: z.boolean().default(false),
}).strict().refine((p) => p.heads.length + p.neurons.length > 0, { error: 'Name at least one head or neuron to ablate.', path: ['heads'] });
export type AblationParams = z.infer<typeof ablationParams>;

const effectSchema = z.object({ after: z.number(), delta: z.number() });

export const ablationResult = z.object({
  tokens: z.array(z.number().int()),
  token_strings: z.array(z.string()),
  method: z.enum(['zero', 'mean']),
  metric: z.object({
    kind: z.enum(['logit_diff', 'loss']),
    answer: tokenInfoSchema.nullable(),
    wrong: tokenInfoSchema.nullable(),
    position: z.number().int().nullable(),
  }),
  /** Where the means come from: "prompt" (its own positions) or "mean_prompts". */
  mean_over: z.enum(['prompt', 'mean_prompts']).nullable(),
  /** The metric without ablation, with everything ablated together, and the change (after - before). */
  before: z.number(),
  after: z.number(),
  delta: z.number(),
  /** With `individually`: each head and neuron ablated on its own. */
  individual: z.array(effectSchema.extend({
    label: z.string(),
    layer: z.number().int(),
    head: z.number().int().nullable(),
    neuron: z.number().int().nullable(),
  })).nullable(),
});
export type AblationResult = z.infer<typeof ablationResult>;

interface Unit {
  label: string;
  layer: number;
  head: number | null;
  neuron: number | null;
  hook: string;
}

/** Per-unit replacement values: zeros, or the mean over positions of the given caches. */
function replacementFor(unit: Unit, width: number, caches: Map<string, Tensor>[] | null): Float32Array {
  const out = new Float32Array(width);
  if (!caches) return out;
  const acc = new Float64Array(width);
  let count = 0;
  for (const cache of caches) {
    const t = cache.get(unit.hook)!;
    const n = t.shape[0]!;
    for (let p = 0; p < n; p++) {
      if (unit.head !== null) {
        const [, H, dh] = t.shape as [number, number, number];
        for (let e = 0; e < dh; e++) acc[e] = acc[e]! + t.data[(p * H + unit.head) * dh + e]!;
      } else acc[0] = acc[0]! + t.data[p * t.shape[1]! + unit.neuron!]!;
      count++;
    }
  }
  for (let e = 0; e < width; e++) out[e] = acc[e]! / count;
  return out;
}

/** Hooks that write each unit's replacement at every position. */
function ablationHooks(model: Model, units: { unit: Unit; value: Float32Array }[]): Hooks {
  return units.map(({ unit, value }) => ({
    name: unit.hook,
    fn: (act: Tensor) => {
      const n = act.shape[0]!;
      if (unit.head !== null) {
        const { nHeads: H, dHead: dh } = model.config;
        for (let p = 0; p < n; p++) act.data.set(value, (p * H + unit.head) * dh);
      } else {
        const w = act.shape[1]!;
        for (let p = 0; p < n; p++) act.data[p * w + unit.neuron!] = value[0]!;
      }
    },
  }));
}

export const ablationTechnique: Technique<AblationParams, AblationResult> = {
  name: 'ablation',
  summary: 'Zero or mean ablation of heads and neurons, with the change in logit difference or loss.',
  schemaVersion: 1,
  params: ablationParams,
  result: ablationResult,
  async run(params, { model, progress, signal }) {
    const c = model.config;
    checkLayers(model, [...params.heads.map((h) => h.layer), ...params.neurons.map((x) => x.layer)]);
    checkHeads(model, params.heads.map((h) => h.head));
    for (const x of params.neurons) {
      if (x.neuron >= c.dMlp) throw new EngineError('invalid_input', `There is no neuron ${x.neuron}: each MLP has ${c.dMlp} neurons (0 to ${c.dMlp - 1}).`);
    }
    const units: Unit[] = [
      ...params.heads.map((h) => ({ label: `L${h.layer}H${h.head}`, layer: h.layer, head: h.head, neuron: null, hook: `blocks.${h.layer}.attn.hook_z` })),
      ...params.neurons.map((x) => ({ label: `L${x.layer}N${x.neuron}`, layer: x.layer, head: null, neuron: x.neuron, hook: `blocks.${x.layer}.mlp.hook_post` })),
    ];
    const opts = promptOptions(params);
    const tokens = model.toTokens(params.prompt, opts);
    const m = params.metric;
    const answer = m.kind === 'logit_diff' ? resolveToken(model, m.answer, 'answer') : null;
    const wrong = m.kind === 'logit_diff' ? resolveToken(model, m.wrong, 'wrong') : null;
    const pos = m.kind === 'logit_diff' ? resolvePosition(m.position, tokens.length) : null;
    if (m.kind === 'loss' && tokens.length < 2) throw new EngineError('invalid_input', 'The loss metric needs a prompt of at least two tokens.');
    const metricOf = (logits: Tensor) => (m.kind === 'loss' ? meanNextTokenLoss(logits, tokens) : logitDiff(logits, pos!, answer!, wrong!));

    const hookNames = [...new Set(units.map((u) => u.hook))];
    const base = await model.runWithCache(tokens, { names: hookNames });
    const before = metricOf(base.logits);
    let caches: Map<string, Tensor>[] | null = null;
    if (params.method === 'mean') {
      if (params.meanPrompts) {
        caches = [];
        for (const p of params.meanPrompts) {
          checkAborted(signal);
          caches.push((await model.runWithCache(p, { names: hookNames }, opts)).cache);
        }
      } else caches = [base.cache];
    }
    const values = units.map((unit) => ({ unit, value: replacementFor(unit, unit.head !== null ? c.dHead : 1, caches) }));
    const totalRuns = 1 + (params.individually ? units.length : 0);
    checkAborted(signal);
    const after = metricOf((await model.runWithHooks(tokens, ablationHooks(model, values))).logits);
    progress(1, totalRuns, 'all together');
    let individual: AblationResult['individual'] = null;
    if (params.individually) {
      individual = [];
      for (const [i, v] of values.entries()) {
        checkAborted(signal);
        const a = metricOf((await model.runWithHooks(tokens, ablationHooks(model, [v]))).logits);
        individual.push({ label: v.unit.label, layer: v.unit.layer, head: v.unit.head, neuron: v.unit.neuron, after: a, delta: a - before });
        progress(i + 2, totalRuns, v.unit.label);
      }
    }
    return {
      tokens,
      token_strings: tokenStrings(model, tokens),
      method: params.method,
      metric: {
        kind: m.kind,
        answer: answer === null ? null : tokenInfo(model, answer),
        wrong: wrong === null ? null : tokenInfo(model, wrong),
        position: pos,
      },
      mean_over: params.method === 'mean' ? (params.meanPrompts ? 'mean_prompts' : 'prompt') : null,
      before,
      after,
      delta: after - before,
      individual,
    };
  },
  summarize(result) {
    const what = result.metric.kind === 'loss' ? 'loss' : `logit difference ${JSON.stringify(result.metric.answer!.text)} - ${JSON.stringify(result.metric.wrong!.text)}`;
    const lines = [`${result.method} ablation, ${what}: before ${fmt(result.before)}, after ${fmt(result.after)} (change ${fmt(result.delta)})`];
    for (const x of result.individual ?? []) lines.push(`  ${x.label.padEnd(10)} after ${fmt(x.after)} (change ${fmt(x.delta)})`);
    return lines.join('\n');
  },
};
