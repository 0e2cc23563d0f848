/**
 * A key/value cache: the keys (after rotary) and values of every layer for the positions a model has already run,
 * so that generation runs one new position per step instead of recomputing the whole sequence. Pass the same
 * cache to successive `model.run(newTokens, { kvCache })` calls; each successful run appends its positions.
 */
import type { ModelConfig } from './config.ts';
import { EngineError } from './errors.ts';

export class KvCache {
  /** Every token the cached positions hold, in order. */
  readonly tokens: number[] = [];
  private readonly nLayers: number;
  private readonly rowFloats: number;
  private readonly maxRows: number;
  private readonly k: Float32Array[];
  private readonly v: Float32Array[];
  private capacity = 0;

  constructor(config: ModelConfig) {
    this.nLayers = config.nLayers;
    this.rowFloats = config.nKvHeads * config.dHead;
    this.maxRows = config.nCtx;
    this.k = Array.from({ length: this.nLayers }, () => new Float32Array(0));
    this.v = Array.from({ length: this.nLayers }, () => new Float32Array(0));
  }

  /** Positions cached so far. */
  get length(): number {
    return this.tokens.length;
  }

  /** Bytes the cache holds now. */
  get bytes(): number {
    return 2 * this.nLayers * this.capacity * this.rowFloats * 4;
  }

  /** An independent copy (for branching: the same prefix continued two ways). */
  fork(): KvCache {
    const copy = Object.create(KvCache.prototype) as KvCache;
    Object.assign(copy, {
      tokens: [...this.tokens],
      nLayers: this.nLayers,
      rowFloats: this.rowFloats,
      maxRows: this.maxRows,
      capacity: this.length,
      k: this.k.map((a) => a.slice(0, this.length * this.rowFloats)),
      v: this.v.map((a) => a.slice(0, this.length * this.rowFloats)),
    });
    return copy;
  }

  /** @internal Checks that the cache was made for a model of this shape. */
  checkFits(config: ModelConfig): void {
    if (config.nLayers !== this.nLayers || config.nKvHeads * config.dHead !== this.rowFloats) {
      throw new EngineError('invalid_input', 'This key/value cache was made for a model of another shape; make one with model.createKvCache().');
    }
  }

  /**
   * @internal Writes the keys and values of positions [start, start + n) of `layer` and returns the keys and
   * values of positions [0, start + n). Positions are only counted as cached once `commit` runs (a failed run leaves
   * the cache as it was).
   */
  write(layer: number, start: number, n: number, keys: Float32Array, values: Float32Array): { k: Float32Array; v: Float32Array } {
    const rows = start + n;
    if (rows > this.capacity) this.grow(rows);
    const f = this.rowFloats;
    this.k[layer]!.set(keys.subarray(0, n * f), start * f);
    this.v[layer]!.set(values.subarray(0, n * f), start * f);
    return { k: this.k[layer]!.subarray(0, rows * f), v: this.v[layer]!.subarray(0, rows * f) };
  }

  /** @internal Records that a run over `newTokens` completed. */
  commit(newTokens: readonly number[]): void {
    this.tokens.push(...newTokens);
  }

  private grow(rows: number): void {
    const cap = Math.min(this.maxRows, Math.max(rows, 2 * this.capacity, 64));
    const f = this.rowFloats;
    for (let l = 0; l < this.nLayers; l++) {
      const k = new Float32Array(cap * f);
      k.set(this.k[l]!.subarray(0, this.capacity * f));
      this.k[l] = k;
      const v = new Float32Array(cap * f);
      v.set(this.v[l]!.subarray(0, this.capacity * f));
      this.v[l] = v;
    }
    this.capacity = cap;
  }
}
