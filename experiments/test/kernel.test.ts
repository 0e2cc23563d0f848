// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** The WebAssembly SIMD matmul kernel against a plain-JS reference, for each weight dtype and awkward sizes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Arena } from '../engine/kernels/arena.ts';
import { MatmulEngine, matmulReference } from '../engine/kernels/matmul.ts';
import { matCols } from '../engine/kernels/arena.ts';

function halfBits(dtype: 'BF16' | 'F16', v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0]!;
  if (dtype === 'BF16') return u >>> 16;
  // f32 -> f16 (truncating; exactness of the encoding is irrelevant, the decoding is what is tested)
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign | ((((u & 0x7fffff) | 0x800000) >>> (14 - exp)) & 0x3ff); // subnormal
  return sign | (exp << 10) | ((u >>> 13) & 0x3ff);
}

for (const dtype of ['F32', 'BF16', 'F16'] as const) {
  test(`${dtype}: kernel equals the reference; 0, 1 and 2 threads give identical bits; column views work`, async () => {
    const m = 37;
    const k = 23; // not a multiple of 4: exercises the scalar tail
    const n = 7; // not a multiple of the 4-row block
    const es = dtype === 'F32' ? 4 : 2;
    const arena = Arena.create(m * k * es);
    const off = arena.allocWeights(m * k * es);
    arena.seal();
    const values = Array.from({ length: m * k }, (_, i) => Math.sin(i * 1.7) * (i % 5 === 0 ? 1e-5 : 1));
    if (dtype === 'F32') arena.f32(off, m * k).set(values);
    else new Uint16Array(arena.memory.buffer, off, m * k).set(values.map((v) => halfBits(dtype, v)));
    const w = { dtype, rows: m, cols: k, offset: off, ld: k };
    const x = Float32Array.from({ length: n * k }, (_, i) => Math.cos(i));
    const bias = Float32Array.from({ length: m }, (_, i) => i / 10);
    const ref = matmulReference(arena, x, n, w, bias);
    const results: Float32Array[] = [];
    for (const threads of [0, 1, 2]) {
      const eng = await MatmulEngine.create(arena, threads, 0); // 0: split every product across the workers
      try {
        results.push(await eng.matmul(x, n, w, bias));
        if (threads === 0) {
          const cols = matCols(w, 5, 9);
          const xs = Float32Array.from({ length: n * 9 }, (_, i) => x[Math.floor(i / 9) * k + 5 + (i % 9)]!);
          const y = await eng.matmul(xs, n, cols);
          const yr = matmulReference(arena, xs, n, cols);
          for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i]! - yr[i]!) < 1e-5 * (1 + Math.abs(yr[i]!)));
        }
      } finally {
        await eng.close();
      }
    }
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(results[0]![i]! - ref[i]!) < 1e-5 * (1 + Math.abs(ref[i]!)), `element ${i}`);
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[2], results[0]);
  });
}

test('F16 infinities and NaNs decode as such', async () => {
  const arena = Arena.create(64);
  const off = arena.allocWeights(16);
  arena.seal();
  new Uint16Array(arena.memory.buffer, off, 8).set([0x7c00, 0xfc00, 0x7e00, 0x3c00, 0x0001, 0x8001, 0x3c00, 0x3c00]);
  const eng = await MatmulEngine.create(arena, 0);
  try {
    const y = await eng.matmul(new Float32Array([1]), 1, { dtype: 'F16', rows: 8, cols: 1, offset: off, ld: 1 });
    assert.deepEqual([...y.subarray(0, 4)], [Infinity, -Infinity, NaN, 1]);
    assert.equal(y[4], 2 ** -24);
    assert.equal(y[5], -(2 ** -24));
  } finally {
    await eng.close();
  }
});
