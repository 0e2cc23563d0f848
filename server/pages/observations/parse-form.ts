import type { z } from 'zod';
import { AppError, type FieldErrors } from '../../../core/errors.ts';
import { fieldErrors } from '../../../core/validation.ts';

/**
 * Parses a form's mapped input with its contract, reporting the form's own problems (numbers it could not read)
 * together with the contract's, so the person sees every message at once.
 */
export function parseForm<S extends z.ZodType>(schema: S, input: unknown, formErrors: FieldErrors, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success && Object.keys(formErrors).length === 0) return result.data;
  const fields = { ...(result.success ? {} : fieldErrors(result.error)), ...formErrors };
  const count = Object.keys(fields).length;
  throw new AppError('validation_failed', `${what} has ${count} problem${count === 1 ? '' : 's'}: see the messages beside the fields.`, { fields });
}

/** Whether an error is about the person's input (shown on the form again) rather than access or a fault (rethrown). */
export function isInputProblem(err: unknown): err is AppError {
  return err instanceof AppError && !['internal', 'unauthenticated', 'session_expired', 'forbidden', 'not_found', 'csrf_failed'].includes(err.id);
}
