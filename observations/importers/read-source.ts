import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../core/errors.ts';
import { MAX_RECORD_BYTES, MAX_WHOLE_DOCUMENT_BYTES, type ImportSource } from './import-types.ts';

const HEAD_BYTES = 64 * 1024;

/** A line of a JSONL source: its 1-based number and its text (without the line break). */
export type SourceLine = { number: number; text: string } | { number: number; tooLong: true };

/**
 * One import source, read at most once as a stream, with the byte limit enforced as bytes arrive
 * (and up front from the file size when the source is a file). `head()` peeks without consuming.
 */
export class SourceReader {
  readonly fileName: string;
  readonly path: string | undefined;
  private readonly maxBytes: number;
  private readonly source: ImportSource;
  private iterator: AsyncIterator<Uint8Array> | undefined;
  private readonly pending: Buffer[] = [];
  private bytesRead = 0;
  private consumed = false;

  private constructor(source: ImportSource, maxBytes: number) {
    this.maxBytes = maxBytes;
    this.source = source;
    if ('path' in source) {
      this.path = source.path;
      this.fileName = source.fileName ?? path.basename(source.path);
    } else {
      this.path = undefined;
      this.fileName = source.fileName;
    }
  }

  /** Stop reading: closes the file (or ends the stream) when the import ends early. */
  async close(): Promise<void> {
    await this.iterator?.return?.();
  }

  /** Open a source; a file larger than `maxBytes` is refused before a byte is read. */
  static async open(source: ImportSource, maxBytes: number): Promise<SourceReader> {
    if ('path' in source) {
      let size: number;
      try {
        size = (await stat(source.path)).size;
      } catch (error) {
        throw new AppError('validation_failed', `Menagerie could not read ${source.path}: ${(error as Error).message}`);
      }
      if (size > maxBytes) throw tooLarge(source.fileName ?? path.basename(source.path), maxBytes, size);
    }
    return new SourceReader(source, maxBytes);
  }

  /** The first bytes of the source (up to 64 KiB), for format sniffing; they are still read by `chunks()`. */
  async head(bytes = HEAD_BYTES): Promise<Buffer> {
    let have = this.pending.reduce((n, b) => n + b.length, 0);
    while (have < bytes) {
      const next = await this.pull();
      if (!next) break;
      this.pending.push(next);
      have += next.length;
    }
    return Buffer.concat(this.pending).subarray(0, bytes);
  }

  /** The source's bytes, chunk by chunk; throws `payload_too_large` once more than `maxBytes` arrived. */
  async *chunks(): AsyncGenerator<Buffer> {
    if (this.consumed) throw new Error('SourceReader.chunks() may be read only once');
    this.consumed = true;
    while (this.pending.length > 0) yield this.pending.shift()!;
    while (true) {
      const next = await this.pull();
      if (!next) return;
      yield next;
    }
  }

  /** The whole source as one buffer, for formats that are one JSON document (bounded by the document limit). */
  async buffer(what: string): Promise<Buffer> {
    const limit = Math.min(this.maxBytes, MAX_WHOLE_DOCUMENT_BYTES);
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.chunks()) {
      size += chunk.length;
      if (size > limit) {
        throw new AppError(
          'payload_too_large',
          `${this.fileName} is larger than ${formatBytes(limit)}, the most Menagerie reads whole for ${what}; ` +
            'split it, or use a streamable form (JSONL, an Inspect .eval log)',
          { limitBytes: limit },
        );
      }
      parts.push(chunk);
    }
    return Buffer.concat(parts);
  }

  /** The source as text lines (UTF-8, `\n` or `\r\n`), one at a time; a line over the record limit is reported, not held. */
  async *lines(): AsyncGenerator<SourceLine> {
    let carry: Buffer[] = [];
    let carryBytes = 0;
    let number = 0;
    let skipping = false;
    for await (const chunk of this.chunks()) {
      let start = 0;
      while (start < chunk.length) {
        const newline = chunk.indexOf(0x0a, start);
        const end = newline === -1 ? chunk.length : newline;
        if (!skipping) {
          carry.push(chunk.subarray(start, end));
          carryBytes += end - start;
          if (carryBytes > MAX_RECORD_BYTES) {
            skipping = true;
            carry = [];
            carryBytes = 0;
          }
        }
        if (newline === -1) break;
        number++;
        if (skipping) yield { number, tooLong: true };
        else yield { number, text: lineText(carry) };
        carry = [];
        carryBytes = 0;
        skipping = false;
        start = newline + 1;
      }
    }
    if (skipping) yield { number: number + 1, tooLong: true };
    else if (carryBytes > 0) yield { number: number + 1, text: lineText(carry) };
  }

  private async pull(): Promise<Buffer | undefined> {
    // Opened on first read, so a ZIP read by random access never opens a stream it would not use.
    this.iterator ??= 'path' in this.source ? createReadStream(this.source.path)[Symbol.asyncIterator]() : this.source.stream[Symbol.asyncIterator]();
    const next = await this.iterator.next();
    if (next.done) return undefined;
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    this.bytesRead += chunk.length;
    if (this.bytesRead > this.maxBytes) {
      await this.close();
      throw tooLarge(this.fileName, this.maxBytes);
    }
    return chunk;
  }
}

function lineText(parts: Buffer[]): string {
  const text = Buffer.concat(parts).toString('utf8');
  const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
  return trimmed.startsWith('\uFEFF') ? trimmed.slice(1) : trimmed;
}

function tooLarge(fileName: string, maxBytes: number, size?: number): AppError {
  const actual = size === undefined ? 'more than that' : formatBytes(size);
  return new AppError(
    'payload_too_large',
    `${fileName} is too large to import: the limit is ${formatBytes(maxBytes)} and the file is ${actual}. ` +
      'Split the file, or raise the import byte limit.',
    { limitBytes: maxBytes, ...(size === undefined ? {} : { sizeBytes: size }) },
  );
}

/** Bytes as a person reads them (binary units). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
