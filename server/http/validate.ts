import { z } from 'zod';
import { notFound } from '../../core/errors.ts';

const uuid = z.string().uuid();

/** Parses a route parameter as a UUID; a malformed id names nothing, so it is "not found", like an unknown one. */
export function parseId(value: unknown, what: string): string {
  const r = uuid.safeParse(value);
  if (!r.success) throw notFound(what);
  return r.data;
}

export { parseOrThrow } from '../../core/validation.ts';
