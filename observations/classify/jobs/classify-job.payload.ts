import { z } from 'zod';

/**
 * The payload of a `classify` job. The observations themselves are its `classification_items` rows (written with
 * the job, in one transaction): the payload only says how they were chosen, for the job's page.
 */
export const classifyJobPayloadSchema = z
  .object({
    classifierId: z.string().uuid('classifierId must be a classifier id'),
    /** Shown on the job's page: a single observation, a list of ids, or the list filters that were resolved. */
    scope: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('ids'), count: z.number().int().min(1) }).strict(),
      z.object({ kind: z.literal('filter'), count: z.number().int().min(1), filters: z.record(z.string(), z.string()) }).strict(),
    ]),
    /** Names shown without a lookup (the classifier may be renamed or archived later). */
    classifierName: z.string().max(300).optional(),
    classifierKind: z.enum(['llm_judge', 'offline', 'rules']).optional(),
    /** Proposals at least this confident are accepted at once, reviewed by the job's creator; the rest stay proposed. */
    autoAccept: z.object({ minConfidence: z.number().min(0).max(1) }).strict().optional(),
  })
  .strict();

export type ClassifyJobPayload = z.infer<typeof classifyJobPayloadSchema>;

/** The most observations one job classifies (a larger scope is refused: split it by filters). */
export const MAX_JOB_OBSERVATIONS = 10_000;
