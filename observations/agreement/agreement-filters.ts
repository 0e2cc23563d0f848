import { z } from 'zod';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A query value that may be repeated (`coders=a&coders=b`) or comma-separated (`coders=a,b`), as a list. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => {
    if (value === undefined || value === null || value === '') return undefined;
    const raw = Array.isArray(value) ? value : [value];
    const items = raw.flatMap((v) => (typeof v === 'string' ? v.split(',') : [v])).map((v) => (typeof v === 'string' ? v.trim() : v));
    const kept = items.filter((v) => v !== '');
    return kept.length ? kept : undefined;
  }, z.array(item).max(200, 'At most 200 values.').optional());

const day = (label: string) =>
  z.preprocess(
    (v) => (v === '' || v === undefined || v === null ? undefined : v),
    z
      .string()
      .regex(DAY, `${label} must be a date written YYYY-MM-DD.`)
      .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), `${label} is not a real date.`)
      .optional(),
  );

/**
 * What an agreement report covers: one ethogram version (required: codes mean what that version defines), and
 * optionally only some human coders (by user id), some behaviours (by code), observations observed within a date
 * range (UTC days, both ends included) and observations carrying any of some tags.
 */
export const agreementFiltersSchema = z
  .object({
    version: z.string({ error: 'Choose an ethogram version.' }).trim().uuid('The version must be the id of an ethogram version.'),
    coders: list(z.string().uuid('Each coder must be a user id.')),
    behaviours: list(z.string().max(32, 'A behaviour code has at most 32 characters.').transform((s) => s.toUpperCase())),
    tags: list(z.string().max(64, 'A tag has at most 64 characters.').transform((s) => s.toLowerCase())),
    from: day('The start date'),
    to: day('The end date'),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { path: ['to'], message: 'The end date is before the start date.' });

export type AgreementFilters = z.infer<typeof agreementFiltersSchema>;
