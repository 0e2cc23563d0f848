/**
 * `cache`: run a prompt with a cache of selected hooks and return the tokens, the logits and the activations as
 * nested arrays in their shapes (TransformerLens' run_with_cache, as a JSON document).
 */
import { z } from 'zod';
import type { Tensor } from '../engine/hooks.ts';
import type { Technique } from './technique.ts';
import { fmt, nestedSchema, promptFields, promptOptions, toNested, tokenStrings, type Nested } from './metrics.ts';

const hooksSchema = z.union([
  z.array(z.string().min(1, { error: 'A hook name cannot be empty.' })).min(1, { error: 'Name at least one hook, or give a pattern.' }),
  z.object({
    pattern: z.string().min(1).refine(
      (p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      },
      { error: 'The hook pattern is not a valid regular expression.' },
    ),
  }).strict(),
], { error: 'hooks is a list of hook names or { pattern: "regular expression" }.' });

export const cacheParams = z.object({
  ...promptFields,
  /** Hook names, or a regular expression over hook names; default: every hook except attn.hook_result. */
  hooks: hooksSchema.optional(),
  /** Keep only the last position of the logits and of every activation (its position axis keeps length 1). */
  lastPositionOnly: z.boolean().default(false),
  /** Include the logits (default true). */
  includeLogits: z.boolean().default(true),
}).strict();
export type CacheParams = z.infer<typeof cacheParams>;

export const cacheResult = z.object({
  tokens: z.array(z.number().int()),
  token_strings: z.array(z.string()),
  /** The positions kept (every position, or only the last). */
  positions: z.array(z.number().int()),
  /** [pos][d_vocab] (pos = the positions kept); null when includeLogits is false. */
  logits: z.array(z.array(z.number())).nullable(),
  /** Activations by hook name, nested arrays in `shapes[name]`; masked attention scores (-Infinity) are null. */
  activations: z.record(z.string(), nestedSchema),
  shapes: z.record(z.string(), z.array(z.number().int())),
});
export type CacheResult = z.infer<typeof cacheResult>;

/** The axis of a hook's activation that indexes (query) positions. */
function positionAxis(name: string): number {
  return name.endsWith('hook_pattern') || name.endsWith('hook_attn_scores') ? 1 : 0;
}

/** Keeps only index `at` of axis `axis` (the axis stays, with length 1). */
function sliceAxis(t: Tensor, axis: number, at: number): Tensor {
  const shape = [...t.shape];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const data = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) data.set(t.data.subarray((o * shape[axis]! + at) * inner, (o * shape[axis]! + at + 1) * inner), o * inner);
  shape[axis] = 1;
  return { data, shape };
}

export const cacheTechnique: Technique<CacheParams, CacheResult> = {
  name: 'cache',
  summary: 'Run a prompt and return the logits and the selected hook activations (run_with_cache).',
  schemaVersion: 1,
  params: cacheParams,
  result: cacheResult,
  async run(params, { model, progress }) {
    const selection = params.hooks === undefined
      ? {}
      : Array.isArray(params.hooks)
        ? { names: params.hooks }
        : { filter: ((re) => (name: string) => re.test(name))(new RegExp(params.hooks.pattern)) };
    const { tokens, logits, cache } = await model.runWithCache(params.prompt, selection, promptOptions(params));
    const n = tokens.length;
    const last = params.lastPositionOnly;
    const positions = last ? [n - 1] : Array.from({ length: n }, (_, i) => i);
    const activations: Record<string, Nested> = {};
    const shapes: Record<string, number[]> = {};
    for (const [name, t] of cache) {
      const kept = last ? sliceAxis(t, positionAxis(name), n - 1) : t;
      activations[name] = toNested(kept.data, kept.shape);
      shapes[name] = kept.shape;
    }
    let logitRows: number[][] | null = null;
    if (params.includeLogits) {
      const V = logits.shape[1]!;
      logitRows = positions.map((p) => Array.from(logits.data.subarray(p * V, (p + 1) * V)));
    }
    progress(1, 1, 'cached');
    return { tokens, token_strings: tokenStrings(model, tokens), positions, logits: logitRows, activations, shapes };
  },
  summarize(result) {
    const lines = [`${result.tokens.length} tokens: ${JSON.stringify(result.token_strings)}`];
    if (result.logits) {
      const lastRow = result.logits[result.logits.length - 1]!;
      let best = 0;
      for (let i = 1; i < lastRow.length; i++) if (lastRow[i]! > lastRow[best]!) best = i;
      lines.push(`top next token at the last position: id ${best} (logit ${fmt(lastRow[best]!)})`);
    }
    lines.push(`${Object.keys(result.shapes).length} activations:`);
    for (const [name, shape] of Object.entries(result.shapes)) lines.push(`  ${name} [${shape.join(', ')}]`);
    return lines.join('\n');
  },
};
