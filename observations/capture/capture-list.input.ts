import * as z from 'zod';
import { visibilities } from '../observation.schema.ts';
import { captureOutcomes, captureSources } from './capture.schema.ts';

/** Query-string text: trimmed, and an empty value means "no filter". */
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters.`)
    .refine((s) => !s.includes('\u0000'), 'Remove the NUL character.')
    .optional()
    .transform((v) => v || undefined);

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** A local date-time without a zone (what `<input type="datetime-local">` sends): read as UTC. */
const LOCAL_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/**
 * A time-range bound: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` (UTC) or a full ISO timestamp. A date-only `to` covers
 * that whole day, so `from=2026-01-02&to=2026-01-02` is the whole of 2 January (UTC).
 */
const timeBound = (name: string, endOfDay: boolean) =>
  z
    .string()
    .trim()
    .max(40)
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const text = DATE_ONLY.test(v) ? `${v}T00:00:00Z` : LOCAL_DATETIME.test(v) ? `${v}Z` : v;
      const date = new Date(text);
      if (Number.isNaN(date.getTime())) {
        ctx.addIssue({ code: 'custom', message: `Use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC) for "${name}".` });
        return z.NEVER;
      }
      return endOfDay && DATE_ONLY.test(v) ? new Date(date.getTime() + 86_400_000) : date;
    });

const flagValue = z
  .union([z.boolean(), z.string().trim().toLowerCase()])
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '' || v === false || v === 'false' || v === '0' || v === 'off') return undefined;
    if (v === true || v === 'true' || v === '1' || v === 'on') return true;
    ctx.addIssue({ code: 'custom', message: 'Use flagged=true to list flagged captures only.' });
    return z.NEVER;
  });

/**
 * Filters of the field log (`GET /api/v1/captures` and the `/captures` page), as query-string values. `to` is
 * exclusive (a date-only `to` includes that day). `cursor` continues a listing from the `nextCursor` it returned.
 */
export const captureListFiltersSchema = z
  .object({
    q: optionalText(500).describe('Full-text search over the transcript (or request) and the flag, PostgreSQL websearch syntax'),
    model: optionalText(200).describe('Exact model name'),
    upstream: optionalText(200).describe('Exact upstream name'),
    source: z.enum(captureSources).or(z.literal('')).optional().transform((v) => v || undefined).describe('proxy or sdk'),
    outcome: z.enum(captureOutcomes).or(z.literal('')).optional().transform((v) => v || undefined).describe('complete, partial or error'),
    flagged: flagValue.describe('true: only captures flagged for review'),
    from: timeBound('from', false).describe('Started at or after (YYYY-MM-DD or ISO timestamp; UTC)'),
    to: timeBound('to', true).describe('Started before (a date-only value includes that day)'),
    cursor: optionalText(200).describe('The nextCursor of the previous page'),
    limit: z.coerce.number().int().min(1).max(200).default(50).describe('Captures per page (1-200, default 50)'),
  })
  .strip();
export type CaptureListFilters = z.infer<typeof captureListFiltersSchema>;

/** What a person may change when promoting a capture; everything else comes from the capture. */
export const promoteCaptureSchema = z
  .object({
    title: optionalText(200).describe('Default: the flag, else the first user message'),
    surprise: optionalText(10_000).describe('What was surprising. Default: the flag; required when the capture has none'),
    visibility: z.enum(visibilities).or(z.literal('')).optional().transform((v) => v || undefined).describe('Default: members'),
  })
  .strict();
export type PromoteCaptureInput = z.infer<typeof promoteCaptureSchema>;
