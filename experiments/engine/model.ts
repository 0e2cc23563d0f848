/**
 * A loaded model and its forward pass with TransformerLens hook points. See experiments/README.md for the API.
 *
 * Maths follows TransformerLens without weight processing (HookedTransformer.from_pretrained_no_processing), which
 * is the Hugging Face computation: LayerNorm with biased variance, RMSNorm, rotate-half RoPE, GQA by repeating
 * key/value heads, causal mask with -inf, softmax, heads' outputs summed then the output bias added. The matrix
 * products run in the WebAssembly kernel (worker threads); the rest runs here in plain JS with f64 accumulators.
 */
import os from 'node:os';
import path from 'node:path';
import type { ModelConfig } from './config.ts';
import { decodeInto } from './dtype.ts';
import { EngineError } from './errors.ts';
import { hookLayer, hookNames, hookShape, type Tensor } from './hooks.ts';
import type { Arena, Mat } from './kernels/arena.ts';
import { matCols } from './kernels/arena.ts';
import { MatmulEngine } from './kernels/matmul.ts';
import { loadParts } from './load.ts';
import { KvCache } from './kv-cache.ts';
import { checkMemory } from './memory.ts';
import { applyRmsWeight, normaliseRows, type NormSpec } from './norm.ts';
import type { BpeTokenizer } from './tokenizer.ts';
import type { NormWeights, Weights } from './weights.ts';

/** Text, or token ids. */
export type Prompt = string | readonly number[];

export interface HookContext {
  /** The hook point's name, e.g. `blocks.3.hook_resid_pre`. */
  name: string;
  /** Its layer, or null for `hook_embed`, `hook_pos_embed` and `ln_final.*`. */
  layer: number | null;
  /** The tokens of this run: with a key/value cache, the cached tokens followed by the new ones. */
  tokens: readonly number[];
  /**
   * Position (index into `tokens`) of the activation's first row: 0 without a key/value cache; with one, the
   * number of cached positions, since only the new positions are computed (and hooked).
   */
  start: number;
}

/**
 * A hook sees an activation and may return a replacement (a Tensor or a Float32Array of the same size); returning
 * nothing keeps the activation, including any in-place change the hook made to it.
 */
export type HookFn = (
  activation: Tensor,
  ctx: HookContext,
) => Tensor | Float32Array | void | undefined | Promise<Tensor | Float32Array | void | undefined>;

/** Hooks by exact name, or a list of {name or filter, fn} as TransformerLens' fwd_hooks. */
export type Hooks = Record<string, HookFn> | { name: string | ((name: string) => boolean); fn: HookFn }[];

export interface PromptOptions {
  /**
   * Prepend the BOS token. Default for text: TransformerLens' default for the architecture (true for GPT-2 and the
   * Llama family, false for NeoX/Pythia). Default for token ids: false (they are used as given).
   */
  prependBos?: boolean;
}

export interface CacheSelection {
  /** Exact hook names to cache. */
  names?: readonly string[];
  /** Or a predicate over hook names. */
  filter?: (name: string) => boolean;
}

export interface RunOptions extends PromptOptions {
  hooks?: Hooks;
  /** Hooks to cache; `true` caches every hook except `attn.hook_result` (as TransformerLens without use_attn_result). */
  cache?: CacheSelection | boolean;
  /** Stop before block `stopAtLayer` and return that residual stream (no logits), as TransformerLens' stop_at_layer. */
  stopAtLayer?: number;
  /** Memory this run may use, in bytes (default: the model's memoryLimitBytes, else what the machine has free). */
  memoryLimitBytes?: number;
  /**
   * Earlier positions' keys and values (`model.createKvCache()`): the prompt is then the NEW tokens, which attend to
   * the cached ones; only the new positions are computed and hooked (attention hooks have `start + n` key
   * positions), and the run appends them to the cache. Results equal a run over the whole sequence bit for bit.
   * BOS is prepended to text only while the cache is empty. Not with `stopAtLayer`.
   */
  kvCache?: KvCache;
  /** `'last'`: compute the logits of the last position only (shape [1, d_vocab]), as generation needs. */
  logits?: 'all' | 'last';
}

export interface RunResult {
  /** The run's tokens (with a key/value cache: the cached ones followed by the new ones). */
  tokens: number[];
  /** Position of the first computed row in `tokens` (the number of cached positions; 0 without a cache). */
  start: number;
  /** [pos, d_vocab]; null when the run stopped early. */
  logits: Tensor | null;
  /** The cached activations by hook name. */
  cache: Map<string, Tensor>;
  /** With stopAtLayer: the residual stream [pos, d_model] entering that block. */
  residual: Tensor | null;
}

export interface LoadOptions {
  /**
   * Worker threads for the matrix products (default: min(2, CPUs)); 0 runs them on the calling thread, which
   * blocks its event loop (fine for scripts and tiny models, not for a server).
   */
  threads?: number;
  /** Memory a load or a run may use, in bytes (default: what the machine has free); for tests and for sharing. */
  memoryLimitBytes?: number;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** erf with fractional error below 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), for the exact (erf) GELU. */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

function applyAct(act: ModelConfig['act'], x: number): number {
  switch (act) {
    case 'gelu_new':
      return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'relu':
      return x > 0 ? x : 0;
  }
}

/** A model loaded from a local folder, ready to run. Create with `loadModel`; call `close()` when done. */
export class Model {
  readonly dir: string;
  readonly config: ModelConfig;
  readonly rawConfig: Record<string, unknown>;
  readonly tokenizer: BpeTokenizer;
  /** sha256 of the weights file (or of the shards concatenated in file-name order). */
  readonly weightsSha256: string;
  readonly weightFiles: string[];
  private readonly weights: Weights;
  private readonly arena: Arena;
  private readonly mm: MatmulEngine;
  private readonly memoryLimitBytes: number | undefined;
  private readonly names: string[];
  private readonly nameSet: Set<string>;
  private ropeCache: { cos: Float32Array; sin: Float32Array; n: number } | null = null;

  constructor(parts: Awaited<ReturnType<typeof loadParts>>, mm: MatmulEngine, memoryLimitBytes?: number) {
    this.dir = parts.dir;
    this.config = parts.config;
    this.rawConfig = parts.rawConfig;
    this.tokenizer = parts.tokenizer;
    this.weightsSha256 = parts.weightsSha256;
    this.weightFiles = parts.weightFiles;
    this.weights = parts.weights;
    this.arena = parts.arena;
    this.mm = mm;
    this.memoryLimitBytes = memoryLimitBytes;
    this.names = hookNames(this.config);
    this.nameSet = new Set(this.names);
  }

  /** Every hook name of this model, in forward order. */
  hookNames(): string[] {
    return [...this.names];
  }

  /** Bytes the weights take in memory (as stored: F16/BF16 stay 2 bytes a parameter). */
  get weightBytes(): number {
    return this.arena.weightBytes;
  }

  /** Stops the kernel's worker threads. */
  async close(): Promise<void> {
    await this.mm.close();
  }

  /** Token ids for text (no BOS unless asked: `prependBos`). */
  tokenize(text: string, opts: PromptOptions = {}): number[] {
    const ids = this.tokenizer.encode(text);
    return opts.prependBos ? [this.bosId(), ...ids] : ids;
  }

  /** Text for token ids. */
  detokenize(ids: readonly number[]): string {
    return this.tokenizer.decode(ids);
  }

  /** The BOS id (config.json bos_token_id). */
  bosId(): number {
    const id = this.config.bosTokenId;
    if (id === null) throw new EngineError('invalid_input', 'This model has no bos_token_id in config.json, so BOS cannot be prepended.');
    return id;
  }

  /** A prompt as token ids, with TransformerLens' prepend_bos default for text; checked against vocabulary and context. */
  toTokens(prompt: Prompt, opts: PromptOptions = {}): number[] {
    let tokens: number[];
    if (typeof prompt === 'string') tokens = this.tokenize(prompt, { prependBos: opts.prependBos ?? this.config.defaultPrependBos });
    else {
      tokens = [...prompt];
      if (opts.prependBos) tokens.unshift(this.bosId());
    }
    if (tokens.length === 0) throw new EngineError('invalid_input', 'The prompt is empty.');
    for (const t of tokens) {
      if (!Number.isInteger(t) || t < 0 || t >= this.config.dVocab) {
        throw new EngineError('invalid_input', `Token id ${t} is not in the model's vocabulary (0 to ${this.config.dVocab - 1}).`);
      }
    }
    if (tokens.length > this.config.nCtx) {
      throw new EngineError(
        'prompt_too_long',
        `The prompt has ${tokens.length} tokens but the model's context holds ${this.config.nCtx}.`,
        { tokens: tokens.length, nCtx: this.config.nCtx },
      );
    }
    return tokens;
  }

  /**
   * Rows [start, start + count) of a weight matrix, decoded to float32: `W_E` (token embeddings [d_vocab, d_model]),
   * `W_U` (unembedding, one row per token [d_vocab, d_model]: TransformerLens' W_U transposed; the same rows as W_E
   * when the embeddings are tied) or `W_pos` (learned positions [n_ctx, d_model], GPT-2 only). For techniques that
   * read weights rather than activations (the under-trained token scan, direct logit attribution).
   */
  weightRows(matrix: 'W_E' | 'W_U' | 'W_pos', start = 0, count?: number): Tensor {
    const m = matrix === 'W_E' ? this.weights.embed : matrix === 'W_U' ? this.weights.unembed : this.weights.pos;
    if (!m) throw new EngineError('invalid_input', `This model has no ${matrix} (learned positions are GPT-2 only).`);
    const n = count ?? m.rows - start;
    if (!Number.isInteger(start) || !Number.isInteger(n) || start < 0 || n < 0 || start + n > m.rows) {
      throw new EngineError('invalid_input', `Rows ${start} to ${start + n - 1} are outside ${matrix}'s ${m.rows} rows.`);
    }
    const out = new Float32Array(n * m.cols);
    for (let i = 0; i < n; i++) this.readRow(m, start + i, out, i * m.cols);
    return { data: out, shape: [n, m.cols] };
  }

  /** The unembedding bias b_U [d_vocab] (null when the model has none). A copy: the model's weights never change. */
  unembedBias(): Float32Array | null {
    return this.weights.unembedBias ? this.weights.unembedBias.slice() : null;
  }

  /** The final norm's weight and bias [d_model] (RMSNorm: no bias). Copies. */
  finalNormWeights(): { w: Float32Array; b: Float32Array | null } {
    const { w, b } = this.weights.lnFinal;
    return { w: w.slice(), b: b ? b.slice() : null };
  }

  /** Layer `layer`'s attention output bias b_O [d_model] (null when the architecture has none). A copy. */
  attnOutBias(layer: number): Float32Array | null {
    const L = this.weights.layers[layer];
    if (!L) throw new EngineError('invalid_input', `Layer ${layer} is outside the model's ${this.config.nLayers} layers.`);
    return L.oBias ? L.oBias.slice() : null;
  }

  /**
   * The final norm (TransformerLens' ln_final, with its weight and bias) applied to `rows` rows of a residual stream
   * `x` [rows, d_model], each row's statistics recomputed exactly as the forward pass does (bit-identical to it).
   */
  applyFinalNorm(x: Float32Array, rows: number): Float32Array {
    const spec = this.normSpec();
    const { normalized } = normaliseRows(x, rows, spec, this.weights.lnFinal);
    return spec.rms ? applyRmsWeight(normalized, rows, spec.d, this.weights.lnFinal.w) : normalized;
  }

  /** Logits [rows, d_vocab] for rows of a normalised residual stream `x` [rows, d_model]: x W_U + b_U, in the kernel. */
  async unembed(x: Float32Array, rows: number): Promise<Float32Array> {
    return this.mm.matmul(x, rows, this.weights.unembed, this.weights.unembedBias);
  }

  /** An empty key/value cache for this model (see RunOptions.kvCache). */
  createKvCache(): KvCache {
    return new KvCache(this.config);
  }

  /** Logits [pos, d_vocab] for a prompt. */
  async forward(prompt: Prompt, opts: PromptOptions = {}): Promise<Tensor> {
    return (await this.run(prompt, opts)).logits!;
  }

  /** Logits and the selected activations (default: all hooks but attn.hook_result). */
  async runWithCache(prompt: Prompt, selection: CacheSelection = {}, opts: PromptOptions = {}): Promise<{ tokens: number[]; logits: Tensor; cache: Map<string, Tensor> }> {
    const r = await this.run(prompt, { ...opts, cache: selection.names || selection.filter ? selection : true });
    return { tokens: r.tokens, logits: r.logits!, cache: r.cache };
  }

  /** Logits of a run whose activations the hooks may read or replace. */
  async runWithHooks(prompt: Prompt, hooks: Hooks, opts: PromptOptions = {}): Promise<{ tokens: number[]; logits: Tensor }> {
    const r = await this.run(prompt, { ...opts, hooks });
    return { tokens: r.tokens, logits: r.logits! };
  }

  /** Mean next-token cross-entropy of a prompt (TransformerLens' loss), from a run's logits. */
  async loss(prompt: Prompt, opts: PromptOptions = {}): Promise<number> {
    const r = await this.run(prompt, opts);
    return meanNextTokenLoss(r.logits!, r.tokens);
  }

  /** Bytes a run over `nPos` tokens caching `cached` hooks would need (estimate; used to refuse runs up front). */
  estimateRunBytes(nPos: number, cached: readonly string[], nKeys = nPos): number {
    const c = this.config;
    const cacheFloats = cached.reduce((s, name) => s + hookShape(c, name, nPos, nKeys).reduce((a, b) => a * b, 1), 0);
    const qkv = (c.nHeads + 2 * c.nKvHeads) * c.dHead;
    const working = nPos * c.dVocab * 2 + nPos * (qkv * 3 + c.dMlp * 6 + c.dModel * 10) + c.nHeads * nPos * nKeys * 3;
    return 4 * (cacheFloats + working) + (16 << 20);
  }

  private resolveHooks(hooks: Hooks | undefined): (name: string) => HookFn[] {
    if (!hooks) return () => [];
    const entries = Array.isArray(hooks) ? hooks : Object.entries(hooks).map(([name, fn]) => ({ name, fn }));
    for (const e of entries) {
      if (typeof e.name === 'string' && !this.nameSet.has(e.name)) throw this.unknownHook(e.name);
    }
    const byName = new Map<string, HookFn[]>();
    for (const name of this.names) {
      const fns = entries.filter((e) => (typeof e.name === 'string' ? e.name === name : e.name(name))).map((e) => e.fn);
      if (fns.length) byName.set(name, fns);
    }
    return (name) => byName.get(name) ?? [];
  }

  private unknownHook(name: string): EngineError {
    return new EngineError(
      'invalid_input',
      `This model has no hook ${JSON.stringify(name)}. Hook names look like hook_embed, blocks.0.hook_resid_pre, blocks.0.attn.hook_pattern, ln_final.hook_normalized (model.hookNames() lists them all).`,
      { hook: name },
    );
  }

  private cachedNames(sel: RunOptions['cache']): string[] {
    if (!sel) return [];
    if (sel === true) return this.names.filter((n) => !n.endsWith('attn.hook_result'));
    if (sel.names) {
      for (const n of sel.names) if (!this.nameSet.has(n)) throw this.unknownHook(n);
      return [...sel.names];
    }
    if (sel.filter) return this.names.filter(sel.filter);
    return this.names.filter((n) => !n.endsWith('attn.hook_result'));
  }

  /** The general forward pass: hooks, cache, early stop. The other run methods call this. */
  async run(prompt: Prompt, opts: RunOptions = {}): Promise<RunResult> {
    const c = this.config;
    const w = this.weights;
    const kv = opts.kvCache ?? null;
    const start = kv ? kv.length : 0;
    if (kv) kv.checkFits(c);
    const newTokens = this.toTokens(prompt, start > 0 && typeof prompt === 'string' ? { prependBos: opts.prependBos ?? false } : opts);
    const tokens = start > 0 ? [...kv!.tokens, ...newTokens] : newTokens;
    if (tokens.length > c.nCtx) {
      throw new EngineError(
        'prompt_too_long',
        `The sequence would have ${tokens.length} tokens (${start} cached + ${newTokens.length} new) but the model's context holds ${c.nCtx}.`,
        { tokens: tokens.length, nCtx: c.nCtx },
      );
    }
    const n = newTokens.length;
    const nKeys = start + n;
    const stopAt = opts.stopAtLayer ?? c.nLayers;
    if (!Number.isInteger(stopAt) || stopAt < 0 || stopAt > c.nLayers) {
      throw new EngineError('invalid_input', `stopAtLayer must be an integer from 0 to ${c.nLayers}.`);
    }
    if (kv && stopAt < c.nLayers) throw new EngineError('invalid_input', 'stopAtLayer cannot be used with a key/value cache (the cache needs every layer).');
    const hooksFor = this.resolveHooks(opts.hooks);
    const cachedList = this.cachedNames(opts.cache);
    checkMemory(
      `A run over ${n} tokens caching ${cachedList.length} hooks`,
      this.estimateRunBytes(n, cachedList, nKeys),
      opts.memoryLimitBytes ?? this.memoryLimitBytes,
    );
    const cached = new Set(cachedList);
    const cache = new Map<string, Tensor>();
    const wants = (name: string) => cached.has(name) || hooksFor(name).length > 0;

    const point = async (name: string, t: Tensor): Promise<Tensor> => {
      let cur = t;
      for (const fn of hooksFor(name)) {
        const r = await fn(cur, { name, layer: hookLayer(name), tokens, start });
        if (r) {
          const data = r instanceof Float32Array ? r : r.data;
          if (!(data instanceof Float32Array) || data.length !== cur.data.length) {
            throw new EngineError(
              'invalid_input',
              `The hook on ${name} returned ${data instanceof Float32Array ? data.length : 'a non-Float32Array'} values; the activation has shape [${cur.shape.join(', ')}] (${cur.data.length} values).`,
              { hook: name },
            );
          }
          cur = { data, shape: cur.shape };
        }
      }
      if (cached.has(name)) cache.set(name, cur);
      return cur;
    };

    // Embeddings.
    const d = c.dModel;
    const embed = new Float32Array(n * d);
    for (let i = 0; i < n; i++) this.readRow(w.embed, newTokens[i]!, embed, i * d);
    let resid = (await point('hook_embed', { data: embed, shape: [n, d] })).data;
    if (w.pos) {
      const pos = new Float32Array(n * d);
      for (let i = 0; i < n; i++) this.readRow(w.pos, start + i, pos, i * d);
      const p = (await point('hook_pos_embed', { data: pos, shape: [n, d] })).data;
      const sum = new Float32Array(n * d);
      for (let i = 0; i < sum.length; i++) sum[i] = resid[i]! + p[i]!;
      resid = sum;
    }

    for (let l = 0; l < stopAt; l++) {
      const b = `blocks.${l}`;
      const L = w.layers[l]!;
      resid = (await point(`${b}.hook_resid_pre`, { data: resid, shape: [n, d] })).data;
      const attnIn = await this.norm(resid, n, L.ln1, `${b}.ln1`, point);
      const attnOut = await this.attention(attnIn, n, start, l, point, wants, kv);
      let mlpIn: Float32Array;
      let mid: Float32Array | null = null;
      if (c.parallelResidual) mlpIn = await this.norm(resid, n, L.ln2, `${b}.ln2`, point);
      else {
        mid = add(resid, attnOut);
        mid = (await point(`${b}.hook_resid_mid`, { data: mid, shape: [n, d] })).data;
        mlpIn = await this.norm(mid, n, L.ln2, `${b}.ln2`, point);
      }
      const mlpOut = await this.mlp(mlpIn, n, l, point);
      const post = c.parallelResidual ? add(add(resid, attnOut), mlpOut) : add(mid!, mlpOut);
      resid = (await point(`${b}.hook_resid_post`, { data: post, shape: [n, d] })).data;
    }
    if (stopAt < c.nLayers) return { tokens, start, logits: null, cache, residual: { data: resid, shape: [n, d] } };

    const final = await this.norm(resid, n, w.lnFinal, 'ln_final', point);
    const rows = opts.logits === 'last' ? 1 : n;
    const logits = await this.mm.matmul(rows === n ? final : final.subarray((n - 1) * d), rows, w.unembed, w.unembedBias);
    kv?.commit(newTokens);
    return { tokens, start, logits: { data: logits, shape: [rows, c.dVocab] }, cache, residual: null };
  }

  private readRow(m: Mat, row: number, out: Float32Array, outOffset: number): void {
    const es = m.dtype === 'F32' ? 4 : 2;
    const bytes = this.arena.bytes(m.offset + row * m.ld * es, m.cols * es);
    decodeInto(m.dtype, bytes, 0, m.cols, out, outOffset);
  }

  private normSpec(): NormSpec {
    return { d: this.config.dModel, eps: this.config.normEps, rms: this.config.normType === 'rmsnorm' };
  }

  /** LayerNorm or RMSNorm with TransformerLens' hook_scale / hook_normalized; returns the block's input. */
  private async norm(
    x: Float32Array,
    n: number,
    nw: NormWeights,
    prefix: string,
    point: (name: string, t: Tensor) => Promise<Tensor>,
  ): Promise<Float32Array> {
    const spec = this.normSpec();
    const first = normaliseRows(x, n, spec, nw);
    // TL: LayerNorm hooks the scaled-and-shifted output; RMSNorm hooks x/scale and multiplies by w afterwards.
    const sc = (await point(`${prefix}.hook_scale`, { data: first.scale, shape: [n, 1] })).data;
    const out = sc === first.scale ? first.normalized : normaliseRows(x, n, spec, nw, sc).normalized;
    let normalized = (await point(`${prefix}.hook_normalized`, { data: out, shape: [n, spec.d] })).data;
    if (spec.rms) normalized = applyRmsWeight(normalized, n, spec.d, nw.w);
    return normalized;
  }

  /** Rotary cos/sin tables [pos, rotaryDim/2], computed in float32 as Hugging Face does. */
  private rope(n: number): { cos: Float32Array; sin: Float32Array } {
    if (this.ropeCache && this.ropeCache.n >= n) return this.ropeCache;
    const c = this.config;
    const half = c.rotaryDim / 2;
    const inv = new Float64Array(half);
    for (let i = 0; i < half; i++) {
      let f = Math.fround(1 / Math.fround(Math.pow(c.ropeTheta, Math.fround((2 * i) / c.rotaryDim))));
      const s = c.ropeScaling;
      if (s?.type === 'linear') f = Math.fround(f / s.factor);
      else if (s?.type === 'llama3') {
        const old = s.originalMaxPositionEmbeddings!;
        const lowWave = old / s.lowFreqFactor!;
        const highWave = old / s.highFreqFactor!;
        const wave = (2 * Math.PI) / f;
        if (wave > lowWave) f = f / s.factor;
        else if (wave >= highWave) {
          const smooth = (old / wave - s.lowFreqFactor!) / (s.highFreqFactor! - s.lowFreqFactor!);
          f = (1 - smooth) * (f / s.factor) + smooth * f;
        }
        f = Math.fround(f);
      }
      inv[i] = f;
    }
    const size = Math.max(n, 64);
    const cos = new Float32Array(size * half);
    const sin = new Float32Array(size * half);
    for (let p = 0; p < size; p++) {
      for (let i = 0; i < half; i++) {
        const a = Math.fround(p * inv[i]!);
        cos[p * half + i] = Math.cos(a);
        sin[p * half + i] = Math.sin(a);
      }
    }
    this.ropeCache = { cos, sin, n: size };
    return this.ropeCache;
  }

  /** Rotate-half RoPE on the first rotaryDim dims of each head of x [n, heads, dHead]. */
  private applyRope(x: Float32Array, n: number, heads: number, start: number): Float32Array {
    const { dHead, rotaryDim } = this.config;
    const half = rotaryDim / 2;
    const { cos, sin } = this.rope(start + n);
    const out = new Float32Array(x);
    for (let r = 0; r < n; r++) {
      const p = start + r;
      for (let h = 0; h < heads; h++) {
        const o = (r * heads + h) * dHead;
        for (let i = 0; i < half; i++) {
          const x1 = x[o + i]!;
          const x2 = x[o + i + half]!;
          const cs = cos[p * half + i]!;
          const sn = sin[p * half + i]!;
          out[o + i] = x1 * cs - x2 * sn;
          out[o + i + half] = x2 * cs + x1 * sn;
        }
      }
    }
    return out;
  }

  /** Attention for query positions [start, start + n); keys and values of [0, start) come from the key/value cache. */
  private async attention(
    x: Float32Array,
    n: number,
    start: number,
    l: number,
    point: (name: string, t: Tensor) => Promise<Tensor>,
    wants: (name: string) => boolean,
    kv: KvCache | null,
  ): Promise<Float32Array> {
    const c = this.config;
    const L = this.weights.layers[l]!;
    const a = `blocks.${l}.attn`;
    const { nHeads, nKvHeads, dHead, dModel } = c;
    const qDim = nHeads * dHead;
    const kvDim = nKvHeads * dHead;
    const qkvDim = qDim + 2 * kvDim;
    const qkv = await this.mm.matmul(x, n, L.qkv, L.qkvBias);
    let q: Float32Array = new Float32Array(n * qDim);
    let k: Float32Array = new Float32Array(n * kvDim);
    let v: Float32Array = new Float32Array(n * kvDim);
    for (let i = 0; i < n; i++) {
      q.set(qkv.subarray(i * qkvDim, i * qkvDim + qDim), i * qDim);
      k.set(qkv.subarray(i * qkvDim + qDim, i * qkvDim + qDim + kvDim), i * kvDim);
      v.set(qkv.subarray(i * qkvDim + qDim + kvDim, (i + 1) * qkvDim), i * kvDim);
    }
    q = (await point(`${a}.hook_q`, { data: q, shape: [n, nHeads, dHead] })).data;
    k = (await point(`${a}.hook_k`, { data: k, shape: [n, nKvHeads, dHead] })).data;
    v = (await point(`${a}.hook_v`, { data: v, shape: [n, nKvHeads, dHead] })).data;
    if (c.positional === 'rotary') {
      q = (await point(`${a}.hook_rot_q`, { data: this.applyRope(q, n, nHeads, start), shape: [n, nHeads, dHead] })).data;
      k = (await point(`${a}.hook_rot_k`, { data: this.applyRope(k, n, nKvHeads, start), shape: [n, nKvHeads, dHead] })).data;
    }
    // Keys and values of every position so far: the cached ones, then these.
    const nk = start + n;
    if (kv) ({ k, v } = kv.write(l, start, n, k, v));
    const group = nHeads / nKvHeads;
    const sqrtD = Math.sqrt(dHead);
    const scores = new Float32Array(nHeads * n * nk);
    for (let h = 0; h < nHeads; h++) {
      const kh = Math.floor(h / group);
      for (let i = 0; i < n; i++) {
        const qo = i * qDim + h * dHead;
        const row = (h * n + i) * nk;
        const last = start + i;
        for (let j = 0; j <= last; j++) {
          const ko = j * kvDim + kh * dHead;
          let s = 0;
          for (let e = 0; e < dHead; e++) s += q[qo + e]! * k[ko + e]!;
          scores[row + j] = s / sqrtD;
        }
        for (let j = last + 1; j < nk; j++) scores[row + j] = -Infinity;
      }
    }
    const sc = (await point(`${a}.hook_attn_scores`, { data: scores, shape: [nHeads, n, nk] })).data;
    const pattern = new Float32Array(nHeads * n * nk);
    for (let r = 0; r < nHeads * n; r++) {
      const o = r * nk;
      let max = -Infinity;
      for (let j = 0; j < nk; j++) if (sc[o + j]! > max) max = sc[o + j]!;
      if (max === -Infinity) continue; // a fully masked row: TL turns the NaNs into 0
      let sum = 0;
      for (let j = 0; j < nk; j++) {
        const e = Math.exp(sc[o + j]! - max);
        pattern[o + j] = e;
        sum += e;
      }
      for (let j = 0; j < nk; j++) pattern[o + j] = pattern[o + j]! / sum;
    }
    const pat = (await point(`${a}.hook_pattern`, { data: pattern, shape: [nHeads, n, nk] })).data;
    let z: Float32Array = new Float32Array(n * qDim);
    const acc = new Float64Array(dHead);
    for (let h = 0; h < nHeads; h++) {
      const kh = Math.floor(h / group);
      for (let i = 0; i < n; i++) {
        acc.fill(0);
        const row = (h * n + i) * nk;
        for (let j = 0; j < nk; j++) {
          const p = pat[row + j]!;
          if (p === 0) continue;
          const vo = j * kvDim + kh * dHead;
          for (let e = 0; e < dHead; e++) acc[e] = acc[e]! + p * v[vo + e]!;
        }
        z.set(acc, i * qDim + h * dHead);
      }
    }
    z = (await point(`${a}.hook_z`, { data: z, shape: [n, nHeads, dHead] })).data;
    let out: Float32Array;
    if (wants(`${a}.hook_result`)) {
      let result: Float32Array = new Float32Array(n * nHeads * dModel);
      const zh = new Float32Array(n * dHead);
      for (let h = 0; h < nHeads; h++) {
        for (let i = 0; i < n; i++) zh.set(z.subarray(i * qDim + h * dHead, i * qDim + (h + 1) * dHead), i * dHead);
        const rh = await this.mm.matmul(zh, n, matCols(L.o, h * dHead, dHead));
        for (let i = 0; i < n; i++) result.set(rh.subarray(i * dModel, (i + 1) * dModel), (i * nHeads + h) * dModel);
      }
      result = (await point(`${a}.hook_result`, { data: result, shape: [n, nHeads, dModel] })).data;
      out = new Float32Array(n * dModel);
      for (let i = 0; i < n; i++) {
        for (let e = 0; e < dModel; e++) {
          let s = L.oBias ? L.oBias[e]! : 0;
          for (let h = 0; h < nHeads; h++) s += result[(i * nHeads + h) * dModel + e]!;
          out[i * dModel + e] = s;
        }
      }
    } else {
      out = await this.mm.matmul(z, n, L.o, L.oBias);
    }
    return (await point(`blocks.${l}.hook_attn_out`, { data: out, shape: [n, dModel] })).data;
  }

  private async mlp(x: Float32Array, n: number, l: number, point: (name: string, t: Tensor) => Promise<Tensor>): Promise<Float32Array> {
    const c = this.config;
    const L = this.weights.layers[l]!;
    const m = `blocks.${l}.mlp`;
    const dMlp = c.dMlp;
    const pre = await this.mm.matmul(x, n, L.mlpIn, L.mlpInBias);
    let post: Float32Array = new Float32Array(n * dMlp);
    if (c.gatedMlp) {
      let gate: Float32Array = new Float32Array(n * dMlp);
      let up: Float32Array = new Float32Array(n * dMlp);
      for (let i = 0; i < n; i++) {
        gate.set(pre.subarray(2 * i * dMlp, (2 * i + 1) * dMlp), i * dMlp);
        up.set(pre.subarray((2 * i + 1) * dMlp, (2 * i + 2) * dMlp), i * dMlp);
      }
      gate = (await point(`${m}.hook_pre`, { data: gate, shape: [n, dMlp] })).data;
      up = (await point(`${m}.hook_pre_linear`, { data: up, shape: [n, dMlp] })).data;
      for (let i = 0; i < post.length; i++) post[i] = applyAct(c.act, gate[i]!) * up[i]!;
    } else {
      const p = (await point(`${m}.hook_pre`, { data: pre, shape: [n, dMlp] })).data;
      for (let i = 0; i < post.length; i++) post[i] = applyAct(c.act, p[i]!);
    }
    post = (await point(`${m}.hook_post`, { data: post, shape: [n, dMlp] })).data;
    const out = await this.mm.matmul(post, n, L.mlpOut, L.mlpOutBias);
    return (await point(`blocks.${l}.hook_mlp_out`, { data: out, shape: [n, c.dModel] })).data;
  }
}

function add(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

/** Mean cross-entropy of predicting tokens[i+1] from logits[i] (TransformerLens' lm loss). */
export function meanNextTokenLoss(logits: Tensor, tokens: readonly number[]): number {
  const [n, V] = logits.shape as [number, number];
  if (n < 2) throw new EngineError('invalid_input', 'A loss needs at least two tokens.');
  let total = 0;
  for (let i = 0; i < n - 1; i++) {
    const o = i * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, logits.data[o + j]!);
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(logits.data[o + j]! - max);
    total += Math.log(sum) + max - logits.data[o + tokens[i + 1]!]!;
  }
  return total / (n - 1);
}

/** Loads a model from a local folder in Hugging Face layout (see experiments/README.md). */
export async function loadModel(dir: string, opts: LoadOptions = {}): Promise<Model> {
  const parts = await loadParts(path.resolve(dir) === dir ? dir : dir, { memoryLimitBytes: opts.memoryLimitBytes });
  const threads = opts.threads ?? Math.min(2, os.availableParallelism?.() ?? os.cpus().length);
  const mm = await MatmulEngine.create(parts.arena, threads);
  return new Model(parts, mm, opts.memoryLimitBytes);
}
