import { z } from 'zod';

/** Observations considered by default (the newest first), and at most: a page must answer in a second or two. */
export const DEFAULT_LIMIT = 2_000;
export const MAX_LIMIT = 10_000;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const blank = (v: unknown) => v === '' || v === undefined || v === null;
const optionalText = (max: number, label: string) =>
  z.preprocess((v) => (blank(v) ? undefined : v), z.string().trim().max(max, `${label} has at most ${max} characters.`).optional());
const day = (label: string) =>
  z.preprocess(
    (v) => (blank(v) ? undefined : v),
    z
      .string()
      .regex(DAY, `${label} must be a date written YYYY-MM-DD.`)
      .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), `${label} is not a real date.`)
      .optional(),
  );

/**
 * Which observations the suggestions are drawn from: the newest `limit` uncoded ones (see suggest.queries.ts),
 * optionally of one provider or model, observed within a date range (UTC days, both ends included), carrying a
 * tag. `unclear` lists the behaviour codes that count as "no real code yet"; left empty, every code or key with a
 * part "unclear" or "other" does (the starter ethogram has none, so then only uncoded observations qualify).
 */
export const suggestFiltersSchema = z
  .object({
    provider: optionalText(100, 'The provider'),
    model: optionalText(200, 'The model'),
    tag: z.preprocess((v) => (blank(v) ? undefined : v), z.string().trim().toLowerCase().max(64, 'A tag has at most 64 characters.').optional()),
    from: day('The start date'),
    to: day('The end date'),
    limit: z.preprocess(
      (v) => (blank(v) ? undefined : v),
      z.coerce
        .number({ error: 'The number of observations must be a whole number.' })
        .int('The number of observations must be a whole number.')
        .min(10, 'Consider at least 10 observations.')
        .max(MAX_LIMIT, `Consider at most ${MAX_LIMIT.toLocaleString('en')} observations.`)
        .default(DEFAULT_LIMIT),
    ),
    unclear: z.preprocess(
      (v) => {
        if (blank(v)) return undefined;
        const items = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((x) => x.trim().toUpperCase()).filter(Boolean);
        return items.length ? items : undefined;
      },
      z.array(z.string().regex(/^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$/, 'Each code must look like "UNCLEAR" or "OTHER-X".').max(32)).max(50, 'At most 50 codes.').optional(),
    ),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { path: ['to'], message: 'The end date is before the start date.' });

export type SuggestFilters = z.infer<typeof suggestFiltersSchema>;

/** The filters as a query string (for links back to the same suggestions). */
export function suggestQueryString(f: Partial<SuggestFilters>): string {
  const p = new URLSearchParams();
  for (const key of ['provider', 'model', 'tag', 'from', 'to'] as const) if (f[key]) p.set(key, f[key]!);
  if (f.limit !== undefined && f.limit !== DEFAULT_LIMIT) p.set('limit', String(f.limit));
  if (f.unclear?.length) p.set('unclear', f.unclear.join(','));
  return p.toString();
}
