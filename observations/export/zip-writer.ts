import { createReadStream, createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { constants, crc32, createDeflateRaw, deflateRaw } from 'node:zlib';

/** Where the archive's bytes go: resolves when the destination can take more (backpressure). */
export type ByteSink = (chunk: Buffer) => Promise<void>;

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const DEFLATE = 8;
/** Bit 3: sizes and CRC follow the data (streamed entries); bit 11: names are UTF-8. */
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
/**
 * zlib's output buffer: each threadpool job deflates until it fills this, so about four times as much input goes
 * per round trip to the main thread (64 KB made about 23,000 round trips for a 1.4 GB JSONL).
 */
const DEFLATE_CHUNK = 256 * 1024;

/** Input bytes per deflate segment of a streamed entry (see addStream). */
const SEGMENT = 1024 * 1024;
/** Segments deflating at once: about one batch of the export, on the threadpool's four threads. */
const SEGMENTS_IN_FLIGHT = 4;
/** An empty final block with fixed Huffman codes (BFINAL 1, BTYPE 01, end of block): closes a segmented stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** One segment of a streamed entry: raw deflate ended by a sync flush (byte-aligned, not final), on the threadpool. */
function deflateSegment(input: Buffer, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(input, { level, chunkSize: DEFLATE_CHUNK, finishFlush: constants.Z_SYNC_FLUSH }, (error, out) => (error ? reject(error) : resolve(out)));
  });
}

/** What an entry's source yields: bytes, text (written as UTF-8), or a batch's buffers in order. */
export type Piece = Buffer | string | readonly Buffer[];

function* pieceChunks(piece: Piece): Iterable<Buffer> {
  if (typeof piece === 'string') {
    if (piece.length > 0) yield Buffer.from(piece, 'utf8');
  } else if (Buffer.isBuffer(piece)) {
    if (piece.length > 0) yield piece;
  } else {
    for (const chunk of piece) if (chunk.length > 0) yield chunk;
  }
}

/**
 * Resolves when a stream that refused a write can take more; rejects when it is destroyed first (an export that
 * stopped), so no writer waits forever on a stream nobody drains.
 */
function drained(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.reject(new Error('The stream was closed.'));
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('The stream was closed.'));
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}

interface CentralEntry {
  name: Buffer;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
}

/** A compressed entry prepared apart (e.g. spooled to a file while another entry streamed). */
export interface PrecompressedEntry {
  crc: number;
  size: number;
  compressedSize: number;
  /** The raw deflate bytes. */
  chunks: AsyncIterable<Buffer>;
}

export interface ZipWriterOptions {
  /** The entries' modification time (default: now). */
  date?: Date;
  /** zlib level (default 6). */
  level?: number;
  /**
   * Sizes and offsets at or above this go to ZIP64 fields (default 2^32 - 1, the format's limit). Tests lower it
   * to check the ZIP64 records without writing 4 GiB.
   */
  zip64Threshold?: number;
}

/**
 * A streaming ZIP writer: entries are deflated as their bytes arrive and written straight to the sink, so memory
 * holds a chunk, not an entry. Streamed entries carry their CRC-32 and sizes in a data descriptor after the data
 * (general-purpose flag bit 3); the central directory at the end repeats them. Sizes or offsets past 4 GiB, or
 * more than 65,535 entries, are written as ZIP64 (extra field 0x0001, ZIP64 end record and locator); a streamed
 * entry over 4 GiB gets a ZIP64 (8-byte) data descriptor.
 */
export class ZipWriter {
  private readonly sink: ByteSink;
  private offset = 0;
  private readonly entries: CentralEntry[] = [];
  private readonly dosTime: number;
  private readonly dosDate: number;
  private readonly level: number;
  private readonly zip64Threshold: number;

  constructor(
    sink: ByteSink,
    options: ZipWriterOptions = {},
  ) {
    this.sink = sink;
    const date = options.date ?? new Date();
    this.dosTime = (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2);
    this.dosDate = ((Math.max(1980, date.getUTCFullYear()) - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate();
    this.level = options.level ?? 6;
    this.zip64Threshold = options.zip64Threshold ?? MAX32;
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.offset;
  }

  private async write(chunk: Buffer): Promise<void> {
    this.offset += chunk.length;
    await this.sink(chunk);
  }

  private localHeader(name: Buffer, flags: number, crc: number, compressedSize: number, size: number): Buffer {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(LOCAL_HEADER, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(flags, 6);
    h.writeUInt16LE(DEFLATE, 8);
    h.writeUInt16LE(this.dosTime, 10);
    h.writeUInt16LE(this.dosDate, 12);
    h.writeUInt32LE(crc >>> 0, 14);
    h.writeUInt32LE(Math.min(compressedSize, MAX32), 18);
    h.writeUInt32LE(Math.min(size, MAX32), 22);
    h.writeUInt16LE(name.length, 26);
    h.writeUInt16LE(0, 28);
    return Buffer.concat([h, name]);
  }

  /**
   * Adds an entry whose bytes come from `source`, deflated on the way; resolves once its last byte is written.
   *
   * The bytes are deflated in segments of about 1 MB, several at once on the libuv threadpool (pigz's way): each
   * segment is a raw deflate stream ended by a sync flush (byte-aligned, not final), so the segments laid end to
   * end, closed by an empty final block, are one valid deflate stream. One zlib stream deflated a 1.4 GB JSONL on
   * one thread, the slowest step of the export on two cores; segments spread it over both while the source
   * makes the next piece. A segment starts without the previous one's 32 KB window: the archive is about 0.2% larger.
   */
  async addStream(fileName: string, source: AsyncIterable<Piece>): Promise<void> {
    const name = Buffer.from(fileName, 'utf8');
    const offset = this.offset;
    const flags = FLAG_DESCRIPTOR | FLAG_UTF8;
    await this.write(this.localHeader(name, flags, 0, 0, 0));
    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    const inFlight: Promise<Buffer>[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const submit = () => {
      if (pendingBytes === 0) return;
      const segment = deflateSegment(pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes), this.level);
      segment.catch(() => {}); // awaited in order below; after a failure the rest are dropped
      inFlight.push(segment);
      pending = [];
      pendingBytes = 0;
    };
    const writeOldest = async () => {
      const out = await inFlight.shift()!;
      compressedSize += out.length;
      await this.write(out);
    };
    for await (const piece of source) {
      for (const chunk of pieceChunks(piece)) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= SEGMENT) submit();
      }
      // Write out what is deflated, keeping SEGMENTS_IN_FLIGHT deflating while the source makes the next piece.
      while (inFlight.length > SEGMENTS_IN_FLIGHT) await writeOldest();
    }
    submit();
    while (inFlight.length > 0) await writeOldest();
    compressedSize += FINAL_BLOCK.length;
    await this.write(FINAL_BLOCK);
    const zip64 = size > MAX32 || compressedSize > MAX32;
    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(compressedSize), 8);
      descriptor.writeBigUInt64LE(BigInt(size), 16);
    } else {
      descriptor.writeUInt32LE(compressedSize, 8);
      descriptor.writeUInt32LE(size, 12);
    }
    await this.write(descriptor);
    this.entries.push({ name, flags, crc, compressedSize, size, offset });
  }

  /** Adds a small entry held in memory (a README, an ethogram document). */
  async addBuffer(fileName: string, data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await this.addStream(fileName, (async function* () {
      yield bytes;
    })());
  }

  /** Adds an entry already deflated elsewhere, its CRC and sizes known: they go in the local header. */
  async addPrecompressed(fileName: string, entry: PrecompressedEntry): Promise<void> {
    const name = Buffer.from(fileName, 'utf8');
    const offset = this.offset;
    await this.write(this.localHeader(name, FLAG_UTF8, entry.crc, entry.compressedSize, entry.size));
    for await (const chunk of entry.chunks) await this.write(chunk);
    this.entries.push({ name, flags: FLAG_UTF8, crc: entry.crc, compressedSize: entry.compressedSize, size: entry.size, offset });
  }

  /** Writes the central directory and the end records. No entry may be added after. */
  async finish(): Promise<void> {
    const limit = this.zip64Threshold;
    const start = this.offset;
    for (const e of this.entries) {
      const big = [e.size >= limit, e.compressedSize >= limit, e.offset >= limit];
      const extraValues = [e.size, e.compressedSize, e.offset].filter((_, i) => big[i]);
      const extra = Buffer.alloc(extraValues.length ? 4 + 8 * extraValues.length : 0);
      if (extraValues.length) {
        extra.writeUInt16LE(0x0001, 0);
        extra.writeUInt16LE(8 * extraValues.length, 2);
        extraValues.forEach((v, i) => extra.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
      }
      const h = Buffer.alloc(46);
      h.writeUInt32LE(CENTRAL_HEADER, 0);
      h.writeUInt16LE((3 << 8) | 45, 4); // made by: Unix, spec 4.5
      h.writeUInt16LE(extraValues.length ? 45 : 20, 6);
      h.writeUInt16LE(e.flags, 8);
      h.writeUInt16LE(DEFLATE, 10);
      h.writeUInt16LE(this.dosTime, 12);
      h.writeUInt16LE(this.dosDate, 14);
      h.writeUInt32LE(e.crc >>> 0, 16);
      h.writeUInt32LE(big[1] ? MAX32 : e.compressedSize, 20);
      h.writeUInt32LE(big[0] ? MAX32 : e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt16LE(extra.length, 30);
      h.writeUInt16LE(0, 32); // comment
      h.writeUInt16LE(0, 34); // disk
      h.writeUInt16LE(0, 36); // internal attributes
      h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file, rw-r--r--
      h.writeUInt32LE(big[2] ? MAX32 : e.offset, 42);
      await this.write(Buffer.concat([h, e.name, extra]));
    }
    const size = this.offset - start;
    const count = this.entries.length;
    const zip64 = count >= MAX16 || size >= limit || start >= limit;
    if (zip64) {
      const end64 = this.offset;
      const record = Buffer.alloc(56);
      record.writeUInt32LE(ZIP64_END, 0);
      record.writeBigUInt64LE(44n, 4);
      record.writeUInt16LE((3 << 8) | 45, 12);
      record.writeUInt16LE(45, 14);
      record.writeUInt32LE(0, 16);
      record.writeUInt32LE(0, 20);
      record.writeBigUInt64LE(BigInt(count), 24);
      record.writeBigUInt64LE(BigInt(count), 32);
      record.writeBigUInt64LE(BigInt(size), 40);
      record.writeBigUInt64LE(BigInt(start), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(ZIP64_LOCATOR, 0);
      locator.writeUInt32LE(0, 4);
      locator.writeBigUInt64LE(BigInt(end64), 8);
      locator.writeUInt32LE(1, 16);
      await this.write(Buffer.concat([record, locator]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL, 0);
    end.writeUInt16LE(0, 4);
    end.writeUInt16LE(0, 6);
    end.writeUInt16LE(zip64 ? MAX16 : count, 8);
    end.writeUInt16LE(zip64 ? MAX16 : count, 10);
    end.writeUInt32LE(zip64 ? MAX32 : size, 12);
    end.writeUInt32LE(zip64 ? MAX32 : start, 16);
    end.writeUInt16LE(0, 20);
    await this.write(end);
  }
}

/**
 * A deflated entry built on the side while another entry streams (a ZIP's entries cannot interleave): bytes are
 * deflated into a temporary file as they come, with their CRC-32 and size, then copied into the archive.
 */
export class DeflateSpool {
  readonly path: string;
  private crc = 0;
  private size = 0;
  private readonly deflate;
  private readonly closed: Promise<void>;
  private compressedSize = 0;

  constructor(
    path: string,
    level = 6,
  ) {
    this.path = path;
    this.deflate = createDeflateRaw({ level, chunkSize: DEFLATE_CHUNK });
    this.deflate.on('error', () => {}); // surfaced through `closed`
    const file = createWriteStream(path);
    this.deflate.on('data', (chunk: Buffer) => {
      this.compressedSize += chunk.length;
    });
    this.deflate.pipe(file);
    this.closed = new Promise<void>((resolve, reject) => {
      file.once('finish', () => resolve());
      file.once('error', reject);
      this.deflate.once('error', reject);
    });
    this.closed.catch(() => {});
  }

  /**
   * Queues a piece (a buffer, a string or a batch's buffers) and returns once the piece before it is deflated:
   * the caller makes the next piece while this one is deflated on the threadpool.
   */
  async write(piece: Piece): Promise<void> {
    if (this.deflate.writableNeedDrain) await drained(this.deflate);
    for (const chunk of pieceChunks(piece)) {
      this.crc = crc32(chunk, this.crc);
      this.size += chunk.length;
      this.deflate.write(chunk);
    }
  }

  /** Finishes the deflate stream and the file; the entry then reads it back. */
  async finish(): Promise<PrecompressedEntry> {
    this.deflate.end();
    await this.closed;
    return { crc: this.crc, size: this.size, compressedSize: this.compressedSize, chunks: createReadStream(this.path, { highWaterMark: 256 * 1024 }) };
  }

  /** Stops (an aborted export); the caller removes the file. */
  destroy(): void {
    this.deflate.destroy();
  }
}
