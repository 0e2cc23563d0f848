import { z } from 'zod';
import { classifierKinds } from '../classify.schema.ts';

/**
 * What the API and the forms accept to configure a classifier. `settings` is checked per kind by
 * classifier-settings.ts (it needs the pinned version's behaviour codes), so here it is only an object.
 */
const name = z.string().trim().min(1, 'give the classifier a name people will recognise in the review queue').max(200, 'keep the name under 200 characters');
const versionId = z.uuid('choose a published ethogram version');
const settings = z.record(z.string(), z.unknown(), { error: 'settings must be an object' });

export const createClassifierInput = z
  .object({
    kind: z.enum(classifierKinds, { error: 'kind must be "llm_judge", "offline" or "rules"' }),
    name,
    ethogramVersionId: versionId,
    settings: settings.default({}),
  })
  .strict();
export type CreateClassifierInput = z.infer<typeof createClassifierInput>;

export const updateClassifierInput = z
  .object({
    name: name.optional(),
    ethogramVersionId: versionId.optional(),
    /** Replaces the settings as a whole (defaults are filled in again). */
    settings: settings.optional(),
    /** The revision the editor saw: a classifier changed since is refused (conflict) rather than overwritten. */
    revision: z.int().min(1).optional(),
  })
  .strict();
export type UpdateClassifierInput = z.infer<typeof updateClassifierInput>;

export const listClassifiersInput = z
  .object({
    kind: z.enum(classifierKinds, { error: 'kind must be "llm_judge", "offline" or "rules"' }).optional(),
    archived: z.enum(['true', 'false', 'include']).default('false'),
  })
  .strict();
export type ListClassifiersInput = z.infer<typeof listClassifiersInput>;
