/**
 * Half-precision decoding by hand (Node 20 has no Float16Array). BF16 is the top half of an f32; F16 goes through
 * a 65,536-entry table built on first use. Used for small tensors (biases, norms, embedding rows); the matmul kernel
 * decodes weight tiles itself.
 */
import type { DType } from './safetensors.ts';

let f16Table: Float32Array | null = null;

function f16ToF32Scalar(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 31) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** The F16 -> F32 decoding table (all 65,536 halves). */
export function f16Table32(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32Scalar(h);
  }
  return f16Table;
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'F32' ? 4 : 2;
}

/** Decodes `count` elements of `dtype` starting at element `start` of `bytes` (little-endian) into `out` at `outOffset`. */
export function decodeInto(dtype: DType, bytes: Uint8Array, start: number, count: number, out: Float32Array, outOffset = 0): void {
  const esize = bytesPerElement(dtype);
  const byteOffset = bytes.byteOffset + start * esize;
  if (dtype === 'F32') {
    if (byteOffset % 4 === 0) {
      out.set(new Float32Array(bytes.buffer, byteOffset, count), outOffset);
    } else {
      const copy = new Uint8Array(count * 4);
      copy.set(new Uint8Array(bytes.buffer, byteOffset, count * 4));
      out.set(new Float32Array(copy.buffer), outOffset);
    }
    return;
  }
  const halves =
    byteOffset % 2 === 0
      ? new Uint16Array(bytes.buffer, byteOffset, count)
      : new Uint16Array(new Uint8Array(bytes.buffer, byteOffset, count * 2).slice().buffer);
  if (dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, count);
    for (let i = 0; i < count; i++) u32[i] = halves[i]! << 16;
  } else {
    const table = f16Table32();
    for (let i = 0; i < count; i++) out[outOffset + i] = table[halves[i]!]!;
  }
}

/** Decodes a whole tensor's bytes to a new Float32Array. */
export function decodeAll(dtype: DType, bytes: Uint8Array): Float32Array {
  const count = bytes.byteLength / bytesPerElement(dtype);
  const out = new Float32Array(count);
  decodeInto(dtype, bytes, 0, count, out);
  return out;
}
