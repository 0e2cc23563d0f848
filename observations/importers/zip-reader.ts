import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import yauzl from 'yauzl';
import { AppError } from '../../core/errors.ts';

const inflateRawAsync = promisify(inflateRaw);

/** ZIP compression methods: stored, deflate, and Zstandard (method 93, written by newer Inspect versions). */
const STORED = 0;
const DEFLATE = 8;
const ZSTANDARD = 93;

/** One file inside a ZIP archive. */
export interface ZipEntry {
  name: string;
  uncompressedSize: number;
  /** The entry's bytes, decompressed (stored, deflate, or Zstandard with one or several frames). */
  read(): Promise<Buffer>;
}

/** An open ZIP archive; `close()` releases the file. */
export interface ZipArchive {
  entries: ZipEntry[];
  close(): void;
}

/**
 * Open a ZIP archive from a file (random access: the archive is never loaded whole) or from a buffer.
 * A file that is not a readable ZIP (corrupt, truncated, not a ZIP at all) gives a `validation_failed` AppError
 * naming the file and the reason.
 */
export async function openZip(source: { path: string } | { buffer: Buffer }, fileName: string): Promise<ZipArchive> {
  const options = { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true };
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
      const done = (error: Error | null, opened?: yauzl.ZipFile) => (error || !opened ? reject(error ?? new Error('no archive')) : resolve(opened));
      if ('path' in source) yauzl.open(source.path, options, done);
      else yauzl.fromBuffer(source.buffer, options, done);
    });
  } catch (error) {
    throw corrupt(fileName, error);
  }
  let raw: yauzl.Entry[];
  try {
    raw = await listEntries(zip);
  } catch (error) {
    zip.close();
    throw corrupt(fileName, error);
  }
  const entries = raw.map((entry) => ({
    name: entry.fileName,
    uncompressedSize: entry.uncompressedSize,
    read: () => readEntry(zip, entry, fileName),
  }));
  return { entries, close: () => zip.close() };
}

function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', reject);
    zip.readEntry();
  });
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, fileName: string): Promise<Buffer> {
  let compressed: Buffer;
  try {
    compressed = await new Promise<Buffer>((resolve, reject) => {
      zip.openReadStream(entry, { decodeFileData: false }, (error, stream) => {
        if (error || !stream) return reject(error ?? new Error('no stream'));
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => resolve(Buffer.concat(chunks)));
        stream.on('error', reject);
      });
    });
  } catch (error) {
    throw corrupt(fileName, error, entry.fileName);
  }
  try {
    switch (entry.compressionMethod) {
      case STORED:
        return compressed;
      case DEFLATE:
        return await inflateRawAsync(compressed);
      case ZSTANDARD:
        return Buffer.from(zstdDecompress(compressed));
      default:
        throw new Error(`compression method ${entry.compressionMethod} is not supported (only stored, deflate and Zstandard are)`);
    }
  } catch (error) {
    throw corrupt(fileName, error, entry.fileName);
  }
}

function corrupt(fileName: string, error: unknown, entryName?: string): AppError {
  const reason = error instanceof Error ? error.message : String(error);
  const where = entryName ? ` (entry ${entryName})` : '';
  return new AppError('validation_failed', `${fileName} is not a readable ZIP archive${where}: ${reason}`);
}
