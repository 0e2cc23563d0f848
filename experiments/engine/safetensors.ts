/**
 * safetensors reading: the header is parsed and checked against the file's size before any tensor is used, so a
 * truncated or corrupt file fails with a message naming it, not with garbage numbers later. Tensor bytes are then
 * streamed once, in file order, into destinations the caller chooses, while the file's sha256 is computed on the
 * same pass (results record it).
 */
import { createHash, type Hash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from './errors.ts';

export type DType = 'F32' | 'F16' | 'BF16';

/** Byte size of each safetensors dtype; only F32, F16 and BF16 can be used as weights. */
const DTYPE_SIZES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, U64: 8, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offsets in the file, [begin, end). */
  begin: number;
  end: number;
  file: string;
}

export interface SafetensorsHeader {
  file: string;
  fileSize: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

function corrupt(file: string, why: string): EngineError {
  return new EngineError('corrupt_weights', `The weights file ${file} is not a valid safetensors file: ${why}.`, { file });
}

/** Reads and validates a safetensors header: JSON, dtypes, shapes against byte ranges, and ranges against the file size. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const fileSize = (await stat(file)).size;
  if (fileSize < 8) throw corrupt(file, `it is only ${fileSize} bytes long`);
  const fh = await open(file, 'r');
  try {
    const lenBuf = Buffer.alloc(8);
    await fh.read(lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > 100_000_000 || 8 + headerLen > fileSize) {
      throw corrupt(file, `the header claims ${headerLen} bytes but the file has ${fileSize} (truncated?)`);
    }
    const headerBuf = Buffer.alloc(headerLen);
    await fh.read(headerBuf, 0, headerLen, 8);
    let json: unknown;
    try {
      json = JSON.parse(headerBuf.toString('utf8'));
    } catch {
      throw corrupt(file, 'its header is not JSON');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw corrupt(file, 'its header is not a JSON object');
    const dataStart = 8 + headerLen;
    const dataSize = fileSize - dataStart;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    let maxEnd = 0;
    for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = (raw ?? {}) as Record<string, string>;
        continue;
      }
      const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const size = typeof entry?.dtype === 'string' ? DTYPE_SIZES[entry.dtype] : undefined;
      if (size === undefined) throw corrupt(file, `tensor ${name} has an unknown dtype ${JSON.stringify(entry?.dtype)}`);
      const shape = entry.shape;
      const offsets = entry.data_offsets;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw corrupt(file, `tensor ${name} has a bad shape`);
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isInteger(d) && d >= 0)) {
        throw corrupt(file, `tensor ${name} has bad data_offsets`);
      }
      const [b, e] = offsets as [number, number];
      const count = (shape as number[]).reduce((a, d) => a * d, 1);
      if (e - b !== count * size) throw corrupt(file, `tensor ${name} has ${e - b} bytes but its shape and dtype need ${count * size}`);
      if (e > dataSize) {
        throw corrupt(file, `tensor ${name} ends at byte ${dataStart + e} but the file has only ${fileSize} bytes (truncated?)`);
      }
      maxEnd = Math.max(maxEnd, e);
      tensors.set(name, { name, dtype: entry.dtype as string, shape: shape as number[], begin: dataStart + b, end: dataStart + e, file });
    }
    if (maxEnd !== dataSize) throw corrupt(file, `its header describes ${maxEnd} data bytes but the file holds ${dataSize}`);
    return { file, fileSize, tensors, metadata };
  } finally {
    await fh.close();
  }
}

/** Where the bytes of one tensor go: `dest` receives exactly `end - begin` bytes; `done` runs once they have all arrived. */
export interface TensorSink {
  dest: Uint8Array;
  done?: () => void;
}

/**
 * Streams each file once, in order, feeding `hash` with every byte and copying tensor bytes into the sinks returned
 * by `sinkFor` (null skips a tensor). Reads in chunks so the peak is the destinations plus one chunk.
 */
export async function streamTensors(
  headers: SafetensorsHeader[],
  sinkFor: (info: TensorInfo) => TensorSink | null,
  hash: Hash = createHash('sha256'),
  chunkBytes = 8 << 20,
): Promise<string> {
  for (const header of headers) {
    // Sinks are asked for when a tensor's first bytes arrive and dropped once it is complete, so temporary
    // buffers (tensors to transpose) live one at a time.
    const infos = [...header.tensors.values()].sort((a, b) => a.begin - b.begin);
    const sinks: (TensorSink | null | undefined)[] = infos.map(() => undefined);
    const fh = await open(header.file, 'r');
    try {
      const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(header.fileSize, 1)));
      let pos = 0;
      let next = 0; // first tensor not yet complete
      while (pos < header.fileSize) {
        const want = Math.min(chunk.length, header.fileSize - pos);
        const { bytesRead } = await fh.read(chunk, 0, want, pos);
        if (bytesRead !== want) throw corrupt(path.basename(header.file), 'it changed or shrank while being read');
        hash.update(chunk.subarray(0, want));
        const chunkEnd = pos + want;
        for (let j = next; j < infos.length; j++) {
          const info = infos[j]!;
          if (info.begin >= chunkEnd) break;
          if (info.end <= pos) continue;
          if (sinks[j] === undefined) sinks[j] = sinkFor(info);
          const sink = sinks[j];
          if (!sink) continue;
          const from = Math.max(info.begin, pos);
          const to = Math.min(info.end, chunkEnd);
          if (to > from) sink.dest.set(chunk.subarray(from - pos, to - pos), from - info.begin);
          if (info.end <= chunkEnd) {
            sink.done?.();
            sinks[j] = null;
          }
        }
        while (next < infos.length && infos[next]!.end <= chunkEnd) next++;
        pos = chunkEnd;
      }
      // Zero-length tensors never overlap a chunk.
      infos.forEach((info, j) => {
        if (info.end === info.begin && sinks[j] === undefined) sinkFor(info)?.done?.();
      });
    } finally {
      await fh.close();
    }
  }
  return hash.digest('hex');
}
