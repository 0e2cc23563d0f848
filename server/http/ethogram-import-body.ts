import type { Request } from 'express';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { ethogramSlugSchema } from '../../ethograms/ethogram.input.ts';
import { looksLikeBorisProject, parseBorisFile } from '../../ethograms/boris/read-boris-file.ts';
import { parseOrThrow } from './validate.ts';

/** Query of `POST /api/v1/ethograms/import` beyond publish/newVersion: the format (detected when absent) and a slug for BORIS. */
export const ethogramImportFormatQuery = z.object({
  format: z.enum(['json', 'boris'], { error: 'format must be "json" (a menagerie.ethogram/v1 document) or "boris" (a BORIS project, .boris or .boris.gz)' }).optional(),
  slug: ethogramSlugSchema.optional(),
});

/** `?format=` of `GET /api/v1/ethograms/:slug/versions/:number/export`: the interchange document (default) or a BORIS project. */
export const exportFormatQuery = z.object({
  format: z.enum(['json', 'boris'], { error: 'format must be "json" (menagerie.ethogram/v1) or "boris" (a BORIS project)' }).default('json'),
});

/** Reads a body no site-wide parser took (gzip, octet-stream), refusing past `limit` bytes. */
async function rawBody(req: Request, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AppError('payload_too_large', `The file is larger than the ${limit}-byte limit for ethogram imports.`, { limitBytes: limit });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The import's body and its format: JSON bodies arrive parsed (a BORIS project is told from a Menagerie
 * document by its keys, unless `format` says); a gzipped or binary body is read here and must be BORIS.
 */
export async function readEthogramImportBody(req: Request, limit: number): Promise<{ format: 'json' | 'boris'; body: unknown; slug?: string | undefined }> {
  const query = parseOrThrow(ethogramImportFormatQuery, { format: req.query.format, slug: req.query.slug }, 'The import options');
  // Express 5 leaves `req.body` undefined when no site-wide parser took the body: then its bytes are still unread.
  const parsedAlready = req.body !== undefined && !Buffer.isBuffer(req.body);
  const body = parsedAlready ? req.body : parseBorisFile(await rawBody(req, limit));
  const format = query.format ?? (looksLikeBorisProject(body) ? 'boris' : 'json');
  return { format, body, slug: query.slug };
}
