/**
 * Shared pieces of the techniques: prompt and token parameters, positions, log-softmax, top-k, logit differences,
 * token strings, nested arrays for JSON results. Everything reads Tensors produced by the model's hooks.
 */
import { z } from 'zod';
import { EngineError } from '../engine/errors.ts';
import type { Tensor } from '../engine/hooks.ts';
import type { Model, Prompt, PromptOptions } from '../engine/model.ts';

/** A prompt: text, or token ids. */
export const promptSchema = z.union([
  z.string().min(1, { error: 'The prompt is empty.' }),
  z
    .array(z.number({ error: 'Token ids are numbers.' }).int({ error: 'Token ids are whole numbers.' }).nonnegative({ error: 'Token ids are not negative.' }))
    .min(1, { error: 'The prompt has no tokens.' }),
], { error: 'A prompt is text or an array of token ids.' });

/** The prompt fields most techniques take. */
export const promptFields = {
  prompt: promptSchema,
  /** Prepend BOS (default: the architecture's TransformerLens default for text; false for token ids). */
  prependBos: z.boolean().optional(),
};

/** A token: its id, or text that is exactly one token (e.g. " Mary"). */
export const tokenSchema = z.union([
  z.number().int({ error: 'A token id is a whole number.' }).nonnegative({ error: 'A token id is not negative.' }),
  z.string().min(1, { error: 'A token given as text cannot be empty.' }),
], { error: 'A token is a token id or text that is exactly one token.' });
export type TokenSpec = z.infer<typeof tokenSchema>;

/** A position in the prompt; negative counts from the end (-1 is the last token). */
export const positionSchema = z.number().int({ error: 'A position is a whole number (negative counts from the end).' });

/** A whole number that is not negative (layer, head, neuron indices). */
export const indexSchema = z.number().int({ error: 'Indices are whole numbers.' }).nonnegative({ error: 'Indices are not negative.' });

export function promptOptions(params: { prependBos?: boolean | undefined }): PromptOptions {
  return params.prependBos === undefined ? {} : { prependBos: params.prependBos };
}

/** Token ids of a prompt parameter (validated against the vocabulary and context by the model). */
export function promptTokens(model: Model, prompt: Prompt, params: { prependBos?: boolean | undefined }): number[] {
  return model.toTokens(prompt, promptOptions(params));
}

/** A token parameter as an id: text must be exactly one token (no BOS added). */
export function resolveToken(model: Model, spec: TokenSpec, what: string): number {
  if (typeof spec === 'number') {
    if (spec >= model.config.dVocab) throw new EngineError('invalid_input', `${what}: token id ${spec} is not in the vocabulary (0 to ${model.config.dVocab - 1}).`);
    return spec;
  }
  const ids = model.tokenize(spec);
  if (ids.length !== 1) {
    throw new EngineError(
      'invalid_input',
      `${what}: ${JSON.stringify(spec)} is ${ids.length} tokens (${JSON.stringify(tokenStrings(model, ids))}), not one; give a single token or its id.`,
      { tokens: ids },
    );
  }
  return ids[0]!;
}

/** A position parameter as an index into `n` tokens (negative from the end). */
export function resolvePosition(pos: number, n: number, what = 'position'): number {
  const p = pos < 0 ? n + pos : pos;
  if (p < 0 || p >= n) throw new EngineError('invalid_input', `The ${what} ${pos} is outside the prompt's ${n} tokens (0 to ${n - 1}, or -1 to -${n}).`);
  return p;
}

/** Checks layer indices against the model. */
export function checkLayers(model: Model, layers: readonly number[], what = 'layer'): void {
  for (const l of layers) {
    if (l >= model.config.nLayers) throw new EngineError('invalid_input', `There is no ${what} ${l}: the model has ${model.config.nLayers} layers (0 to ${model.config.nLayers - 1}).`);
  }
}

/** Checks head indices against the model. */
export function checkHeads(model: Model, heads: readonly number[]): void {
  for (const h of heads) {
    if (h >= model.config.nHeads) throw new EngineError('invalid_input', `There is no head ${h}: each layer has ${model.config.nHeads} heads (0 to ${model.config.nHeads - 1}).`);
  }
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Row `i` of a 2-D tensor (a view). */
export function row(t: Tensor, i: number): Float32Array {
  const w = t.shape[t.shape.length - 1]!;
  return t.data.subarray(i * w, (i + 1) * w);
}

/** Log-softmax of a row, in float64. */
export function logSoftmax(values: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i]! - max);
  const lse = Math.log(sum) + max;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! - lse;
  return out;
}

/** The ids of the k largest values, largest first (ties: lower id first). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const kk = Math.min(k, values.length);
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (best.length === kk && v <= values[best[kk - 1]!]!) continue;
    let j = best.length < kk ? best.length : kk - 1;
    if (best.length < kk) best.push(i);
    while (j > 0 && values[best[j - 1]!]! < v) {
      best[j] = best[j - 1]!;
      j--;
    }
    best[j] = i;
  }
  return best;
}

/** A token's rank among the values: how many are strictly larger (0 is the top). */
export function rankOf(values: ArrayLike<number>, id: number): number {
  const v = values[id]!;
  let r = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > v) r++;
  return r;
}

/** KL(p || q) from two log-probability rows. */
export function klDivergence(logP: Float64Array, logQ: Float64Array): number {
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]!);
    if (p > 0) kl += p * (logP[i]! - logQ[i]!);
  }
  return kl;
}

/** logits[pos, a] - logits[pos, b] (or just logits[pos, a] when b is null). */
export function logitDiff(logits: Tensor, pos: number, a: number, b: number | null): number {
  const r = row(logits, pos);
  return r[a]! - (b === null ? 0 : r[b]!);
}

/**
 * Each token's own text, for displays. Ids the tokenizer does not know (embedding rows beyond its vocabulary, which
 * some models pad to a round size) show as `[id N]`.
 */
export function tokenStrings(model: Model, ids: readonly number[]): string[] {
  return ids.map((id) => (model.tokenizer.idToToken(id) === undefined ? `[id ${id}]` : model.tokenizer.tokenStrings([id])[0]!));
}

/** A token as {id, text} for results. */
export function tokenInfo(model: Model, id: number): { id: number; text: string } {
  return { id, text: tokenStrings(model, [id])[0]! };
}

export const tokenInfoSchema = z.object({ id: z.number().int(), text: z.string() });

/** Nested arrays of numbers (an activation in its shape); -Infinity (masked attention scores) becomes null. */
export type Nested = number | null | Nested[];
export const nestedSchema: z.ZodType<Nested> = z.lazy(() => z.union([z.number(), z.null(), z.array(nestedSchema)]));

/** A tensor as nested arrays in its shape; non-finite values become null (JSON has no infinities). */
export function toNested(data: ArrayLike<number>, shape: readonly number[]): Nested[] {
  const build = (dim: number, offset: number): Nested[] => {
    const size = shape[dim]!;
    if (dim === shape.length - 1) {
      const out: Nested[] = new Array(size);
      for (let i = 0; i < size; i++) {
        const v = data[offset + i]!;
        out[i] = Number.isFinite(v) ? v : null;
      }
      return out;
    }
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: size }, (_, i) => build(dim + 1, offset + i * stride));
  };
  if (shape.length === 0) return [data[0] ?? null];
  return build(0, 0);
}

/** Throws the signal's reason when a run was aborted (between units of work). */
export function checkAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/** A logit-difference metric at a position: answer token minus wrong token. */
export const logitDiffMetricFields = {
  answer: tokenSchema,
  wrong: tokenSchema,
  /** Position whose logits are read (default -1, the last). */
  position: positionSchema.default(-1),
};

/** Rounds for readable summaries. */
export function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}
