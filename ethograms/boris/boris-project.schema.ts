import { z } from 'zod';

/**
 * The subset of a BORIS project file (`.boris`, JSON; `.boris.gz`, the same gzipped) that holds an ethogram,
 * as BORIS 7.0 to 9.x write it (`project_format_version` "7.0"; field names from BORIS's `boris/config.py`).
 * Keys we do not read are let through untouched (`loose`): they travel in the import's `boris` extra so
 * that exporting the imported version gives them back.
 */

/** Project format versions whose ethogram layout we know: BORIS has written "7.0" since version 7. */
export const SUPPORTED_BORIS_FORMATS = ['7.0', '7.x'] as const;
const SUPPORTED_FORMAT = /^7(?:\.\d+)?$/;

export const BORIS_POINT = 'Point event';
export const BORIS_STATE = 'State event';
export const borisBehaviourTypes = [BORIS_POINT, BORIS_STATE, 'Point event with coding map', 'State event with coding map'] as const;
export type BorisBehaviourType = (typeof borisBehaviourTypes)[number];

/** BORIS modifier set types: 0 single choice, 1 multiple choice, 2 numeric, 3 value read from an external data file. */
export const BORIS_MODIFIER_SINGLE = 0;
export const BORIS_MODIFIER_MULTI = 1;
export const BORIS_MODIFIER_NUMERIC = 2;
export const BORIS_MODIFIER_EXTERNAL = 3;

const INDEX_KEY = /^(0|[1-9][0-9]*)$/;
const indexedObject = <T extends z.ZodType>(what: string, item: T) =>
  z.record(z.string().regex(INDEX_KEY, `${what} must be keyed "0", "1", "2", …`), item, {
    error: (issue) => (issue.input === undefined ? `${what} is missing` : `${what} must be an object keyed "0", "1", "2", … (BORIS's layout), not ${describe(issue.input)}`),
  });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const text = (what: string) => z.string({ error: (issue) => `${what} must be text, not ${describe(issue.input)}` });

export const borisModifierSetSchema = z
  .object({
    name: text('the modifier set name').default(''),
    type: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)], {
      error: () => 'type must be 0 (single choice), 1 (multiple choice), 2 (numeric) or 3 (value from an external data file)',
    }),
    values: z.array(text('a modifier value')).default([]),
  })
  .loose();
export type BorisModifierSet = z.infer<typeof borisModifierSetSchema>;

export const borisBehaviourSchema = z
  .object({
    type: z.enum(borisBehaviourTypes, { error: () => `type must be one of: ${borisBehaviourTypes.map((t) => `"${t}"`).join(', ')}` }),
    key: text('key').default(''),
    code: text('code')
      .min(1, 'every behaviour needs a code')
      .refine((code) => code.trim().length > 0, 'code is blank')
      .refine((code) => !code.includes('|'), 'code must not contain "|" (BORIS forbids it)'),
    description: text('description').default(''),
    color: text('color').default(''),
    category: text('category').default(''),
    // Projects written before format 4.0 kept modifiers as a string; an empty string still means "none".
    modifiers: z.preprocess((v) => (v === '' || v === undefined ? {} : v), indexedObject('modifiers', borisModifierSetSchema)),
    excluded: text('excluded').default(''),
  })
  .loose();
export type BorisBehaviour = z.infer<typeof borisBehaviourSchema>;

const categoryConfigSchema = z.object({ name: text('the category name'), color: text('the category colour').optional() }).loose();

/** What a reader may rely on after parsing: the ethogram part checked, everything else kept as it came. */
export const borisProjectSchema = z
  .object({
    project_format_version: z
      .union([z.string(), z.number().transform(String)], { error: () => `project_format_version is missing; supported: ${SUPPORTED_BORIS_FORMATS.join(', ')}` })
      .refine((v) => SUPPORTED_FORMAT.test(v.trim()), {
        error: (issue) => `project_format_version "${String(issue.input)}" is not supported; supported: ${SUPPORTED_BORIS_FORMATS.join(', ')} (written by BORIS 7.0 and later)`,
      }),
    project_name: text('project_name').default(''),
    project_date: text('project_date').default(''),
    project_description: text('project_description').default(''),
    behaviors_conf: indexedObject('behaviors_conf', borisBehaviourSchema),
    behavioral_categories: z.array(text('a category')).optional(),
    behavioral_categories_config: indexedObject('behavioral_categories_config', categoryConfigSchema).optional(),
  })
  .loose()
  .superRefine((project, ctx) => {
    const entries = Object.entries(project.behaviors_conf);
    if (entries.length === 0) ctx.addIssue({ code: 'custom', path: ['behaviors_conf'], message: 'the ethogram is empty: behaviors_conf has no behaviours' });
    const firstAt = new Map<string, string>();
    for (const [index, behaviour] of entries) {
      const first = firstAt.get(behaviour.code);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['behaviors_conf', index, 'code'], message: `duplicate code "${behaviour.code}": already used at behaviors_conf.${first}.code` });
      } else firstAt.set(behaviour.code, index);
    }
    for (const [index, behaviour] of entries) {
      excludedCodes(behaviour.excluded).forEach((code) => {
        if (!firstAt.has(code)) {
          ctx.addIssue({ code: 'custom', path: ['behaviors_conf', index, 'excluded'], message: `excluded lists "${code}", which is not the code of any behaviour` });
        }
      });
      for (const [setIndex, set] of Object.entries(behaviour.modifiers)) {
        const at = ['behaviors_conf', index, 'modifiers', setIndex, 'values'];
        const isChoice = set.type === BORIS_MODIFIER_SINGLE || set.type === BORIS_MODIFIER_MULTI;
        if (isChoice && set.values.length === 0) ctx.addIssue({ code: 'custom', path: at, message: 'a choice modifier set (type 0 or 1) needs at least one value' });
        const seen = new Set<string>();
        set.values.forEach((value, valueIndex) => {
          if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [...at, valueIndex], message: `duplicate modifier value "${value}"` });
          seen.add(value);
        });
      }
    }
  });
export type BorisProject = z.infer<typeof borisProjectSchema>;

/** BORIS stores a behaviour's exclusions as comma-separated codes. */
export function excludedCodes(excluded: string): string[] {
  return excluded
    .split(',')
    .map((code) => code.trim())
    .filter((code) => code.length > 0);
}

/** Behaviours in BORIS's order ("0", "1", … numerically), with the index each came from. */
export function orderedBehaviours(project: Pick<BorisProject, 'behaviors_conf'>): { index: string; behaviour: BorisBehaviour }[] {
  return Object.entries(project.behaviors_conf)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([index, behaviour]) => ({ index, behaviour }));
}

/** Modifier sets of one behaviour in BORIS's order. */
export function orderedModifierSets(behaviour: BorisBehaviour): { index: string; set: BorisModifierSet }[] {
  return Object.entries(behaviour.modifiers)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([index, set]) => ({ index, set }));
}
