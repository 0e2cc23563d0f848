import { z } from 'zod';
import { codingMethods } from '../observation.schema.ts';
import { spanSchema } from '../observation.input.ts';

const text = () => z.string();
const blankToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
const optionalUuid = (what: string) => z.preprocess(blankToUndefined, text().uuid(`${what} must be an id.`).optional());
const optionalConfidence = (what: string) =>
  z.preprocess(blankToUndefined, z.coerce.number({ message: `${what} must be a number from 0 to 1.` }).min(0, `${what} must be from 0 to 1.`).max(1, `${what} must be from 0 to 1.`).optional());

/** The methods a classifier proposes with (people's codings are never in the queue). */
export const proposalMethods = codingMethods.filter((m) => m !== 'manual' && m !== 'live') as ['llm_judge', 'classifier', 'rule'];

/**
 * Filters of the review queue (query-string values, coerced): by behaviour code, classifier, method, a confidence
 * range, the ethogram version and the observation. `after` is the keyset cursor of the previous page.
 */
export const reviewQueueFiltersSchema = z
  .object({
    behaviour: z.preprocess(blankToUndefined, text().trim().max(32).optional()),
    classifierId: optionalUuid('The classifier'),
    method: z.preprocess(blankToUndefined, z.enum(proposalMethods, { message: `Choose one of ${proposalMethods.join(', ')}.` }).optional()),
    minConfidence: optionalConfidence('The lowest confidence'),
    maxConfidence: optionalConfidence('The highest confidence'),
    ethogramVersionId: optionalUuid('The ethogram version'),
    observationId: optionalUuid('The observation'),
    after: z.preprocess(blankToUndefined, text().max(200).optional()),
    limit: z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(100).default(25)),
  })
  .strip()
  .refine((f) => f.minConfidence === undefined || f.maxConfidence === undefined || f.minConfidence <= f.maxConfidence, {
    message: 'The lowest confidence must not be above the highest.',
    path: ['maxConfidence'],
  });
export type ReviewQueueFilters = z.infer<typeof reviewQueueFiltersSchema>;

export const rejectInputSchema = z.object({ reason: text().trim().max(2000, 'The reason is limited to 2000 characters.').default('') }).strict();
export type RejectInput = z.infer<typeof rejectInputSchema>;

/**
 * An edit of a proposal before accepting it: another behaviour (by code, within the proposal's ethogram version),
 * another span (or `null` for the whole observation), other modifiers. At least one of them.
 */
export const editInputSchema = z
  .object({
    code: text().trim().min(1, 'Choose a behaviour code.').max(32).optional(),
    span: spanSchema.nullable().optional(),
    modifiers: z.record(text().max(50), z.union([text().max(500), z.number(), z.array(text().max(100)).max(20)])).optional(),
    rationale: text().trim().max(5000).optional(),
  })
  .strict()
  .refine((e) => e.code !== undefined || e.span !== undefined || e.modifiers !== undefined, { message: 'Change the behaviour, the span or the modifiers.', path: ['code'] });
export type EditInput = z.infer<typeof editInputSchema>;

/** The largest selection one bulk decision takes (a bigger queue is decided page by page, or filtered). */
export const BULK_LIMIT = 500;

/** Bulk accept or reject: listed ids, or every proposal matching queue filters (up to BULK_LIMIT). */
export const bulkReviewInputSchema = z
  .object({
    action: z.enum(['accept', 'reject'], { message: 'Choose accept or reject.' }),
    ids: z.array(text().uuid('Each id must be a coding id.')).min(1).max(BULK_LIMIT).optional(),
    filter: z.record(text(), z.unknown()).optional(),
    reason: text().trim().max(2000).default(''),
  })
  .strict()
  .refine((b) => (b.ids === undefined) !== (b.filter === undefined), { message: 'Send either ids or filter, not both or neither.', path: ['ids'] });
export type BulkReviewInput = z.infer<typeof bulkReviewInputSchema>;
