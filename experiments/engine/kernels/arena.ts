/**
 * The weight arena: one shared WebAssembly.Memory holding every weight matrix (in its stored dtype) followed by a
 * scratch region for matmul operands. Sharing it lets kernel instances in worker threads read the weights in place,
 * with no copies; only activations are copied in and results copied out.
 */
import type { DType } from '../safetensors.ts';
import { bytesPerElement } from '../dtype.ts';
import { EngineError, formatBytes } from '../errors.ts';

/** A row-major weight matrix [rows, cols] in the arena; `ld` is the distance between rows in elements. */
export interface Mat {
  dtype: DType;
  rows: number;
  cols: number;
  /** Byte offset of element [0, 0] in the arena. */
  offset: number;
  ld: number;
}

/** Rows [start, start + count) of `m`. */
export function matRows(m: Mat, start: number, count: number): Mat {
  return { ...m, rows: count, offset: m.offset + start * m.ld * bytesPerElement(m.dtype) };
}

/** Columns [start, start + count) of `m` (a strided view: one head's block of W_O, for instance). */
export function matCols(m: Mat, start: number, count: number): Mat {
  return { ...m, cols: count, offset: m.offset + start * bytesPerElement(m.dtype) };
}

const PAGE = 65536;
const MAX_PAGES = 65536; // wasm32: 4 GiB

export class Arena {
  readonly memory: WebAssembly.Memory;
  private top = 0;
  private scratchBase = -1;

  private constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
  }

  /** An arena sized for `weightBytes` of weights (plus 1 MB of scratch, grown on demand). */
  static create(weightBytes: number): Arena {
    const pages = Math.ceil((weightBytes + 64 * 256 + (1 << 20)) / PAGE);
    if (pages > MAX_PAGES) {
      throw new EngineError(
        'insufficient_memory',
        `The weights need ${formatBytes(weightBytes)} in memory, more than the 4 GiB a WebAssembly memory can hold. Use a smaller model or keep it in BF16/F16.`,
        { weightBytes },
      );
    }
    return new Arena(new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared: true }));
  }

  /** Reserves `bytes` for weights (64-byte aligned) and returns their byte offset. */
  allocWeights(bytes: number): number {
    if (this.scratchBase >= 0) throw new Error('weights are sealed');
    const offset = this.top;
    this.top = Math.ceil((offset + bytes) / 64) * 64;
    if (this.top > this.memory.buffer.byteLength) this.grow(this.top);
    return offset;
  }

  /** Marks the end of the weights; from here on the rest of the memory is matmul scratch. */
  seal(): void {
    this.scratchBase = this.top;
  }

  get weightBytes(): number {
    return this.top;
  }

  /** Byte offset of a scratch region of at least `bytes`, growing the memory if needed. */
  scratch(bytes: number): number {
    if (this.scratchBase < 0) throw new Error('arena not sealed');
    const need = this.scratchBase + bytes;
    if (need > this.memory.buffer.byteLength) this.grow(need);
    return this.scratchBase;
  }

  private grow(need: number): void {
    const pages = Math.ceil((need - this.memory.buffer.byteLength) / PAGE);
    const total = this.memory.buffer.byteLength / PAGE + pages;
    if (total > MAX_PAGES) {
      throw new EngineError('insufficient_memory', `This run needs more than the 4 GiB a WebAssembly memory can hold (${formatBytes(need)}).`, { need });
    }
    this.memory.grow(pages);
  }

  bytes(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, offset, length);
  }

  f32(offset: number, count: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, count);
  }
}
