import { z } from 'zod';
import {
  ethogramBehaviourSchema,
  ethogramCategorySchema,
  ethogramDocumentSchema,
  ethogramExclusiveGroupSchema,
  ethogramModifierSetSchema,
} from './ethogram-document.schema.ts';

/**
 * Request-body contracts of the ethogram API, in one place so that the OpenAPI document can be generated from
 * them. Pages map their form fields onto the same shapes, so both paths give the same messages.
 */

const KEBAB_CASE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** An ethogram's address: lowercase kebab-case, as in the interchange document. */
export const ethogramSlugSchema = z
  .string()
  .trim()
  .min(2, 'The slug needs at least 2 characters.')
  .max(80, 'The slug is limited to 80 characters.')
  .regex(KEBAB_CASE, 'The slug must be lowercase kebab-case (letters, digits, single dashes), e.g. "llm-starter".');

/** POST /ethograms: a new ethogram with an empty draft version 1. */
export const createEthogramInput = z
  .object({
    slug: ethogramSlugSchema,
    name: z.string().trim().min(1, 'Enter a name.').max(200, 'The name is limited to 200 characters.'),
    description: z.string().trim().max(5000, 'The description is limited to 5000 characters.').default(''),
  })
  .strict();
export type CreateEthogramInput = z.infer<typeof createEthogramInput>;

/** The revision of the draft the editor loaded; a stale one is refused (409) instead of overwriting. */
const expectedRevision = z.number().int().positive().optional();

/** PATCH /ethograms/:slug/versions/:number: the draft's notes and its category, modifier and group lists. */
export const updateDraftInput = z
  .object({
    notes: z.string().max(5000, 'The notes are limited to 5000 characters.').optional(),
    categories: z.array(ethogramCategorySchema).max(200).optional(),
    modifierSets: z.array(ethogramModifierSetSchema).max(50).optional(),
    exclusiveGroups: z.array(ethogramExclusiveGroupSchema).max(200).optional(),
    revision: expectedRevision,
  })
  .strict();
export type UpdateDraftInput = z.infer<typeof updateDraftInput>;

/**
 * PUT /ethograms/:slug/versions/:number/behaviours/:code: one behaviour of a draft, in the document's behaviour
 * shape. `code` defaults to the code in the address (a different one renames the behaviour); `key` defaults to
 * the existing behaviour's key, or `<category>.<code in lowercase>` for a new one.
 */
export const behaviourInput = ethogramBehaviourSchema.extend({
  key: ethogramBehaviourSchema.shape.key.optional(),
  code: ethogramBehaviourSchema.shape.code.optional(),
  revision: expectedRevision,
});
export type BehaviourInput = z.infer<typeof behaviourInput>;

const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'on', ''])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'on');

/**
 * Query of POST /ethograms/import: `publish=true` publishes the imported version at once; `newVersion=true`
 * adds it as the next version when an ethogram with the document's slug already exists (else that is a 409).
 */
export const importOptionsInput = z.object({
  publish: flag.default(false),
  newVersion: flag.default(false),
});
export type ImportOptionsInput = z.infer<typeof importOptionsInput>;

/** The body of POST /ethograms/import: a `menagerie.ethogram/v1` document. */
export const importDocumentInput = ethogramDocumentSchema;
