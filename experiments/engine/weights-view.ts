/**
 * Read-only views of a loaded model's weights, for techniques that need a weight the hooks do not show: the
 * unembedding (logit lens, direct logit attribution), the final norm's weight and bias, and the attention output
 * bias b_O. Nothing here runs the model or changes a weight; forward passes stay in model.ts and go through hooks.
 *
 * The weights are private to Model (so that nothing edits them); this file is the one place that reads them,
 * checking at run time that the model still holds them where expected.
 */
import type { ModelConfig } from './config.ts';
import { decodeInto } from './dtype.ts';
import { EngineError } from './errors.ts';
import type { Arena, Mat } from './kernels/arena.ts';
import type { MatmulEngine } from './kernels/matmul.ts';
import type { Model } from './model.ts';
import type { NormWeights, Weights } from './weights.ts';

interface ModelInternals {
  weights: Weights;
  arena: Arena;
  mm: MatmulEngine;
  config: ModelConfig;
}

function internals(model: Model): ModelInternals {
  const m = model as unknown as Partial<ModelInternals>;
  if (!m.weights || !m.arena || !m.mm || !m.config) {
    throw new Error('weights-view: this Model no longer keeps weights/arena/mm where weights-view.ts expects them; update weights-view.ts.');
  }
  return m as ModelInternals;
}

function readRow(arena: Arena, m: Mat, row: number): Float32Array {
  if (!Number.isInteger(row) || row < 0 || row >= m.rows) throw new EngineError('invalid_input', `Row ${row} is outside a matrix of ${m.rows} rows.`);
  const es = m.dtype === 'F32' ? 4 : 2;
  const out = new Float32Array(m.cols);
  decodeInto(m.dtype, arena.bytes(m.offset + row * m.ld * es, m.cols * es), 0, m.cols, out, 0);
  return out;
}

/** W_U[:, token] as a d_model vector: the residual direction (after the final norm) that a token's logit reads. */
export function unembedDirection(model: Model, token: number): Float32Array {
  const { weights, arena } = internals(model);
  return readRow(arena, weights.unembed, token);
}

/** W_E[token] as a d_model vector. */
export function embedRow(model: Model, token: number): Float32Array {
  const { weights, arena } = internals(model);
  return readRow(arena, weights.embed, token);
}

/** The unembedding bias b_U (null when the model has none). A copy. */
export function unembedBias(model: Model): Float32Array | null {
  const b = internals(model).weights.unembedBias;
  return b ? b.slice() : null;
}

/** The final norm's weight and bias (RMSNorm: no bias). Copies. */
export function finalNormWeights(model: Model): { w: Float32Array; b: Float32Array | null } {
  const n: NormWeights = internals(model).weights.lnFinal;
  return { w: n.w.slice(), b: n.b ? n.b.slice() : null };
}

/** Layer `layer`'s attention output bias b_O (null when the architecture has none). A copy. */
export function attnOutBias(model: Model, layer: number): Float32Array | null {
  const L = internals(model).weights.layers[layer];
  if (!L) throw new EngineError('invalid_input', `Layer ${layer} is outside the model's ${model.config.nLayers} layers.`);
  return L.oBias ? L.oBias.slice() : null;
}

/**
 * The final norm applied to rows of a residual stream, recomputing each row's statistics exactly as the forward
 * pass does (TransformerLens' ln_final, with its weight and bias): `x` is [rows, d_model].
 */
export function applyFinalNorm(model: Model, x: Float32Array, rows: number): Float32Array {
  const { config, weights } = internals(model);
  const d = config.dModel;
  const eps = config.normEps;
  const rms = config.normType === 'rmsnorm';
  const { w, b } = weights.lnFinal;
  const out = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let mean = 0;
    if (!rms) {
      for (let j = 0; j < d; j++) mean += x[o + j]!;
      mean /= d;
    }
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const v = x[o + j]! - mean;
      sq += v * v;
    }
    const s = Math.fround(Math.sqrt(sq / d + eps));
    for (let j = 0; j < d; j++) {
      const v = (x[o + j]! - mean) / s;
      // Same float32 rounding steps as the forward pass (RMSNorm rounds x/scale before the weight).
      out[o + j] = rms ? Math.fround(v) * w[j]! : v * w[j]! + (b ? b[j]! : 0);
    }
  }
  return out;
}

/** Logits for rows of a normalised residual stream: `x` [rows, d_model] times W_U plus b_U, in the kernel. */
export async function unembed(model: Model, x: Float32Array, rows: number): Promise<Float32Array> {
  const { weights, mm } = internals(model);
  return mm.matmul(x, rows, weights.unembed, weights.unembedBias);
}
