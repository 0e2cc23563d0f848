import type { ServerResponse } from 'node:http';
import { AppError, type ErrorId } from '../../core/errors.ts';
import { errorStatus } from '../http/error-status.ts';
import { errorBody } from '../http/middleware/errors.ts';

/**
 * Answers the caller with the site's JSON error shape (`{error: {id, message, details}}`), which the OpenAI and
 * Anthropic SDKs both surface as the error's message. Used only when nothing from the upstream was sent yet.
 */
export function sendProxyError(res: ServerResponse, id: ErrorId, message: string): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(errorBody(new AppError(id, message)));
  res.writeHead(errorStatus[id], { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
