import { gunzipSync } from 'node:zlib';
import { AppError } from '../../core/errors.ts';

const GZIP_MAGIC = [0x1f, 0x8b];
/** A gzipped project inflates to far more than it weighs; this bounds what one upload may become. */
const MAX_INFLATED_BYTES = 50 * 1024 * 1024;

/** Whether the bytes are gzip (a `.boris.gz`), by their magic number rather than the file's name. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * The JSON of a BORIS project file, plain (`.boris`) or gzipped (`.boris.gz`, as BORIS writes when asked to
 * compress): refused with a message a person can act on when it is neither.
 */
export function parseBorisFile(bytes: Uint8Array): unknown {
  let text: string;
  if (isGzip(bytes)) {
    try {
      text = gunzipSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES }).toString('utf8');
    } catch (err) {
      throw new AppError('validation_failed', `The .boris.gz file could not be decompressed (${(err as Error).message}). Upload the project as BORIS saved it.`, {
        fields: { file: 'Not a readable gzip file.' },
      });
    }
  } else {
    text = Buffer.from(bytes).toString('utf8');
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new AppError('validation_failed', `The file is not a BORIS project: it is not JSON (${(err as Error).message}).`, {
      fields: { file: 'Choose the .boris or .boris.gz file BORIS saved.' },
    });
  }
}

/** Whether parsed JSON looks like a BORIS project rather than a Menagerie document (used to detect the format). */
export function looksLikeBorisProject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return 'behaviors_conf' in record || 'project_format_version' in record;
}
