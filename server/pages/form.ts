import type { Response } from 'express';
import { AppError } from '../../core/errors.ts';
import { errorStatus } from '../http/error-status.ts';

/**
 * Renders a form page again after a failed submission: the person's input comes back as `values`, each field's
 * problem as `errors`, the overall message as `formError`, with the status the API would have answered.
 * Anything that is not an AppError is rethrown for the error handler.
 */
export function rerenderForm(res: Response, view: string, err: unknown, data: Record<string, unknown>): void {
  if (!(err instanceof AppError) || err.id === 'internal' || err.id === 'unauthenticated' || err.id === 'forbidden' || err.id === 'not_found') throw err;
  const fields = (err.details?.fields ?? {}) as Record<string, string>;
  res.status(errorStatus[err.id]).render(view, { ...data, errors: fields, formError: err.message, csrfToken: res.locals.csrfToken });
}

/** Sets a one-line message shown on the next page (kept in a short-lived cookie). */
export function flash(res: Response, message: string): void {
  res.cookie('mng_flash', message, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 60_000 });
}
