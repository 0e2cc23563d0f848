/**
 * Matrix products for the forward pass: y[n, m] = x[n, k] · Wᵀ (+ bias), W a weight matrix in the arena.
 * The WebAssembly SIMD kernel runs in a pool of worker threads (so the caller's event loop stays free), each call
 * split by output columns across the workers when it is big enough to pay for it; results are identical for any
 * thread count. `threads: 0` runs the kernel on the calling thread instead (tiny models, tests).
 */
import { Worker } from 'node:worker_threads';
import type { Arena, Mat } from './arena.ts';
import { matmulWat } from './matmul-wat.ts';
import { bytesPerElement, f16Table32 } from '../dtype.ts';

type KernelFn = (x: number, w: number, y: number, n: number, m: number, k: number, ldx: number, ldw: number, ldy: number, bias: number) => void;

let modulePromise: Promise<WebAssembly.Module> | null = null;

/** Assembles (once per process) the kernel module from its WAT text with the pure-JS wabt assembler. */
export function kernelModule(): Promise<WebAssembly.Module> {
  modulePromise ??= (async () => {
    const { default: initWabt } = await import('wabt');
    const wabt = await initWabt();
    const parsed = wabt.parseWat('matmul.wat', matmulWat(), { simd: true, threads: true });
    try {
      const { buffer } = parsed.toBinary({});
      return WebAssembly.compile(new Uint8Array(buffer));
    } finally {
      parsed.destroy();
    }
  })();
  return modulePromise;
}

/**
 * Workers take jobs through a shared control block rather than messages: a message round trip costs tens to
 * hundreds of microseconds on a busy machine, and generation makes about fifty products per token. Each worker owns
 * CONTROL_INTS ints: [job sequence, done sequence, kernel index (-1: exit), 10 kernel arguments]; it sleeps in
 * Atomics.wait on the job sequence and wakes the caller (Atomics.waitAsync) through the done sequence.
 */
const CONTROL_INTS = 16;
const KERNELS = ['mm_f32', 'mm_bf16', 'mm_f16', 'mv_f32', 'mv_bf16', 'mv_f16'];

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const inst = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
const ctrl = new Int32Array(workerData.control, workerData.slot * ${CONTROL_INTS * 4}, ${CONTROL_INTS});
const fns = ${JSON.stringify(KERNELS)}.map((name) => inst.exports[name]);
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, 0, seen);
  seen = Atomics.load(ctrl, 0);
  const f = ctrl[2];
  if (f < 0) break;
  fns[f](ctrl[3], ctrl[4], ctrl[5], ctrl[6], ctrl[7], ctrl[8], ctrl[9], ctrl[10], ctrl[11], ctrl[12]);
  Atomics.store(ctrl, 1, seen);
  Atomics.notify(ctrl, 1);
}
`;

type WaitAsync = (a: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };

/** Below this many multiply-adds a product runs on one worker: splitting would cost more than it saves. */
const SPLIT_MIN_MACS = 1 << 18;

/** Fewer rows of x than this use the matrix-vector variant (identical results, faster for generation steps). */
const MV_MAX_ROWS = 3;

function kernelName(w: Mat, n: number): string {
  const prefix = n <= MV_MAX_ROWS ? 'mv' : 'mm';
  return `${prefix}_${w.dtype === 'F32' ? 'f32' : w.dtype === 'BF16' ? 'bf16' : 'f16'}`;
}

export class MatmulEngine {
  private readonly arena: Arena;
  private readonly workers: Worker[];
  private readonly local: Record<string, KernelFn> | null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly control: Int32Array[];
  private busy = 0;
  private readonly splitMinMacs: number;

  private constructor(arena: Arena, workers: Worker[], control: SharedArrayBuffer, local: Record<string, KernelFn> | null, splitMinMacs: number) {
    this.arena = arena;
    this.splitMinMacs = splitMinMacs;
    this.workers = workers;
    this.local = local;
    this.control = workers.map((_, i) => new Int32Array(control, i * CONTROL_INTS * 4, CONTROL_INTS));
    for (const w of workers) w.unref();
  }

  /**
   * A kernel engine over `arena`, with `threads` workers (0: run on the calling thread). Products of at least
   * `splitMinMacs` multiply-adds are split across the workers.
   */
  static async create(arena: Arena, threads: number, splitMinMacs = SPLIT_MIN_MACS): Promise<MatmulEngine> {
    const module = await kernelModule();
    if (threads <= 0) {
      const inst = await WebAssembly.instantiate(module, { env: { memory: arena.memory } });
      return new MatmulEngine(arena, [], new SharedArrayBuffer(0), inst.exports as unknown as Record<string, KernelFn>, splitMinMacs);
    }
    const control = new SharedArrayBuffer(threads * CONTROL_INTS * 4);
    const workers = Array.from({ length: threads }, (_, slot) =>
      new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory: arena.memory, control, slot } }),
    );
    return new MatmulEngine(arena, workers, control, null, splitMinMacs);
  }

  get threads(): number {
    return this.workers.length;
  }

  /**
   * y[n, w.rows] = x[n, w.cols] · wᵀ (+ bias). `x` is row-major and contiguous. Calls are serialised (they share
   * the scratch region), so concurrent forward passes interleave safely.
   */
  matmul(x: Float32Array, n: number, w: Mat, bias?: Float32Array | null): Promise<Float32Array> {
    const run = this.queue.then(() => this.run(x, n, w, bias ?? null));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(x: Float32Array, n: number, w: Mat, bias: Float32Array | null): Promise<Float32Array> {
    const k = w.cols;
    const m = w.rows;
    if (x.length !== n * k) throw new Error(`matmul: x has ${x.length} elements, expected ${n}x${k}`);
    const xBytes = align(n * k * 4);
    const yBytes = align(n * m * 4);
    const base = this.arena.scratch(xBytes + yBytes + align(m * 4));
    const xPtr = base;
    const yPtr = base + xBytes;
    const bPtr = bias ? base + xBytes + yBytes : 0;
    this.arena.f32(xPtr, n * k).set(x);
    if (bias) this.arena.f32(bPtr, m).set(bias);
    const es = bytesPerElement(w.dtype);
    const fn = kernelName(w, n);
    const parts = this.workers.length > 1 && n * m * k >= this.splitMinMacs && m >= 16 * this.workers.length ? this.workers.length : 1;
    if (this.local) {
      this.local[fn]!(xPtr, w.offset, yPtr, n, m, k, k * 4, w.ld * es, m * 4, bPtr);
    } else {
      const jobs: Promise<void>[] = [];
      for (let p = 0; p < parts; p++) {
        const j0 = Math.floor((m * p) / parts);
        const j1 = Math.floor((m * (p + 1)) / parts);
        jobs.push(
          this.post(p, [fn, xPtr, w.offset + j0 * w.ld * es, yPtr + j0 * 4, n, j1 - j0, k, k * 4, w.ld * es, m * 4, bPtr ? bPtr + j0 * 4 : 0]),
        );
      }
      await Promise.all(jobs);
    }
    return this.arena.f32(yPtr, n * m).slice();
  }

  private async post(worker: number, args: (string | number)[]): Promise<void> {
    const ctrl = this.control[worker]!;
    if (this.busy++ === 0) for (const x of this.workers) x.ref();
    try {
      ctrl[2] = KERNELS.indexOf(args[0] as string);
      for (let i = 1; i < args.length; i++) ctrl[2 + i] = args[i] as number;
      const seq = (ctrl[0]! + 1) | 0;
      Atomics.store(ctrl, 0, seq);
      Atomics.notify(ctrl, 0);
      const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
      for (;;) {
        const done = Atomics.load(ctrl, 1);
        if (done === seq) break;
        const r = waitAsync(ctrl, 1, done);
        if (r.async) await r.value;
      }
    } finally {
      if (--this.busy === 0) for (const x of this.workers) x.unref();
    }
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    for (const ctrl of this.control) {
      ctrl[2] = -1;
      Atomics.store(ctrl, 0, (ctrl[0]! + 1) | 0);
      Atomics.notify(ctrl, 0);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** Plain-JS reference product (f64 accumulation), for checking the kernel. */
export function matmulReference(arena: Arena, x: Float32Array, n: number, w: Mat, bias?: Float32Array | null): Float32Array {
  const { rows: m, cols: k } = w;
  const y = new Float32Array(n * m);
  const es = bytesPerElement(w.dtype);
  const buf = arena.memory.buffer;
  const table = w.dtype === 'F16' ? f16Table32() : null;
  const row = new Float64Array(k);
  for (let j = 0; j < m; j++) {
    const off = w.offset + j * w.ld * es;
    if (w.dtype === 'F32') {
      const r = new Float32Array(buf, off, k);
      for (let p = 0; p < k; p++) row[p] = r[p]!;
    } else {
      const r = new Uint16Array(buf, off, k);
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      for (let p = 0; p < k; p++) {
        if (table) row[p] = table[r[p]!]!;
        else {
          u[0] = r[p]! << 16;
          row[p] = f[0]!;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      let s = bias ? bias[j]! : 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * row[p]!;
      y[i * m + j] = s;
    }
  }
  return y;
}
