import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../../core/errors.ts';
import type { AppDeps } from '../../app-deps.ts';
import { errorStatus } from '../error-status.ts';

/** Converts anything thrown into an AppError: body-parser failures get precise ids, the rest is `internal`. */
export function toAppError(err: unknown, req: Request): AppError {
  if (err instanceof AppError) {
    if (err.id === 'unauthenticated' && req.auth?.sessionExpired) {
      return new AppError('session_expired', 'Your session has expired. Sign in again.');
    }
    return err;
  }
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (e?.type === 'entity.too.large') {
    return new AppError('payload_too_large', `The request body is larger than the limit of ${formatBytes(e.limit ?? 0)}. Split it or shorten the transcript.`);
  }
  if (e?.type === 'entity.parse.failed') {
    return new AppError('malformed_json', `The request body is not valid JSON: ${e.message ?? 'parse error'}.`);
  }
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new AppError('unsupported_media_type', 'The request body must be UTF-8.');
  }
  if (e?.status && e.status >= 400 && e.status < 500) {
    return new AppError('validation_failed', 'The request could not be read.');
  }
  return new AppError('internal', 'Something went wrong on our side. Nothing was saved; try again.');
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.round(n / 1024)} KB`;
}

export const isApiRequest = (req: Request) => req.path.startsWith('/api/');

/** The JSON error body every API error uses. */
export function errorBody(err: AppError) {
  return { error: { id: err.id, message: err.message, details: err.details ?? {} } };
}

/** Last middleware: JSON errors for the API, an error page for everything else; stack traces only in the log. */
export function errorHandler(deps: AppDeps) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const appErr = toAppError(err, req);
    if (appErr.id === 'internal') deps.logger.error('unhandled error', { path: req.path, error: (err as Error)?.stack ?? String(err) });
    const status = errorStatus[appErr.id];
    if (res.headersSent) return;
    if (isApiRequest(req) || !req.accepts('html')) {
      res.status(status).json(errorBody(appErr));
      return;
    }
    if (appErr.id === 'unauthenticated' || appErr.id === 'session_expired') {
      if (req.method === 'GET') {
        res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}${appErr.id === 'session_expired' ? '&expired=1' : ''}`);
        return;
      }
    }
    res.status(status).render('pages/error', { title: titleFor(status), status, error: appErr });
  };
}

function titleFor(status: number): string {
  return ({ 400: 'Bad request', 401: 'Sign in needed', 403: 'Not allowed', 404: 'Not found', 409: 'Conflict', 413: 'Too large', 422: 'Check your input' } as Record<number, string>)[status] ?? 'Error';
}
