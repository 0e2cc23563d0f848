import { z } from 'zod';

/** The most observations one assignment request covers (a filtered list is assigned page by page beyond it). */
export const ASSIGN_LIMIT = 200;
/** The most coders one observation is assigned to at once. */
export const MAX_CODERS = 20;

/**
 * Assigning observations to coders: named coders, or `count` coders picked among researchers with the fewest
 * open assignments. Blind unless `blind: false`.
 */
export const assignmentInputSchema = z
  .object({
    observationIds: z.array(z.string().uuid('Each observation id must be an id.')).min(1, 'Choose at least one observation.').max(ASSIGN_LIMIT, `At most ${ASSIGN_LIMIT} observations at once.`),
    coderIds: z.array(z.string().uuid('Each coder id must be an id.')).min(1, 'Choose at least one coder.').max(MAX_CODERS, `At most ${MAX_CODERS} coders.`).optional(),
    count: z.number().int().min(1, 'Assign at least one coder.').max(MAX_CODERS, `At most ${MAX_CODERS} coders.`).optional(),
    blind: z.boolean().default(true),
  })
  .strict()
  .refine((a) => (a.coderIds === undefined) !== (a.count === undefined), { message: 'Name the coders or give a number of coders to pick, not both.', path: ['coderIds'] });
export type AssignmentInput = z.infer<typeof assignmentInputSchema>;

export const assignmentStates = ['open', 'submitted', 'withdrawn', 'all'] as const;

/** Filters of `GET /api/v1/assignments`: whose (mine by default; researchers may ask for everyone's), state, observation. */
export const assignmentListSchema = z
  .object({
    coder: z.preprocess((v) => (v === '' ? undefined : v), z.union([z.literal('me'), z.literal('all'), z.string().uuid()]).default('me')),
    state: z.preprocess((v) => (v === '' ? undefined : v), z.enum(assignmentStates).default('open')),
    observationId: z.preprocess((v) => (v === '' ? undefined : v), z.string().uuid().optional()),
  })
  .strip();
export type AssignmentListFilters = z.infer<typeof assignmentListSchema>;
