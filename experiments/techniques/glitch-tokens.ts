/**
 * `glitch-tokens`: a scan for under-trained ("glitch") tokens from the embedding and unembedding weights, after
 * Land & Bartolo 2024, "Fishing for Magikarp" (arXiv 2405.05417):
 *
 * 1. Reference tokens known to be unused: tokens no text can produce (single bytes that never occur in UTF-8, 0xC0,
 *    0xC1 and 0xF5-0xFF, and embedding rows the tokenizer has no token for), or ids given by the caller.
 * 2. An indicator per token. `unembedding_cosine` (the default with tied embeddings, or when asked): remove the first
 *    principal component of the unembedding rows (it carries a component every token shares), then take the cosine
 *    distance of each row to the mean of the reference rows; under-trained rows were pushed only towards that common
 *    direction, so a small distance is suspicious. `embedding_norm` (the default for untied embeddings): the L2 norm
 *    of the input embedding row; rows that training never updated keep a small norm.
 * 3. Candidates: the tokens (other than reference, added and unknown ones) at or below the given percentile of the
 *    indicator (default 2%), smallest first.
 * 4. Verification by generation: the candidate is put into three prompts that ask for it to be repeated; greedy
 *    generation of a few tokens; the largest probability the model gives the candidate at those steps. Below 0.001:
 *    strongly verified (the model cannot produce it); up to 0.1: weakly verified; above: rejected (above 0.9:
 *    strongly).
 */
import { z } from 'zod';
import { EngineError } from '../engine/errors.ts';
import type { Model } from '../engine/model.ts';
import type { Technique } from './technique.ts';
import { checkAborted, fmt, indexSchema, tokenStrings } from './metrics.ts';
import { createRng } from './sampling.ts';

export const glitchTokensParams = z.object({
  indicator: z.enum(['auto', 'unembedding_cosine', 'embedding_norm'], { error: 'indicator is "auto", "unembedding_cosine" or "embedding_norm".' }).default('auto'),
  /** Token ids known to be unused (default: found from the tokenizer: tokens no text can produce). */
  referenceTokens: z.array(indexSchema).min(1, { error: 'Give at least one reference token, or leave referenceTokens out.' }).optional(),
  /** Candidates are the tokens at or below this percentile of the indicator. */
  percentile: z.number().gt(0, { error: 'percentile is above 0.' }).max(100, { error: 'percentile is at most 100.' }).default(2),
  /** At most this many candidates are returned. */
  maxCandidates: z.number().int().min(1, { error: 'maxCandidates is at least 1.' }).max(10000).default(100),
  /** Verify the first this many candidates by generation (0: no verification). */
  verify: z.number().int().min(0, { error: 'verify is 0 or more.' }).max(1000).default(10),
  /** Tokens generated per verification prompt. */
  verifyTokens: z.number().int().min(1).max(16).default(3),
}).strict();
export type GlitchTokensParams = z.infer<typeof glitchTokensParams>;

const statusSchema = z.enum(['strong_verified', 'weak_verified', 'weak_rejected', 'strong_rejected']);

export const glitchTokensResult = z.object({
  indicator: z.enum(['unembedding_cosine', 'embedding_norm']),
  tied_embeddings: z.boolean(),
  reference_tokens: z.array(z.object({ id: z.number().int(), text: z.string() })),
  /** The indicator over the eligible tokens: mean, standard deviation, and the candidate threshold (the percentile). */
  distribution: z.object({ mean: z.number(), std: z.number(), threshold: z.number(), percentile: z.number(), eligible_tokens: z.number().int() }),
  candidates: z.array(z.object({
    rank: z.number().int(),
    id: z.number().int(),
    text: z.string(),
    /** The indicator (smaller is more suspicious). */
    score: z.number(),
    /** Cosine distance of the unembedding row to the reference mean (first principal component removed); null without reference tokens. */
    unembedding_cosine: z.number().nullable(),
    embedding_norm: z.number(),
    verification: z.object({
      /** The largest probability the model gave the token while asked to repeat it. */
      max_prob: z.number(),
      status: statusSchema,
      prompts: z.array(z.object({ name: z.string(), max_prob: z.number(), output: z.string() })),
    }).nullable(),
  })),
  verified: z.number().int(),
});
export type GlitchTokensResult = z.infer<typeof glitchTokensResult>;

/** Bytes that never occur in UTF-8 text. */
function isNeverUtf8(b: number): boolean {
  return b === 0xc0 || b === 0xc1 || b >= 0xf5;
}

/** Token ids no text can produce: byte tokens of never-UTF-8 bytes, and rows the tokenizer has no token for. */
export function unreachableTokens(model: Model): number[] {
  const out: number[] = [];
  for (let id = 0; id < model.config.dVocab; id++) {
    if (model.tokenizer.idToToken(id) === undefined) {
      out.push(id);
      continue;
    }
    const bytes = model.tokenizer.tokenBytes(id);
    if (bytes && bytes.length === 1 && isNeverUtf8(bytes[0]!)) out.push(id);
  }
  return out;
}

/** The first principal component (unit vector) of the rows of X [n, d] (centred), by power iteration in float64. */
async function firstPrincipalComponent(X: Float32Array, n: number, d: number): Promise<Float64Array> {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + X[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  const rng = createRng(1);
  let v = Float64Array.from({ length: d }, () => rng() - 0.5);
  const normalize = (a: Float64Array) => {
    let s = 0;
    for (const x of a) s += x * x;
    const r = Math.sqrt(s) || 1;
    for (let j = 0; j < d; j++) a[j] = a[j]! / r;
  };
  normalize(v);
  for (let it = 0; it < 30; it++) {
    let mv = 0;
    for (let j = 0; j < d; j++) mv += mean[j]! * v[j]!;
    const next = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      let p = -mv;
      for (let j = 0; j < d; j++) p += X[o + j]! * v[j]!;
      for (let j = 0; j < d; j++) next[j] = next[j]! + (X[o + j]! - mean[j]!) * p;
    }
    normalize(next);
    let delta = 0;
    for (let j = 0; j < d; j++) delta = Math.max(delta, Math.abs(Math.abs(next[j]!) - Math.abs(v[j]!)));
    v = next;
    await new Promise((r) => setImmediate(r)); // long scans leave the event loop breathing
    if (delta < 1e-7) break;
  }
  return v;
}

/**
 * Cosine distance of each row of W [n, d], with its component along the first principal component removed, to the
 * mean of the (likewise projected) reference rows.
 */
export async function unembeddingCosineDistances(W: Float32Array, n: number, d: number, reference: readonly number[]): Promise<Float64Array> {
  const pc = await firstPrincipalComponent(W, n, d);
  const row = new Float64Array(d);
  const project = (i: number) => {
    let p = 0;
    for (let j = 0; j < d; j++) p += W[i * d + j]! * pc[j]!;
    for (let j = 0; j < d; j++) row[j] = W[i * d + j]! - p * pc[j]!;
    return row;
  };
  const ref = new Float64Array(d);
  for (const id of reference) {
    const r = project(id);
    for (let j = 0; j < d; j++) ref[j] = ref[j]! + r[j]! / reference.length;
  }
  let refNorm = 0;
  for (const x of ref) refNorm += x * x;
  refNorm = Math.sqrt(refNorm);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = project(i);
    let dot = 0;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      dot += r[j]! * ref[j]!;
      norm += r[j]! * r[j]!;
    }
    out[i] = 1 - dot / Math.max(Math.sqrt(norm) * refNorm, 1e-6);
  }
  return out;
}

/** Nearest-rank percentile of a sample. */
function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The verification prompts: text pieces with the candidate token between them (after Magikarp's three). */
function verificationPrompts(token: number): { name: string; pieces: (string | number)[] }[] {
  const shots = (n: number, before: string, mid: string, after: string) =>
    Array.from({ length: n }, () => [before, token, mid, token, after]).flat();
  return [
    {
      name: 'input_output',
      pieces: ['This device repeats its input exactly, as these identical trials show.', ...shots(4, '\nInput: «', '»\nOutput: «', '»'), '\nInput: «', token, '»\nOutput: «'],
    },
    { name: 'explain', pieces: ["A helpful assistant says what a phrase means.\nUser: What does '", token, "' mean?\nAssistant: '"] },
    { name: 'repeats', pieces: ['Below, the same phrase repeated over and over:\n', ...Array.from({ length: 8 }, () => token)] },
  ];
}

type Status = z.infer<typeof statusSchema>;

function classify(maxProb: number): Status {
  if (maxProb > 0.9) return 'strong_rejected';
  if (maxProb > 0.1) return 'weak_rejected';
  if (maxProb < 0.001) return 'strong_verified';
  return 'weak_verified';
}

/** Probability of `id` under softmax(logits). */
function probOf(logits: Float32Array, id: number): number {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  return Math.exp(logits[id]! - max) / sum;
}

/** Greedy generation from each verification prompt; the largest probability given to the token. */
async function verifyToken(model: Model, token: number, nTokens: number, signal?: AbortSignal) {
  const prompts = [];
  for (const p of verificationPrompts(token)) {
    checkAborted(signal);
    const ids: number[] = model.config.defaultPrependBos && model.config.bosTokenId !== null ? [model.config.bosTokenId] : [];
    for (const piece of p.pieces) ids.push(...(typeof piece === 'number' ? [piece] : model.tokenize(piece)));
    const keep = model.config.nCtx - nTokens;
    const input = ids.length > keep ? ids.slice(ids.length - keep) : ids;
    const kv = model.createKvCache();
    let maxProb = 0;
    const out: number[] = [];
    let next = input;
    for (let s = 0; s < nTokens; s++) {
      const r = await model.run(next, { kvCache: kv, logits: 'last' });
      const logits = r.logits!.data;
      maxProb = Math.max(maxProb, probOf(logits, token));
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      out.push(best);
      next = [best];
    }
    prompts.push({ name: p.name, max_prob: maxProb, output: tokenStrings(model, out).join('') });
  }
  const maxProb = Math.max(...prompts.map((p) => p.max_prob));
  return { max_prob: maxProb, status: classify(maxProb), prompts };
}

export const glitchTokensTechnique: Technique<GlitchTokensParams, GlitchTokensResult> = {
  name: 'glitch-tokens',
  summary: 'Under-trained ("glitch") token scan from the (un)embedding weights, verified by generation (Magikarp).',
  schemaVersion: 1,
  params: glitchTokensParams,
  result: glitchTokensResult,
  async run(params, { model, progress, signal }) {
    const { dVocab: V, dModel: d, tiedEmbeddings } = model.config;
    const total = 3 + params.verify;
    progress(0, total, 'reading weights');
    const reference = params.referenceTokens ?? unreachableTokens(model);
    for (const id of reference) {
      if (id >= V) throw new EngineError('invalid_input', `Reference token ${id} is not in the vocabulary (0 to ${V - 1}).`);
    }
    const indicator = params.indicator === 'auto' ? (tiedEmbeddings && reference.length > 0 ? 'unembedding_cosine' : 'embedding_norm') : params.indicator;
    if (indicator === 'unembedding_cosine' && reference.length === 0) {
      throw new EngineError(
        'invalid_input',
        'No token of this model is known to be unused (its tokenizer can produce every token), so the unembedding indicator has no reference; give referenceTokens, or use indicator "embedding_norm".',
      );
    }
    const E = model.weightRows('W_E');
    const norms = new Float64Array(V);
    for (let i = 0; i < V; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += E.data[i * d + j]! * E.data[i * d + j]!;
      norms[i] = Math.sqrt(s);
    }
    progress(1, total, 'principal component');
    checkAborted(signal);
    let cosine: Float64Array | null = null;
    if (reference.length > 0) {
      const U = tiedEmbeddings ? E : model.weightRows('W_U');
      cosine = await unembeddingCosineDistances(U.data, V, d, reference);
    }
    progress(2, total, 'ranking');
    checkAborted(signal);
    const score = indicator === 'unembedding_cosine' ? cosine! : norms;
    const excluded = new Set(reference);
    const eligible: number[] = [];
    for (let id = 0; id < V; id++) {
      if (excluded.has(id) || model.tokenizer.idToToken(id) === undefined) continue;
      const bytes = model.tokenizer.tokenBytes(id);
      if (bytes === null) continue; // added / special tokens
      eligible.push(id);
    }
    const values = eligible.map((id) => score[id]!);
    const threshold = percentileOf(values, params.percentile);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    const ranked = eligible.filter((id) => score[id]! <= threshold).sort((a, b) => score[a]! - score[b]! || a - b).slice(0, params.maxCandidates);
    progress(3, total, 'ranked');
    const candidates: GlitchTokensResult['candidates'] = [];
    for (const [i, id] of ranked.entries()) {
      let verification = null;
      if (i < params.verify) {
        checkAborted(signal);
        verification = await verifyToken(model, id, params.verifyTokens, signal);
        progress(4 + i, total, `verified ${i + 1} of ${Math.min(params.verify, ranked.length)}`);
      }
      candidates.push({
        rank: i + 1,
        id,
        text: tokenStrings(model, [id])[0]!,
        score: score[id]!,
        unembedding_cosine: cosine ? cosine[id]! : null,
        embedding_norm: norms[id]!,
        verification,
      });
    }
    progress(total, total, 'done');
    return {
      indicator,
      tied_embeddings: tiedEmbeddings,
      reference_tokens: reference.map((id) => ({ id, text: tokenStrings(model, [id])[0]! })),
      distribution: { mean, std, threshold, percentile: params.percentile, eligible_tokens: eligible.length },
      candidates,
      verified: candidates.filter((c) => c.verification && c.verification.status.endsWith('verified')).length,
    };
  },
  summarize(r) {
    const lines = [
      `Indicator: ${r.indicator.replace('_', ' ')} (${r.tied_embeddings ? 'tied' : 'untied'} embeddings), ${r.reference_tokens.length} reference tokens known unused.`,
      `Over ${r.distribution.eligible_tokens} tokens: ${fmt(r.distribution.mean)} ± ${fmt(r.distribution.std)}; candidates at or below ${fmt(r.distribution.threshold)} (${r.distribution.percentile}th percentile): ${r.candidates.length}, ${r.verified} verified.`,
    ];
    for (const c of r.candidates.slice(0, 30)) {
      const v = c.verification ? `  ${c.verification.status.replace('_', ' ')} (max prob ${c.verification.max_prob.toExponential(2)})` : '';
      lines.push(`  ${String(c.rank).padStart(3)}. ${String(c.id).padStart(6)} ${JSON.stringify(c.text).padEnd(24)} ${fmt(c.score, 5)}${v}`);
    }
    if (r.candidates.length > 30) lines.push(`  ... ${r.candidates.length - 30} more (see --json)`);
    return lines.join('\n');
  },
};
