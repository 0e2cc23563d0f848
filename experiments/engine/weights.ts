/**
 * From Hugging Face tensor names to the engine's weights. Every linear layer becomes a row-major [out, in] matrix
 * in the arena (GPT-2's Conv1D [in, out] is transposed; NeoX's fused QKV rows, ordered (head, q|k|v, d), are
 * regrouped as Q | K | V; Llama's separate q/k/v and gate/up projections are fused), so one matmul computes Q, K and V
 * and each head is a contiguous block of rows. Small vectors (norms, biases) are decoded to Float32Array.
 */
import type { ModelConfig } from './config.ts';
import { bytesPerElement, decodeAll } from './dtype.ts';
import { EngineError } from './errors.ts';
import type { Mat } from './kernels/arena.ts';
import type { DType, TensorInfo } from './safetensors.ts';

export type Transform = 'none' | 'transpose' | 'neox_qkv';

/** One source tensor of a planned matrix or vector, placed at `rowOffset` (rows for matrices, elements for vectors). */
export interface Part {
  tensor: string;
  rowOffset: number;
  transform: Transform;
  /** Expected shape as stored in the file. */
  shape: number[];
}

export interface MatPlan {
  key: string;
  rows: number;
  cols: number;
  parts: Part[];
}

export interface VecPlan {
  key: string;
  length: number;
  parts: Part[];
  /** A missing optional vector (e.g. a bias the architecture may omit) is left out rather than an error. */
  optional: boolean;
}

export interface NormWeights {
  w: Float32Array;
  b: Float32Array | null;
}

export interface LayerWeights {
  ln1: NormWeights;
  ln2: NormWeights;
  /** [nHeads*dHead + 2*nKvHeads*dHead, dModel]: rows Q | K | V. */
  qkv: Mat;
  qkvBias: Float32Array | null;
  /** [dModel, nHeads*dHead]. */
  o: Mat;
  oBias: Float32Array | null;
  /** [dMlp, dModel], or for gated MLPs [2*dMlp, dModel] with rows gate | up. */
  mlpIn: Mat;
  mlpInBias: Float32Array | null;
  /** [dModel, dMlp]. */
  mlpOut: Mat;
  mlpOutBias: Float32Array | null;
}

export interface Weights {
  /** [dVocab, dModel]. */
  embed: Mat;
  /** [nCtx, dModel] learned positions (GPT-2), else null. */
  pos: Mat | null;
  layers: LayerWeights[];
  lnFinal: NormWeights;
  /** [dVocab, dModel]; the same matrix as `embed` when the embeddings are tied. */
  unembed: Mat;
  unembedBias: Float32Array | null;
  dtype: DType;
}

interface Plan {
  mats: MatPlan[];
  vecs: VecPlan[];
  tied: boolean;
}

/** The list of matrices and vectors to build for `cfg`, with the tensor names they come from. */
export function planWeights(cfg: ModelConfig, tensors: Map<string, TensorInfo>): Plan {
  const { dModel: d, nHeads, nKvHeads, dHead, dMlp, dVocab, nLayers } = cfg;
  const qDim = nHeads * dHead;
  const kvDim = nKvHeads * dHead;
  const mats: MatPlan[] = [];
  const vecs: VecPlan[] = [];
  const has = (n: string) => tensors.has(n);
  const pick = (...names: string[]) => names.find(has) ?? names[0]!;
  const mat = (key: string, rows: number, cols: number, parts: Part[]) => mats.push({ key, rows, cols, parts });
  const vec = (key: string, length: number, parts: Part[], optional = false) =>
    vecs.push({ key, length, parts: optional ? parts.filter((x) => has(x.tensor)) : parts, optional });
  const p = (tensor: string, shape: number[], rowOffset = 0, transform: Transform = 'none'): Part => ({ tensor, shape, rowOffset, transform });
  let tied = cfg.tiedEmbeddings;

  if (cfg.family === 'gpt2') {
    const pre = has('wte.weight') ? '' : 'transformer.';
    mat('embed', dVocab, d, [p(`${pre}wte.weight`, [dVocab, d])]);
    mat('pos', cfg.nCtx, d, [p(`${pre}wpe.weight`, [cfg.nCtx, d])]);
    for (let l = 0; l < nLayers; l++) {
      const h = `${pre}h.${l}.`;
      vec(`${l}.ln1.w`, d, [p(`${h}ln_1.weight`, [d])]);
      vec(`${l}.ln1.b`, d, [p(`${h}ln_1.bias`, [d])]);
      vec(`${l}.ln2.w`, d, [p(`${h}ln_2.weight`, [d])]);
      vec(`${l}.ln2.b`, d, [p(`${h}ln_2.bias`, [d])]);
      mat(`${l}.qkv`, 3 * d, d, [p(`${h}attn.c_attn.weight`, [d, 3 * d], 0, 'transpose')]);
      vec(`${l}.qkv.b`, 3 * d, [p(`${h}attn.c_attn.bias`, [3 * d])]);
      mat(`${l}.o`, d, d, [p(`${h}attn.c_proj.weight`, [d, d], 0, 'transpose')]);
      vec(`${l}.o.b`, d, [p(`${h}attn.c_proj.bias`, [d])]);
      mat(`${l}.mlpIn`, dMlp, d, [p(`${h}mlp.c_fc.weight`, [d, dMlp], 0, 'transpose')]);
      vec(`${l}.mlpIn.b`, dMlp, [p(`${h}mlp.c_fc.bias`, [dMlp])]);
      mat(`${l}.mlpOut`, d, dMlp, [p(`${h}mlp.c_proj.weight`, [dMlp, d], 0, 'transpose')]);
      vec(`${l}.mlpOut.b`, d, [p(`${h}mlp.c_proj.bias`, [d])]);
    }
    vec('lnF.w', d, [p(`${pre}ln_f.weight`, [d])]);
    vec('lnF.b', d, [p(`${pre}ln_f.bias`, [d])]);
    if (has('lm_head.weight')) {
      tied = false;
      mat('unembed', dVocab, d, [p('lm_head.weight', [dVocab, d])]);
    } else tied = true;
  } else if (cfg.family === 'llama') {
    const pre = has('model.embed_tokens.weight') || !has('embed_tokens.weight') ? 'model.' : '';
    mat('embed', dVocab, d, [p(`${pre}embed_tokens.weight`, [dVocab, d])]);
    for (let l = 0; l < nLayers; l++) {
      const h = `${pre}layers.${l}.`;
      const a = `${h}self_attn.`;
      vec(`${l}.ln1.w`, d, [p(`${h}input_layernorm.weight`, [d])]);
      vec(`${l}.ln2.w`, d, [p(`${h}post_attention_layernorm.weight`, [d])]);
      mat(`${l}.qkv`, qDim + 2 * kvDim, d, [
        p(`${a}q_proj.weight`, [qDim, d], 0),
        p(`${a}k_proj.weight`, [kvDim, d], qDim),
        p(`${a}v_proj.weight`, [kvDim, d], qDim + kvDim),
      ]);
      const biasParts = [p(`${a}q_proj.bias`, [qDim], 0), p(`${a}k_proj.bias`, [kvDim], qDim), p(`${a}v_proj.bias`, [kvDim], qDim + kvDim)];
      vec(`${l}.qkv.b`, qDim + 2 * kvDim, biasParts.filter((b) => has(b.tensor)), true);
      mat(`${l}.o`, d, qDim, [p(`${a}o_proj.weight`, [d, qDim])]);
      vec(`${l}.o.b`, d, [p(`${a}o_proj.bias`, [d])], true);
      const m = `${h}mlp.`;
      mat(`${l}.mlpIn`, 2 * dMlp, d, [p(`${m}gate_proj.weight`, [dMlp, d], 0), p(`${m}up_proj.weight`, [dMlp, d], dMlp)]);
      vec(`${l}.mlpIn.b`, 2 * dMlp, [p(`${m}gate_proj.bias`, [dMlp], 0), p(`${m}up_proj.bias`, [dMlp], dMlp)].filter((b) => has(b.tensor)), true);
      mat(`${l}.mlpOut`, d, dMlp, [p(`${m}down_proj.weight`, [d, dMlp])]);
      vec(`${l}.mlpOut.b`, d, [p(`${m}down_proj.bias`, [d])], true);
    }
    vec('lnF.w', d, [p(`${pre}norm.weight`, [d])]);
    if (!tied && has('lm_head.weight')) mat('unembed', dVocab, d, [p('lm_head.weight', [dVocab, d])]);
    else tied = true;
  } else {
    const pre = 'gpt_neox.';
    mat('embed', dVocab, d, [p(`${pre}embed_in.weight`, [dVocab, d])]);
    for (let l = 0; l < nLayers; l++) {
      const h = `${pre}layers.${l}.`;
      vec(`${l}.ln1.w`, d, [p(`${h}input_layernorm.weight`, [d])]);
      vec(`${l}.ln1.b`, d, [p(`${h}input_layernorm.bias`, [d])]);
      vec(`${l}.ln2.w`, d, [p(`${h}post_attention_layernorm.weight`, [d])]);
      vec(`${l}.ln2.b`, d, [p(`${h}post_attention_layernorm.bias`, [d])]);
      mat(`${l}.qkv`, 3 * qDim, d, [p(`${h}attention.query_key_value.weight`, [3 * qDim, d], 0, 'neox_qkv')]);
      vec(`${l}.qkv.b`, 3 * qDim, [p(`${h}attention.query_key_value.bias`, [3 * qDim], 0, 'neox_qkv')], true);
      mat(`${l}.o`, d, qDim, [p(`${h}attention.dense.weight`, [d, qDim])]);
      vec(`${l}.o.b`, d, [p(`${h}attention.dense.bias`, [d])], true);
      mat(`${l}.mlpIn`, dMlp, d, [p(`${h}mlp.dense_h_to_4h.weight`, [dMlp, d])]);
      vec(`${l}.mlpIn.b`, dMlp, [p(`${h}mlp.dense_h_to_4h.bias`, [dMlp])], true);
      mat(`${l}.mlpOut`, d, dMlp, [p(`${h}mlp.dense_4h_to_h.weight`, [d, dMlp])]);
      vec(`${l}.mlpOut.b`, d, [p(`${h}mlp.dense_4h_to_h.bias`, [d])], true);
    }
    vec('lnF.w', d, [p(`${pre}final_layer_norm.weight`, [d])]);
    vec('lnF.b', d, [p(`${pre}final_layer_norm.bias`, [d])]);
    if (has('embed_out.weight') && !tied) mat('unembed', dVocab, d, [p('embed_out.weight', [dVocab, d])]);
    else tied = true;
  }
  for (const m of [...mats, ...vecs.filter((v) => !v.optional)]) {
    for (const part of m.parts) {
      if (!has(part.tensor)) {
        throw new EngineError('corrupt_weights', `The weights have no tensor ${part.tensor}, which a ${cfg.modelType} model with this config.json needs.`, { tensor: part.tensor });
      }
    }
  }
  for (const m of [...mats, ...vecs]) {
    for (const part of m.parts) {
      const info = tensors.get(part.tensor)!;
      if (info.shape.join(',') !== part.shape.join(',')) {
        throw new EngineError(
          'corrupt_weights',
          `Tensor ${part.tensor} in ${info.file} has shape [${info.shape.join(', ')}] but config.json implies [${part.shape.join(', ')}].`,
          { tensor: part.tensor },
        );
      }
      if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16') {
        throw new EngineError('corrupt_weights', `Tensor ${part.tensor} is ${info.dtype}; only F32, F16 and BF16 weights are supported.`, { tensor: part.tensor });
      }
    }
  }
  return { mats, vecs, tied };
}

/** Rearranges one tensor's elements (`es` bytes each) from its stored layout into the engine's. */
export function transformInto(
  src: Uint8Array,
  dst: Uint8Array,
  shape: number[],
  transform: Transform,
  es: number,
  cfg: ModelConfig,
): void {
  if (transform === 'none') {
    dst.set(src);
    return;
  }
  const view = (b: Uint8Array): Uint32Array | Uint16Array =>
    es === 4 ? new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4) : new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
  const s = view(src);
  const t = view(dst);
  if (transform === 'transpose') {
    const [R, C] = shape as [number, number];
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = s[r * C + c]!;
    return;
  }
  // NeoX: source rows (head, qkv, e) -> destination rows (qkv, head, e); a bias is the 1-column case.
  const cols = shape.length === 2 ? shape[1]! : 1;
  const { nHeads, dHead } = cfg;
  for (let h = 0; h < nHeads; h++) {
    for (let q = 0; q < 3; q++) {
      for (let e = 0; e < dHead; e++) {
        const from = (h * 3 * dHead + q * dHead + e) * cols;
        const to = (q * nHeads * dHead + h * dHead + e) * cols;
        t.set(s.subarray(from, from + cols), to);
      }
    }
  }
}

/** Bytes a planned matrix takes in the arena. */
export function matBytes(plan: MatPlan, dtype: DType): number {
  return plan.rows * plan.cols * bytesPerElement(dtype);
}

/** Decodes a planned vector from its parts' raw bytes. */
export function buildVector(plan: VecPlan, raw: Map<string, { dtype: DType; bytes: Uint8Array }>, cfg: ModelConfig): Float32Array | null {
  if (plan.parts.length === 0) return null;
  const out = new Float32Array(plan.length);
  for (const part of plan.parts) {
    const r = raw.get(part.tensor)!;
    let bytes = r.bytes;
    if (part.transform !== 'none') {
      const t = new Uint8Array(bytes.byteLength);
      transformInto(bytes, t, part.shape, part.transform, bytesPerElement(r.dtype), cfg);
      bytes = t;
    }
    out.set(decodeAll(r.dtype, bytes), part.rowOffset);
  }
  return out;
}
