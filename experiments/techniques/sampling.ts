/**
 * Generation for the techniques: a seeded PRNG, a sampler (greedy, temperature, top-k, top-p) and a loop that runs
 * the prompt once and then one position per step through a key/value cache, with optional hooks (steering). The
 * same seed and settings give the same tokens on any machine: the PRNG is integer arithmetic and each draw is one
 * uniform number compared against cumulative probabilities in a fixed order.
 */
import { z } from 'zod';
import { EngineError } from '../engine/errors.ts';
import type { Hooks, Model, Prompt, PromptOptions } from '../engine/model.ts';

/** A seeded uniform generator on [0, 1) (sfc32 seeded through splitmix32): small, fast and the same everywhere. */
export function createRng(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  return () => next() / 4294967296;
}

export interface SamplingOptions {
  /** 0: greedy (argmax, lowest id on ties). Otherwise logits are divided by it before the softmax. */
  temperature: number;
  /** Keep only the k most likely tokens (0: no limit). */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1: no limit). */
  topP: number;
}

/** The sampling parameters shared by `generate` and `steering` (zod, with defaults). */
export const samplingFields = {
  /** Tokens to generate at most. */
  maxNewTokens: z.number().int({ error: 'maxNewTokens is a whole number.' }).min(1, { error: 'maxNewTokens is at least 1.' }).max(4096, { error: 'maxNewTokens is at most 4096.' }).default(32),
  /** 0 (the default) is greedy decoding. */
  temperature: z.number().min(0, { error: 'temperature is 0 (greedy) or more.' }).max(100, { error: 'temperature is at most 100.' }).default(0),
  topK: z.number().int({ error: 'topK is a whole number.' }).min(0, { error: 'topK is 0 (no limit) or more.' }).default(0),
  topP: z.number().gt(0, { error: 'topP is above 0.' }).max(1, { error: 'topP is at most 1 (no limit).' }).default(1),
  /** Seed of the sampler's PRNG: the same seed gives the same text. */
  seed: z.number().int({ error: 'seed is a whole number.' }).min(0, { error: 'seed is from 0 to 4294967295.' }).max(4294967295, { error: 'seed is from 0 to 4294967295.' }).default(0),
  /** Stop after the end-of-sequence token (config.json eos_token_id). */
  stopAtEos: z.boolean().default(true),
};

/** The id of the largest value (lowest id on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Log-probability of `id` under softmax(logits), in float64. */
export function logProbOf(logits: ArrayLike<number>, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return logits[id]! - max - Math.log(sum);
}

/** Picks the next token from one row of logits. Draws exactly one number from `rng` unless greedy. */
export function sampleToken(logits: ArrayLike<number>, opts: SamplingOptions, rng: () => number): number {
  if (opts.temperature === 0) return argmax(logits);
  const V = logits.length;
  // Candidates in decreasing logit order (ties: lower id first) when a limit needs the order; else every id.
  let ids: number[];
  const limited = (opts.topK > 0 && opts.topK < V) || opts.topP < 1;
  if (limited) {
    ids = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
    if (opts.topK > 0) ids.length = Math.min(ids.length, opts.topK);
  } else ids = Array.from({ length: V }, (_, i) => i);
  let max = -Infinity;
  for (const id of ids) if (logits[id]! > max) max = logits[id]!;
  const probs = new Float64Array(ids.length);
  let sum = 0;
  for (let i = 0; i < ids.length; i++) {
    probs[i] = Math.exp((logits[ids[i]!]! - max) / opts.temperature);
    sum += probs[i]!;
  }
  let keep = ids.length;
  if (opts.topP < 1) {
    let cum = 0;
    for (let i = 0; i < ids.length; i++) {
      cum += probs[i]! / sum;
      if (cum >= opts.topP) {
        keep = i + 1;
        break;
      }
    }
    sum = 0;
    for (let i = 0; i < keep; i++) sum += probs[i]!;
  }
  const u = rng() * sum;
  let cum = 0;
  for (let i = 0; i < keep; i++) {
    cum += probs[i]!;
    if (u < cum) return ids[i]!;
  }
  return ids[keep - 1]!;
}

export interface GenerateOptions extends SamplingOptions, PromptOptions {
  maxNewTokens: number;
  seed: number;
  stopAtEos: boolean;
  /** Hooks applied at every step (they see the new positions only; `ctx.start` is the first one's position). */
  hooks?: Hooks;
  signal?: AbortSignal;
  /** Called after each new token. */
  onToken?: (index: number, token: number) => void;
  /** Keep each step's logits row (tests; memory: d_vocab floats a step). */
  keepLogits?: boolean;
}

export interface Generation {
  promptTokens: number[];
  newTokens: number[];
  /** Log-probability of each new token under the model's (hooked) distribution, before temperature and limits. */
  logprobs: number[];
  stopReason: 'eos' | 'max_new_tokens' | 'context';
  /** With keepLogits: the logits each new token was drawn from. */
  stepLogits: Float32Array[];
}

/** Generates from a prompt: the prompt in one run, then one position per step through a key/value cache. */
export async function generateTokens(model: Model, prompt: Prompt, opts: GenerateOptions): Promise<Generation> {
  const rng = createRng(opts.seed);
  const kv = model.createKvCache();
  const promptTokens = model.toTokens(prompt, opts.prependBos === undefined ? {} : { prependBos: opts.prependBos });
  const eos = model.config.eosTokenId;
  const newTokens: number[] = [];
  const logprobs: number[] = [];
  const stepLogits: Float32Array[] = [];
  let stopReason: Generation['stopReason'] = 'max_new_tokens';
  let input = promptTokens;
  for (let step = 0; step < opts.maxNewTokens; step++) {
    if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new EngineError('invalid_input', 'The run was cancelled.');
    if (kv.length + input.length > model.config.nCtx) {
      stopReason = 'context';
      break;
    }
    const r = await model.run(input, { kvCache: kv, logits: 'last', ...(opts.hooks ? { hooks: opts.hooks } : {}) });
    const logits = r.logits!.data;
    const token = sampleToken(logits, opts, rng);
    newTokens.push(token);
    logprobs.push(logProbOf(logits, token));
    if (opts.keepLogits) stepLogits.push(logits);
    opts.onToken?.(step, token);
    if (opts.stopAtEos && token === eos) {
      stopReason = 'eos';
      break;
    }
    input = [token];
  }
  return { promptTokens, newTokens, logprobs, stopReason, stepLogits };
}
