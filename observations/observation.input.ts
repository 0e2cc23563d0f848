import * as z from 'zod';
import { transcriptFormats } from './transcript.schema.ts';
import { observationStatuses, visibilities } from './observation.schema.ts';

/**
 * What a contributor submits, through the API (JSON) or the web form (mapped to this shape by the page
 * controller). One schema for both paths, so both give the same messages.
 */
export const interfaces = ['api', 'chat-app', 'agent-harness', 'local-runtime', 'other'] as const;

/**
 * Strings PostgreSQL can store: text and jsonb columns refuse the NUL character, so it is a 422 on the field
 * rather than a failed INSERT.
 */
const text = () => z.string().refine((s) => !s.includes('\u0000'), 'Remove the NUL character (\\u0000): it cannot be stored.');

const shortText = (what: string, max: number) =>
  text().trim().min(1, `Enter ${what}.`).max(max, `${capitalise(what)} must be at most ${max} characters.`);
const optionalText = (what: string, max: number) =>
  text().trim().max(max, `${capitalise(what)} must be at most ${max} characters.`).optional().transform((v) => (v ? v : undefined));
function capitalise(s: string) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, 'Tags cannot be empty.')
  .max(50, 'Tags are limited to 50 characters.')
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} _.:+#-]*$/u, 'Tags use letters, digits, spaces and - _ . : + #, starting with a letter or digit.');

export const samplingSchema = z
  .record(
    text().max(50),
    z.union([z.number().finite(), text().max(200), z.boolean(), z.null()]),
  )
  .refine((r) => Object.keys(r).length <= 30, 'At most 30 sampling parameters.');

export const observationInputSchema = z
  .object({
    title: shortText('a title', 200),
    surprise: shortText('what was surprising', 10_000),
    provider: shortText('the provider (e.g. openai, anthropic, local)', 100),
    model: shortText('the model', 200),
    modelVersion: optionalText('the model version', 200),
    interface: z.enum(interfaces, { message: `Interface must be one of ${interfaces.join(', ')}.` }).optional(),
    runtime: optionalText('the local runtime', 200),
    quantization: optionalText('the quantization', 100),
    harness: optionalText('the harness', 200),
    endpoint: optionalText('the endpoint', 500),
    sampling: samplingSchema.optional(),
    /** Pasted text, or JSON (as a string or already parsed) in a supported format. */
    transcript: z.union([
      text().min(1, 'Paste the transcript.').max(2_000_000, 'The transcript is too long.'),
      z.record(text(), z.unknown()),
      z.array(z.unknown()),
    ]),
    transcriptFormat: z.enum(['auto', ...transcriptFormats]).default('auto'),
    observedAt: z.coerce.date({ message: 'Enter the date observed as YYYY-MM-DD.' }),
    evidenceLinks: z
      .array(text().trim().max(2000).url('Evidence links must be full URLs (https://...).').refine((u) => /^https?:\/\//i.test(u), 'Evidence links must start with http:// or https://.'))
      .max(20, 'At most 20 evidence links.')
      .default([]),
    tags: z.array(tagSchema).max(30, 'At most 30 tags.').default([]),
    visibility: z.enum(visibilities).default('members'),
    /** Behaviour codes from the current published ethogram, applied to the whole observation. */
    codes: z.array(text().trim().max(32)).max(20, 'At most 20 codes.').default([]),
  })
  .strict();
export type ObservationInput = z.infer<typeof observationInputSchema>;

/** An edit: any subset of the submitted fields, plus the revision the editor saw (to refuse lost updates). */
export const observationPatchSchema = z
  .object({
    // Defaults belong to submissions only: an absent field in an edit means "unchanged", never "reset".
    ...Object.fromEntries(
      Object.entries(observationInputSchema.omit({ codes: true }).shape).map(([key, field]) => [
        key,
        (field instanceof z.ZodDefault ? field.unwrap() : field).optional(),
      ]),
    ) as { [K in Exclude<keyof ObservationShape, 'codes'>]: z.ZodOptional<Undefaulted<ObservationShape[K]>> },
    revision: z.number().int().positive('The revision is a positive whole number.').optional(),
  })
  .strict();
type ObservationShape = typeof observationInputSchema.shape;
type Undefaulted<T> = T extends z.ZodDefault<infer Inner> ? Inner : T;
export type ObservationPatch = z.infer<typeof observationPatchSchema>;

export const triageSchema = z
  .object({ status: z.enum(observationStatuses), duplicateOf: text().uuid().optional() })
  .strict()
  .refine((t) => t.status !== 'duplicate' || !!t.duplicateOf, { message: 'Name the observation this duplicates.', path: ['duplicateOf'] });

export const spanSchema = z
  .object({
    messageId: text().min(1).max(100),
    partIndex: z.number().int().min(0),
    start: z.number().int().min(0),
    end: z.number().int().min(1),
  })
  .strict()
  .refine((s) => s.end > s.start, { message: 'A span must end after it starts.', path: ['end'] });

export const codingInputSchema = z
  .object({
    /** The behaviour's code in the ethogram version (default: the current published version of the default ethogram). */
    code: text().trim().min(1, 'Choose a behaviour code.').max(32),
    ethogramVersionId: text().uuid().optional(),
    span: spanSchema.optional(),
    modifiers: z.record(text().max(50), z.union([text().max(500), z.number(), z.array(text().max(100)).max(20)])).default({}),
    rationale: text().trim().max(5000, 'The rationale is limited to 5000 characters.').default(''),
    confidence: z.number().min(0).max(1).optional(),
  })
  .strict();
export type CodingInput = z.infer<typeof codingInputSchema>;

const optionalDate = (name: string) =>
  z.preprocess((v) => (v === '' ? undefined : v), z.coerce.date({ message: `Use YYYY-MM-DD for "${name}".` }).optional());

export const sorts = ['observed_desc', 'observed_asc', 'created_desc', 'relevance'] as const;

/** Filters for the list page and `GET /api/v1/observations` (query-string values, coerced). */
export const listFiltersSchema = z
  .object({
    q: text().trim().max(500).optional().transform((v) => v || undefined),
    provider: text().trim().max(100).optional().transform((v) => v || undefined),
    model: text().trim().max(200).optional().transform((v) => v || undefined),
    behaviour: text().trim().max(32).optional().transform((v) => v || undefined),
    category: text().trim().max(100).optional().transform((v) => v || undefined),
    tag: text().trim().toLowerCase().max(50).optional().transform((v) => v || undefined),
    status: z.enum(observationStatuses).or(z.literal('')).optional().transform((v) => v || undefined),
    from: optionalDate('from'),
    to: optionalDate('to'),
    sort: z.enum(sorts).or(z.literal('')).optional().transform((v) => v || undefined),
    page: z.coerce.number().int().min(1).max(10_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strip();
export type ListFilters = z.infer<typeof listFiltersSchema>;
