import { z } from 'zod';

/**
 * The format tag of an ethogram interchange document. Importers reject anything else, so a future
 * incompatible layout gets a new tag (`/v2`) and a migration rather than being half-read.
 */
export const ETHOGRAM_FORMAT = 'menagerie.ethogram/v1';

const KEBAB_CASE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Dotted kebab segments, e.g. `refusal.over-refusal`: the dots let keys be namespaced by category. */
const BEHAVIOUR_KEY = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$/;
const BEHAVIOUR_CODE = /^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$/;
const HOTKEY = /^[a-z0-9]$/;
const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;

const MAX_PROSE = 5000;
const MAX_CRITERION = 1000;
const MAX_EXAMPLE = 2000;

const kebabKey = (what: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(KEBAB_CASE, `${what} must be lowercase kebab-case (letters, digits, single dashes), e.g. "over-refusal"`);

/** Whether a behaviour is coded at a point (event) or over a span with a start and an end (state). */
export const behaviourKinds = ['event', 'state'] as const;
export type BehaviourKind = (typeof behaviourKinds)[number];

/** How a modifier set is answered when a coder applies it: pick one, pick several, a number, or free text. */
export const modifierSetTypes = ['single', 'multi', 'numeric', 'text'] as const;
export type ModifierSetType = (typeof modifierSetTypes)[number];

/** `act`: observable in the text itself; `interpretation`: reads intent or meaning into acts it refers to. */
export const behaviourLevels = ['act', 'interpretation'] as const;
export type BehaviourLevel = (typeof behaviourLevels)[number];

/** Deprecated behaviours stay in the document so that old codings keep resolving to a definition. */
export const behaviourStatuses = ['active', 'deprecated'] as const;
export type BehaviourStatus = (typeof behaviourStatuses)[number];

/**
 * External taxonomies a behaviour can be cross-referenced to: Petri judge dimensions, the AI Incident
 * Database (incidents, and its Goals/Methods/Failures taxonomy `aiid-gmf`), the AI Vulnerability Database, the
 * MIT AI Risk Repository, and an evaluation suite's dimensions (`eval`, ref `suite:dimension`). A closed list, so that a typo in a
 * scheme name is caught at import instead of silently creating a scheme nobody queries.
 */
export const mappingSchemes = ['petri', 'aiid', 'aiid-gmf', 'avid', 'mit-ai-risk', 'eval'] as const;
export type MappingScheme = (typeof mappingSchemes)[number];

/** A category of behaviours; `parent` (another category's key) makes the categories a tree. */
export const ethogramCategorySchema = z
  .object({
    key: kebabKey('category key'),
    name: z.string().min(1).max(200),
    description: z.string().max(MAX_PROSE).default(''),
    parent: kebabKey('parent category key').nullable().default(null),
  })
  .strict();
export type EthogramCategory = z.infer<typeof ethogramCategorySchema>;

/**
 * A named set of qualifiers a coder can attach to a coding (severity, elicitation, confidence...).
 * `values` lists the choices of `single`/`multi` sets; `min`/`max` bound `numeric` sets.
 */
export const ethogramModifierSetSchema = z
  .object({
    key: kebabKey('modifier set key'),
    name: z.string().min(1).max(200),
    type: z.enum(modifierSetTypes),
    values: z.array(z.string().min(1).max(100)).max(100).default([]),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .strict()
  .superRefine((set, ctx) => {
    const isChoice = set.type === 'single' || set.type === 'multi';
    if (isChoice && set.values.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `a "${set.type}" modifier set needs at least one value to choose from`,
      });
    }
    if (!isChoice && set.values.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `a "${set.type}" modifier set takes no values; remove "values" or change the type to "single" or "multi"`,
      });
    }
    const seen = new Set<string>();
    set.values.forEach((value, index) => {
      if (seen.has(value)) {
        ctx.addIssue({ code: 'custom', path: ['values', index], message: `duplicate value "${value}"` });
      }
      seen.add(value);
    });
    for (const bound of ['min', 'max'] as const) {
      if (set[bound] !== undefined && set.type !== 'numeric') {
        ctx.addIssue({
          code: 'custom',
          path: [bound],
          message: `"${bound}" only applies to numeric modifier sets, not "${set.type}"`,
        });
      }
    }
    if (set.min !== undefined && set.max !== undefined && set.min > set.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['max'],
        message: `max (${set.max}) is below min (${set.min})`,
      });
    }
  });
export type EthogramModifierSet = z.infer<typeof ethogramModifierSetSchema>;

/** Behaviour codes that cannot apply to the same span at once (e.g. full vs partial refusal). */
export const ethogramExclusiveGroupSchema = z
  .object({
    key: kebabKey('exclusive group key'),
    name: z.string().min(1).max(200),
    behaviours: z.array(z.string().min(1).max(32)).min(2).max(100),
  })
  .strict();
export type EthogramExclusiveGroup = z.infer<typeof ethogramExclusiveGroupSchema>;

/** A cross-reference from a behaviour to an entry in another taxonomy. */
export const behaviourMappingSchema = z
  .object({
    scheme: z.enum(mappingSchemes),
    ref: z.string().min(1).max(200),
  })
  .strict();
export type BehaviourMapping = z.infer<typeof behaviourMappingSchema>;

const criteriaList = z.array(z.string().min(1).max(MAX_CRITERION)).max(50);
const exampleList = z.array(z.string().min(1).max(MAX_EXAMPLE)).max(50);

/**
 * One codable behaviour. `key` is its identity across versions; `code` is what coders see and may be
 * renamed in a later version. The definition and criteria are what make two coders agree, hence the limits
 * that force at least one inclusion criterion and one positive example.
 */
export const ethogramBehaviourSchema = z
  .object({
    key: z
      .string()
      .min(1)
      .max(120)
      .regex(BEHAVIOUR_KEY, 'behaviour key must be lowercase kebab-case segments joined by dots, e.g. "refusal.over-refusal"'),
    code: z
      .string()
      .min(2)
      .max(32)
      .regex(BEHAVIOUR_CODE, 'code must be uppercase letters and digits in dash-separated parts, starting with a letter, e.g. "REF-OVER"'),
    name: z.string().min(1, 'enter a name').max(200),
    category: z.string().min(1).max(64),
    parent: z.string().min(1).max(32).nullable().default(null),
    level: z.enum(behaviourLevels).default('act'),
    refersTo: z.array(z.string().min(1).max(32)).max(20).default([]),
    kind: z.enum(behaviourKinds),
    definition: z.string().min(10, 'write an operational definition of at least 10 characters: what a coder can observe').max(MAX_PROSE),
    inclusion: criteriaList.min(1, 'give at least one inclusion criterion'),
    exclusion: criteriaList,
    examples: z
      .object({
        positive: exampleList.min(1, 'give at least one example of the behaviour'),
        negative: exampleList,
      })
      .strict(),
    modifierSets: z.array(z.string().min(1).max(64)).max(20).default([]),
    hotkey: z.string().regex(HOTKEY, 'hotkey must be a single lowercase letter or digit').nullable().default(null),
    colour: z.string().regex(HEX_COLOUR, 'colour must be a hex colour of the form #rrggbb'),
    mappings: z.array(behaviourMappingSchema).max(20).default([]),
    status: z.enum(behaviourStatuses).default('active'),
    replacedBy: z.string().min(1).max(32).nullable().default(null),
  })
  .strict();
export type EthogramBehaviour = z.infer<typeof ethogramBehaviourSchema>;

const codeRef = z.string().min(1).max(32);
/**
 * A migration declared for a change against the version this one was opened from (codes of that version in
 * `from`, of this one in `into`/`code`): see ethograms/evolution/README.md.
 */
export const migrationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('merge'), from: z.array(codeRef).min(1).max(50), into: codeRef }).strict(),
  z.object({ type: z.literal('split'), from: codeRef, into: z.array(codeRef).min(2).max(20) }).strict(),
  z.object({ type: z.literal('redefine'), code: codeRef, decision: z.enum(['recode', 'reword']) }).strict(),
  z.object({ type: z.literal('retire'), code: codeRef }).strict(),
]);
export type Migration = z.infer<typeof migrationSchema>;

type Path = (string | number)[];
type AddIssue = (path: Path, message: string) => void;

/** Names a few known keys so that an "unknown key" message says what would have been accepted. */
function knownList(keys: Iterable<string>): string {
  const all = [...keys];
  if (all.length === 0) return 'none are defined';
  const shown = all.slice(0, 12).map((key) => `"${key}"`).join(', ');
  return all.length > 12 ? `known: ${shown}, … (${all.length} in all)` : `known: ${shown}`;
}

/** Reports every repeat of a value, pointing at the repeat and naming where the value was first used. */
function reportDuplicates<T>(
  items: readonly T[],
  valueOf: (item: T) => string | null,
  pathOf: (index: number) => Path,
  describe: string,
  addIssue: AddIssue,
): void {
  const firstIndex = new Map<string, number>();
  items.forEach((item, index) => {
    const value = valueOf(item);
    if (value === null) return;
    const first = firstIndex.get(value);
    if (first === undefined) {
      firstIndex.set(value, index);
      return;
    }
    const firstPath = pathOf(first).join('.');
    addIssue(pathOf(index), `duplicate ${describe} "${value}": already used at ${firstPath}`);
  });
}

function checkCategoryTree(categories: readonly EthogramCategory[], addIssue: AddIssue): void {
  const parentOf = new Map(categories.map((category) => [category.key, category.parent]));
  const inReportedCycle = new Set<string>();
  categories.forEach((category, index) => {
    const path = ['categories', index, 'parent'];
    if (category.parent === null) return;
    if (!parentOf.has(category.parent)) {
      addIssue(path, `parent category "${category.parent}" does not exist; ${knownList(parentOf.keys())}`);
      return;
    }
    if (category.parent === category.key) {
      addIssue(path, `category "${category.key}" is its own parent; set parent to null or to another category`);
      inReportedCycle.add(category.key);
      return;
    }
    if (inReportedCycle.has(category.key)) return;
    const chain = [category.key];
    let current: string | null = category.parent;
    while (current !== null && parentOf.has(current)) {
      if (current === category.key) {
        chain.forEach((key) => inReportedCycle.add(key));
        addIssue(
          path,
          `category parents form a cycle: ${[...chain, category.key].join(' → ')}; make one of them top-level (parent: null)`,
        );
        return;
      }
      // A cycle further up that does not pass through this category is reported from one of its members.
      if (chain.includes(current)) return;
      chain.push(current);
      current = parentOf.get(current) ?? null;
    }
  });
}

/** Behaviour parents (codes) must exist, not be the behaviour itself, and form no cycle. */
function checkBehaviourTree(behaviours: EthogramDocumentShape['behaviours'], addIssue: AddIssue): void {
  const parentOf = new Map(behaviours.map((b) => [b.code, b.parent]));
  const reported = new Set<string>();
  behaviours.forEach((behaviour, index) => {
    const path = ['behaviours', index, 'parent'];
    if (behaviour.parent === null) return;
    if (!parentOf.has(behaviour.parent)) {
      addIssue(path, `parent behaviour "${behaviour.parent}" is not the code of any behaviour in this document`);
      return;
    }
    if (behaviour.parent === behaviour.code) {
      addIssue(path, `behaviour "${behaviour.code}" is its own parent; set parent to null or to another behaviour`);
      return;
    }
    if (reported.has(behaviour.code)) return;
    const chain = [behaviour.code];
    let current: string | null = behaviour.parent;
    while (current !== null && parentOf.has(current)) {
      if (current === behaviour.code) {
        chain.forEach((code) => reported.add(code));
        addIssue(path, `behaviour parents form a cycle: ${[...chain, behaviour.code].join(' → ')}; make one of them top-level (parent: null)`);
        return;
      }
      if (chain.includes(current)) return;
      chain.push(current);
      current = parentOf.get(current) ?? null;
    }
  });
}

function checkCrossReferences(document: EthogramDocumentShape, addIssue: AddIssue): void {
  const { categories, modifierSets, exclusiveGroups, behaviours } = document;

  reportDuplicates(categories, (c) => c.key, (i) => ['categories', i, 'key'], 'category key', addIssue);
  reportDuplicates(modifierSets, (m) => m.key, (i) => ['modifierSets', i, 'key'], 'modifier set key', addIssue);
  reportDuplicates(exclusiveGroups, (g) => g.key, (i) => ['exclusiveGroups', i, 'key'], 'exclusive group key', addIssue);
  reportDuplicates(behaviours, (b) => b.key, (i) => ['behaviours', i, 'key'], 'behaviour key', addIssue);
  reportDuplicates(behaviours, (b) => b.code, (i) => ['behaviours', i, 'code'], 'behaviour code', addIssue);
  reportDuplicates(behaviours, (b) => b.hotkey, (i) => ['behaviours', i, 'hotkey'], 'hotkey', addIssue);

  checkCategoryTree(categories, addIssue);
  checkBehaviourTree(behaviours, addIssue);

  const categoryKeys = new Set(categories.map((c) => c.key));
  const modifierSetKeys = new Set(modifierSets.map((m) => m.key));
  const codes = new Set(behaviours.map((b) => b.code));

  behaviours.forEach((behaviour, index) => {
    const at = (...rest: Path): Path => ['behaviours', index, ...rest];
    if (!categoryKeys.has(behaviour.category)) {
      addIssue(at('category'), `category "${behaviour.category}" does not exist; ${knownList(categoryKeys)}`);
    }
    behaviour.modifierSets.forEach((setKey, setIndex) => {
      if (!modifierSetKeys.has(setKey)) {
        addIssue(at('modifierSets', setIndex), `modifier set "${setKey}" does not exist; ${knownList(modifierSetKeys)}`);
      }
    });
    reportDuplicates(behaviour.modifierSets, (key) => key, (i) => at('modifierSets', i), 'modifier set', addIssue);
    if (behaviour.level === 'act' && behaviour.refersTo.length > 0) {
      addIssue(at('refersTo'), `only an interpretation refers to acts: set level to "interpretation", or empty refersTo`);
    }
    behaviour.refersTo.forEach((code, refIndex) => {
      const target = behaviours.find((b) => b.code === code);
      if (!target) addIssue(at('refersTo', refIndex), `refersTo "${code}" is not the code of any behaviour in this document`);
      else if (target.level !== 'act') addIssue(at('refersTo', refIndex), `refersTo "${code}" is an interpretation; an interpretation refers to acts`);
    });
    if (behaviour.replacedBy !== null) {
      if (behaviour.replacedBy === behaviour.code) {
        addIssue(at('replacedBy'), `behaviour "${behaviour.code}" cannot be replaced by itself`);
      } else if (!codes.has(behaviour.replacedBy)) {
        addIssue(at('replacedBy'), `replacedBy "${behaviour.replacedBy}" is not the code of any behaviour in this document`);
      }
      if (behaviour.status !== 'deprecated') {
        addIssue(at('status'), `behaviour "${behaviour.code}" names a replacement, so its status must be "deprecated"`);
      }
    }
  });

  exclusiveGroups.forEach((group, groupIndex) => {
    const at = (memberIndex: number): Path => ['exclusiveGroups', groupIndex, 'behaviours', memberIndex];
    group.behaviours.forEach((code, memberIndex) => {
      if (!codes.has(code)) {
        addIssue(at(memberIndex), `exclusive group "${group.key}" lists "${code}", which is not the code of any behaviour`);
      }
    });
    reportDuplicates(group.behaviours, (code) => code, at, 'behaviour code in exclusive group', addIssue);
  });
}

const ethogramDocumentShape = z
  .object({
    format: z.literal(ETHOGRAM_FORMAT, { error: `format must be "${ETHOGRAM_FORMAT}"` }),
    slug: z
      .string()
      .min(2)
      .max(80)
      .regex(KEBAB_CASE, 'slug must be lowercase kebab-case (letters, digits, single dashes), e.g. "llm-starter"'),
    name: z.string().min(1).max(200),
    description: z.string().max(MAX_PROSE).default(''),
    version: z
      .object({
        number: z.number().int().positive(),
        notes: z.string().max(MAX_PROSE).optional(),
      })
      .strict(),
    categories: z.array(ethogramCategorySchema).min(1).max(200),
    modifierSets: z.array(ethogramModifierSetSchema).max(50).default([]),
    exclusiveGroups: z.array(ethogramExclusiveGroupSchema).max(200).default([]),
    behaviours: z.array(ethogramBehaviourSchema).min(1).max(1000),
    migrations: z.array(migrationSchema).max(1000).default([]),
  })
  .strict();
type EthogramDocumentShape = z.infer<typeof ethogramDocumentShape>;

/**
 * The JSON interchange format of one ethogram version (`menagerie.ethogram/v1`), used for import, export
 * and the shipped starter ethograms. Beyond the shape it checks every cross-reference (categories, parents,
 * modifier sets, exclusive groups, replacements) and uniqueness of keys, codes and hotkeys, reporting each
 * problem at the exact path with a message that says what to change.
 */
export const ethogramDocumentSchema = ethogramDocumentShape.superRefine((document, ctx) => {
  checkCrossReferences(document, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
});

/** A parsed ethogram document, with defaults filled in. */
export type EthogramDocument = z.infer<typeof ethogramDocumentSchema>;
/** An ethogram document as written in JSON, before defaults are applied. */
export type EthogramDocumentInput = z.input<typeof ethogramDocumentSchema>;
