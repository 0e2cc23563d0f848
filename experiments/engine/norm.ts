/**
 * LayerNorm and RMSNorm over rows, the one implementation the forward pass (model.ts) and the techniques' final norm
 * (Model.applyFinalNorm) share, so that both round alike: statistics in f64, the scale rounded to float32, outputs
 * rounded to float32 when stored.
 */
import type { NormWeights } from './weights.ts';

export interface NormSpec {
  /** Row width (d_model). */
  d: number;
  eps: number;
  /** RMSNorm (no centring, no bias) rather than LayerNorm. */
  rms: boolean;
}

/**
 * Normalises the `rows` rows of `x` [rows, d]: TransformerLens' `hook_scale` [rows] and `hook_normalized` [rows, d]
 * (LayerNorm: after its weight and bias; RMSNorm: x / scale, before the weight, which `applyRmsWeight` applies).
 * With `scale` given (a hook replaced it), those scales are used instead of the rows' own.
 */
export function normaliseRows(
  x: Float32Array,
  rows: number,
  spec: NormSpec,
  nw: NormWeights,
  scale?: Float32Array,
): { scale: Float32Array; normalized: Float32Array } {
  const { d, eps, rms } = spec;
  const sc = scale ?? new Float32Array(rows);
  const out = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let mean = 0;
    if (!rms) {
      for (let j = 0; j < d; j++) mean += x[o + j]!;
      mean /= d;
    }
    if (!scale) {
      let sq = 0;
      for (let j = 0; j < d; j++) {
        const v = x[o + j]! - mean;
        sq += v * v;
      }
      sc[i] = Math.fround(Math.sqrt(sq / d + eps));
    }
    const s = sc[i]!;
    for (let j = 0; j < d; j++) {
      const v = (x[o + j]! - mean) / s;
      out[o + j] = rms ? v : v * nw.w[j]! + (nw.b ? nw.b[j]! : 0);
    }
  }
  return { scale: sc, normalized: out };
}

/** RMSNorm's last step: `normalized` [rows, d] (x / scale, already float32) times the weight, in a new array. */
export function applyRmsWeight(normalized: Float32Array, rows: number, d: number, w: Float32Array): Float32Array {
  const y = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) y[i * d + j] = normalized[i * d + j]! * w[j]!;
  return y;
}
