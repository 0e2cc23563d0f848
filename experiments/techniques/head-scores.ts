/**
 * `head-scores`: previous-token, duplicate-token and induction scores of every head, from attention patterns
 * (blocks.L.attn.hook_pattern) on sequences of seeded random tokens repeated twice (BOS first when the model has
 * one), as TransformerLens' induction evaluation does. With s the length of one repeat and A a head's pattern:
 * - induction: mean over query positions i of the second repeat of A[i, i - s + 1] (the token after the earlier
 *   occurrence of the current token; TL: pattern.diagonal(offset = 1 - s));
 * - duplicate-token: mean over the second repeat of A[i, i - s] (the earlier occurrence itself);
 * - previous-token: mean over every position i >= 1 of A[i, i - 1].
 * Scores are averaged over the sequences.
 */
import { z } from 'zod';
import { EngineError } from '../engine/errors.ts';
import type { Technique } from './technique.ts';
import { checkAborted, fmt, range } from './metrics.ts';

export const headScoresParams = z.object({
  /** Length of one repeat (default: 50, or less when the context is shorter). */
  seqLen: z.number().int().min(2, { error: 'seqLen is at least 2.' }).optional(),
  /** How many random sequences to average over. */
  nSequences: z.number().int().min(1, { error: 'nSequences is at least 1.' }).max(256, { error: 'nSequences is at most 256.' }).default(4),
  seed: z.number().int().default(0),
  /** Token ids to draw from, [from, to) (default: the whole vocabulary without BOS/EOS). */
  tokenRange: z.tuple([z.number().int().nonnegative(), z.number().int().positive()]).optional(),
  /** Start each sequence with BOS (default: when the model has a BOS token). */
  prependBos: z.boolean().optional(),
}).strict();
export type HeadScoresParams = z.infer<typeof headScoresParams>;

const grid = z.array(z.array(z.number()));
const ranked = z.array(z.object({ layer: z.number().int(), head: z.number().int(), score: z.number() }));

export const headScoresResult = z.object({
  seq_len: z.number().int(),
  n_sequences: z.number().int(),
  seed: z.number().int(),
  bos: z.boolean(),
  /** The token sequences used (each: [BOS,] r, r). */
  sequences: z.array(z.array(z.number().int())),
  /** [layer][head] scores. */
  previous_token: grid,
  duplicate_token: grid,
  induction: grid,
  /** The five best heads for each score, best first. */
  top: z.object({ previous_token: ranked, duplicate_token: ranked, induction: ranked }),
});
export type HeadScoresResult = z.infer<typeof headScoresResult>;

/** mulberry32: a small seeded generator, so the same seed gives the same tokens everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function best(scores: number[][], k = 5): { layer: number; head: number; score: number }[] {
  return scores
    .flatMap((r, layer) => r.map((score, head) => ({ layer, head, score })))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

export const headScoresTechnique: Technique<HeadScoresParams, HeadScoresResult> = {
  name: 'head-scores',
  summary: 'Previous-token, duplicate-token and induction scores per layer and head on repeated random tokens.',
  schemaVersion: 1,
  params: headScoresParams,
  result: headScoresResult,
  async run(params, { model, progress, signal }) {
    const c = model.config;
    const bos = params.prependBos ?? c.bosTokenId !== null;
    if (bos && c.bosTokenId === null) throw new EngineError('invalid_input', 'This model has no BOS token (bos_token_id in config.json); set prependBos to false.');
    const b = bos ? 1 : 0;
    const maxSeq = Math.floor((c.nCtx - b) / 2);
    const s = params.seqLen ?? Math.min(50, maxSeq);
    if (s > maxSeq || s < 2) {
      throw new EngineError('invalid_input', `seqLen ${s} does not fit: two repeats${bos ? ' and BOS' : ''} must fit the model's context of ${c.nCtx} tokens, so seqLen is at most ${maxSeq}.`);
    }
    const special = new Set([c.bosTokenId, c.eosTokenId].filter((x): x is number => x !== null));
    const [from, to] = params.tokenRange ?? [0, c.dVocab];
    if (to > c.dVocab || from >= to) throw new EngineError('invalid_input', `tokenRange [${from}, ${to}) must be a non-empty range within the vocabulary [0, ${c.dVocab}).`);
    const pool = range(to - from).map((i) => i + from).filter((t) => params.tokenRange || !special.has(t));
    if (pool.length < 2) throw new EngineError('invalid_input', 'tokenRange leaves fewer than two tokens to draw from.');

    const rand = seededRandom(params.seed);
    const L = c.nLayers;
    const H = c.nHeads;
    const sums = { prev: range(L).map(() => new Float64Array(H)), dup: range(L).map(() => new Float64Array(H)), ind: range(L).map(() => new Float64Array(H)) };
    const names = range(L).map((l) => `blocks.${l}.attn.hook_pattern`);
    const sequences: number[][] = [];
    for (let q = 0; q < params.nSequences; q++) {
      checkAborted(signal);
      const r = range(s).map(() => pool[Math.floor(rand() * pool.length)]!);
      const tokens = [...(bos ? [c.bosTokenId!] : []), ...r, ...r];
      sequences.push(tokens);
      const n = tokens.length;
      const { cache } = await model.runWithCache(tokens, { names });
      for (let l = 0; l < L; l++) {
        const A = cache.get(names[l]!)!.data;
        for (let h = 0; h < H; h++) {
          const at = (i: number, j: number) => A[(h * n + i) * n + j]!;
          let prev = 0;
          for (let i = 1; i < n; i++) prev += at(i, i - 1);
          let dup = 0;
          let ind = 0;
          for (let i = b + s; i < n; i++) {
            dup += at(i, i - s);
            ind += at(i, i - s + 1);
          }
          sums.prev[l]![h]! += prev / (n - 1);
          sums.dup[l]![h]! += dup / s;
          sums.ind[l]![h]! += ind / s;
        }
      }
      progress(q + 1, params.nSequences, `sequence ${q + 1}`);
    }
    const mean = (g: Float64Array[]) => g.map((r) => Array.from(r, (v) => v / params.nSequences));
    const previous_token = mean(sums.prev);
    const duplicate_token = mean(sums.dup);
    const induction = mean(sums.ind);
    return {
      seq_len: s,
      n_sequences: params.nSequences,
      seed: params.seed,
      bos,
      sequences,
      previous_token,
      duplicate_token,
      induction,
      top: { previous_token: best(previous_token), duplicate_token: best(duplicate_token), induction: best(induction) },
    };
  },
  summarize(result) {
    const lines = [`${result.n_sequences} sequences of ${result.seq_len} random tokens repeated twice (seed ${result.seed}):`];
    for (const key of ['induction', 'previous_token', 'duplicate_token'] as const) {
      lines.push(`  ${key}: ${result.top[key].map((x) => `L${x.layer}H${x.head} ${fmt(x.score, 3)}`).join(', ')}`);
    }
    return lines.join('\n');
  },
};
