import { open, rm, type FileHandle } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import { formatBytes } from '../../observations/importers/read-source.ts';

/** The error for an upload over the limit: the same words whether the size was declared or found while reading. */
export function uploadTooLarge(maxBytes: number): AppError {
  return new AppError(
    'payload_too_large',
    `The file is too large to import: the limit is ${formatBytes(maxBytes)}. Split the file (ChatGPT and Claude.ai exports can be imported in parts), or ask the administrator to raise MENAGERIE_IMPORT_MAX_BYTES.`,
    { limitBytes: maxBytes },
  );
}

/** Writes bytes to a new file, refusing past `maxBytes`; on any failure the file is removed. */
class LimitedFile {
  private readonly filePath: string;
  private readonly maxBytes: number;
  private handle: FileHandle | undefined;
  bytes = 0;

  constructor(
    filePath: string,
    maxBytes: number,
  ) {
    this.filePath = filePath;
    this.maxBytes = maxBytes;
  }

  async write(chunk: Buffer): Promise<void> {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) throw uploadTooLarge(this.maxBytes);
    this.handle ??= await open(this.filePath, 'wx');
    if (chunk.length > 0) await this.handle.write(chunk);
  }

  async close(): Promise<void> {
    this.handle ??= await open(this.filePath, 'wx');
    await this.handle.close();
  }

  async discard(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    await rm(this.filePath, { force: true });
  }
}

/**
 * Streams a raw request body to `filePath`, never holding it whole; more than `maxBytes` is refused
 * (`payload_too_large`) and nothing is left on disk. Resolves with the number of bytes written.
 */
export async function receiveRawUpload(body: AsyncIterable<Buffer>, filePath: string, maxBytes: number): Promise<number> {
  const file = new LimitedFile(filePath, maxBytes);
  try {
    for await (const chunk of body) await file.write(chunk);
    await file.close();
    return file.bytes;
  } catch (error) {
    await file.discard();
    throw error;
  }
}

export interface MultipartUpload {
  /** The text fields, by name (the last value wins). */
  fields: Record<string, string>;
  /** The uploaded file, or undefined when none was chosen. */
  file: { fileName: string; bytes: number } | undefined;
}

export interface MultipartOptions {
  /** The name of the one file field; other file fields are refused. */
  fileField: string;
  filePath: string;
  maxFileBytes: number;
  /**
   * Awaited with the fields read so far before the file's first byte is written (forms put their fields before
   * the file): checks such as CSRF run before anything is stored. Throw to refuse.
   */
  beforeFile: (fields: Record<string, string>) => Promise<void> | void;
}

const MAX_FIELD_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_PARTS = 50;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Reads a `multipart/form-data` body as it streams in: small text fields are collected, the file field is written
 * to `filePath` (at most `maxFileBytes`; nothing is left on disk on failure), so a browser form without script can
 * upload a large file without it ever being held in memory. Only what a form sends is accepted.
 */
export async function receiveMultipart(body: AsyncIterable<Buffer>, contentType: string, options: MultipartOptions): Promise<MultipartUpload> {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary) throw new AppError('unsupported_media_type', 'Send the form as multipart/form-data with a boundary.');
  // The first delimiter has no line break before it: start the stream with one so every delimiter looks alike.
  const delimiter = Buffer.from(`\r\n--${boundary[1] ?? boundary[2]}`);
  const fields: Record<string, string> = {};
  let file: LimitedFile | undefined;
  let fileName: string | undefined;
  let parts = 0;
  let state: 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done' = 'preamble';
  let part: { name: string; fileName?: string; chunks: Buffer[]; size: number; isFile: boolean } | undefined;
  let pending: Buffer = CRLF;

  const malformed = () => new AppError('validation_failed', 'The upload form could not be read (malformed multipart body). Reload the page and try again.');

  const endPart = async () => {
    if (!part) return;
    if (part.isFile) {
      if (file) await file.close();
    } else {
      fields[part.name] = Buffer.concat(part.chunks).toString('utf8');
    }
    part = undefined;
  };

  const partData = async (data: Buffer) => {
    if (!part || data.length === 0) return;
    if (part.isFile) {
      await file!.write(data);
      return;
    }
    part.size += data.length;
    if (part.size > MAX_FIELD_BYTES) throw new AppError('payload_too_large', `The form field "${part.name}" is too long.`);
    part.chunks.push(data);
  };

  const startPart = async (headerText: string) => {
    if (++parts > MAX_PARTS) throw malformed();
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headerText)?.[1];
    if (disposition === undefined) throw malformed();
    const name = paramOf(disposition, 'name');
    if (name === undefined) throw malformed();
    const partFileName = paramOf(disposition, 'filename');
    if (partFileName === undefined) {
      part = { name, chunks: [], size: 0, isFile: false };
      return;
    }
    if (name !== options.fileField || file) throw new AppError('validation_failed', `Unexpected file field "${name}": send one file as "${options.fileField}".`);
    // A form sent without a chosen file still has the part, with an empty file name and no content.
    if (partFileName === '') {
      part = { name, chunks: [], size: 0, isFile: false };
      return;
    }
    await options.beforeFile({ ...fields });
    fileName = partFileName;
    file = new LimitedFile(options.filePath, options.maxFileBytes);
    part = { name, fileName: partFileName, chunks: [], size: 0, isFile: true };
  };

  try {
    for await (const chunk of body) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let progressed = true;
      while (progressed && state !== 'done') {
        progressed = false;
        if (state === 'preamble' || state === 'body') {
          const at = pending.indexOf(delimiter);
          if (at === -1) {
            // Keep a tail that could be the start of a delimiter split across chunks.
            const safe = pending.length - (delimiter.length - 1);
            if (safe > 0) {
              if (state === 'body') await partData(pending.subarray(0, safe));
              pending = pending.subarray(safe);
            }
            break;
          }
          if (state === 'body') {
            await partData(pending.subarray(0, at));
            await endPart();
          }
          pending = pending.subarray(at + delimiter.length);
          state = 'after-delimiter';
          progressed = true;
        } else if (state === 'after-delimiter') {
          if (pending.length < 2) break;
          if (pending[0] === 0x2d && pending[1] === 0x2d) {
            state = 'done';
            break;
          }
          const eol = pending.indexOf(CRLF);
          if (eol === -1) {
            if (pending.length > 64) throw malformed();
            break;
          }
          pending = pending.subarray(eol + 2);
          state = 'headers';
          progressed = true;
        } else if (state === 'headers') {
          const end = pending.indexOf(HEADER_END);
          const headerText = end === -1 ? undefined : pending.subarray(0, end).toString('utf8');
          if (headerText === undefined) {
            if (pending.length > MAX_HEADER_BYTES) throw malformed();
            break;
          }
          // Headers start right after the delimiter's line break; a part with no headers has an empty block.
          pending = pending.subarray(end + HEADER_END.length);
          await startPart(headerText);
          state = 'body';
          progressed = true;
        }
      }
    }
    if (state !== 'done') throw malformed();
    return { fields, file: file && fileName !== undefined ? { fileName, bytes: file.bytes } : undefined };
  } catch (error) {
    await file?.discard();
    throw error;
  }
}

/** A parameter of a Content-Disposition header (`name="file"`), unquoted; browsers escape `"` as `%22`. */
function paramOf(header: string, key: string): string | undefined {
  const match = new RegExp(`;\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(header);
  if (!match) return undefined;
  const value = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]!;
  return value.replace(/%22/g, '"');
}
