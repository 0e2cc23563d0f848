import type { z } from 'zod';
import { AppError, type FieldErrors } from './errors.ts';

/** Turns zod issues into per-field messages keyed by dotted path ("transcript.messages.2.role"). */
export function fieldErrors(error: z.ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join('.') || '_';
    if (!(key in fields)) fields[key] = issue.message;
  }
  return fields;
}

/** Parses input with a schema or throws a validation_failed AppError listing each field's problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what = 'The request'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = fieldErrors(result.error);
  const list = Object.entries(fields)
    .slice(0, 5)
    .map(([k, v]) => (k === '_' ? v : `${k}: ${v}`))
    .join('; ');
  throw new AppError('validation_failed', `${what} is not valid: ${list}`, { fields });
}
