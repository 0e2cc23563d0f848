import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../../../core/errors.ts';

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Reads JSON request bodies: `req.body` is the parsed value and `req.rawBody` the text as sent (an observation
 * keeps it as its raw payload). The body is decoded to text once and that text is both kept and parsed;
 * express.json decoded it a second time for its own parse, which cost ingestion about 20 KB of garbage and
 * the CPU of a decode per request. Like express.json: the limit (413), Content-Encoding gzip, deflate and br,
 * an empty body as `{}`, a leading BOM ignored, and only an object or array at the top (400).
 */
export function jsonBody(limit: number | string): RequestHandler[] {
  return [express.raw({ type: JSON_TYPES, limit }), parseJsonBody];
}

function parseJsonBody(req: Request, _res: Response, next: NextFunction): void {
  if (!Buffer.isBuffer(req.body)) return next();
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    req.body = undefined;
    return next(new AppError('unsupported_media_type', `The request body must be UTF-8 (it was declared as ${charset}).`));
  }
  let text = req.body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  req.body = undefined;
  if (text.length === 0) {
    req.body = {};
    return next();
  }
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') {
    return next(new AppError('malformed_json', 'The request body is not valid JSON: it must be an object or an array (it starts with ' + (first === undefined ? 'only whitespace' : JSON.stringify(first)) + ').'));
  }
  try {
    req.body = JSON.parse(text);
  } catch (err) {
    return next(new AppError('malformed_json', `The request body is not valid JSON: ${(err as Error).message}.`));
  }
  req.rawBody = text;
  next();
}
