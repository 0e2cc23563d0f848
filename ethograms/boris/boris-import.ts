import { AppError } from '../../core/errors.ts';
import { fieldErrors } from '../../core/validation.ts';
import { ETHOGRAM_FORMAT, ethogramBehaviourSchema, ethogramDocumentSchema, type EthogramDocument, type EthogramDocumentInput } from '../ethogram-document.schema.ts';
import { CATEGORY_PATH_SEPARATOR, exportBorisProject, SIDECAR_FORMAT, SIDECAR_KEY } from './boris-export.ts';
import { collectBorisExtras, type BorisExtras } from './boris-extras.ts';
import {
  BORIS_MODIFIER_MULTI,
  BORIS_MODIFIER_NUMERIC,
  BORIS_MODIFIER_SINGLE,
  borisProjectSchema,
  excludedCodes,
  orderedBehaviours,
  orderedModifierSets,
  type BorisModifierSet,
  type BorisProject,
} from './boris-project.schema.ts';

type Document = EthogramDocumentInput;
type Behaviour = Document['behaviours'][number];
type Category = Document['categories'][number];
type ModifierSet = NonNullable<Document['modifierSets']>[number];
type Group = NonNullable<Document['exclusiveGroups']>[number];

export interface BorisImportOptions {
  /** The new ethogram's slug; by default taken from the sidecar or made from the project name. */
  slug?: string | undefined;
  /** The time the version is created: our export writes it as `project_date`, so the original is kept against it. */
  date?: Date;
}

/** A BORIS project read into our document, with what could not be carried and what the researcher must add. */
export interface BorisImport {
  /** Validated in every rule but the content BORIS does not have (see `missing`); import it as a draft. */
  document: EthogramDocument;
  /** What the original held that the document cannot: stored with the version, given back on export. */
  extras: BorisExtras;
  /** Things that did not map one to one (a key with no equivalent, observations not imported…). */
  notes: string[];
  /** Behaviour fields BORIS has no place for and the draft needs before it can be published. */
  missing: { code: string; fields: string[] }[];
}

/** Placeholders used only to validate the rest of the document; they are never stored. */
const PLACEHOLDER_DEFINITION = 'placeholder definition, never stored';
const PLACEHOLDER_ITEM = 'placeholder, never stored';

const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;
/** A few colour names BORIS users pick (matplotlib's tab palette and basic names); others get a palette colour. */
const NAMED_COLOURS: Record<string, string> = {
  'tab:blue': '#1f77b4', 'tab:orange': '#ff7f0e', 'tab:green': '#2ca02c', 'tab:red': '#d62728', 'tab:purple': '#9467bd',
  'tab:brown': '#8c564b', 'tab:pink': '#e377c2', 'tab:gray': '#7f7f7f', 'tab:olive': '#bcbd22', 'tab:cyan': '#17becf',
  black: '#000000', white: '#ffffff', red: '#ff0000', green: '#008000', blue: '#0000ff', yellow: '#ffff00', orange: '#ffa500',
  purple: '#800080', cyan: '#00ffff', magenta: '#ff00ff', lime: '#00ff00', gray: '#808080', grey: '#808080', brown: '#a52a2a',
};
const PALETTE = Object.values(NAMED_COLOURS).slice(0, 10);

function slugify(text: string, fallback: string, max = 64): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/g, '');
  return slug.length >= 2 ? slug : fallback;
}

/** A name not yet in `taken`: the base, else base-2, base-3… (and records it). */
function unique(base: string, taken: Set<string>, join = '-'): string {
  let candidate = base;
  for (let n = 2; taken.has(candidate); n++) candidate = `${base}${join}${n}`;
  taken.add(candidate);
  return candidate;
}

/** Our codes are uppercase dash-separated parts starting with a letter: "sniff object" becomes "SNIFF-OBJECT". */
function ourCode(borisCode: string): string {
  let code = borisCode
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 28)
    .replace(/-+$/g, '');
  if (!/^[A-Z]/.test(code)) code = `B-${code}`.replace(/-$/, '');
  if (code.length < 2) code = `B-${code}`;
  return code;
}

interface Sidecar {
  document: Document;
}

/** The Menagerie document an export carried, if it is there and looks like one (it is only a source of fields). */
function readSidecar(raw: Record<string, unknown>): Sidecar | null {
  const sidecar = raw[SIDECAR_KEY] as { format?: unknown; document?: unknown } | undefined;
  if (!sidecar || sidecar.format !== SIDECAR_FORMAT || typeof sidecar.document !== 'object' || sidecar.document === null) return null;
  const document = sidecar.document as Partial<Document>;
  if (document.format !== ETHOGRAM_FORMAT || !Array.isArray(document.behaviours) || !Array.isArray(document.categories)) return null;
  return { document: document as Document };
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * Turns a pairwise exclusion relation (`partners`: each code's partners) into groups: each a clique, greedily
 * grown in catalogue order, until every pair is in some group. Walks edges only, so a large ethogram with few
 * exclusions stays cheap.
 */
function exclusionGroups(codes: readonly string[], partners: Map<string, Set<string>>): string[][] {
  const position = new Map(codes.map((code, i) => [code, i]));
  const covered = new Map<string, Set<string>>();
  const cover = (a: string, b: string) => {
    (covered.get(a) ?? covered.set(a, new Set()).get(a)!).add(b);
    (covered.get(b) ?? covered.set(b, new Set()).get(b)!).add(a);
  };
  const groups: string[][] = [];
  for (const a of codes) {
    const neighbours = [...(partners.get(a) ?? [])].sort((x, y) => position.get(x)! - position.get(y)!);
    for (const b of neighbours) {
      if (position.get(b)! < position.get(a)! || covered.get(a)?.has(b)) continue;
      const clique = [a, b];
      for (const c of neighbours) {
        if (!clique.includes(c) && clique.every((m) => partners.get(m)?.has(c))) clique.push(c);
      }
      for (const x of clique) for (const y of clique) if (x !== y) cover(x, y);
      groups.push(clique.sort((x, y) => position.get(x)! - position.get(y)!));
    }
  }
  return groups;
}

/** Rewrites a path in our document to the BORIS field it came from, so a message points at the uploaded file. */
function borisPath(path: string, behaviourIndex: readonly string[], setOrigin: readonly string[]): string {
  const behaviour = /^behaviours\.(\d+)(?:\.(.*))?$/.exec(path);
  if (behaviour) {
    const index = behaviourIndex[Number(behaviour[1])];
    const field = behaviour[2] ?? '';
    const borisField = /^code/.test(field) ? 'code' : /^definition/.test(field) ? 'description' : /^hotkey/.test(field) ? 'key' : /^colour/.test(field) ? 'color' : /^category/.test(field) ? 'category' : /^modifierSets/.test(field) ? 'modifiers' : field;
    return `behaviors_conf.${index}${borisField ? `.${borisField}` : ''}`;
  }
  const set = /^modifierSets\.(\d+)(?:\.(.*))?$/.exec(path);
  if (set) return `${setOrigin[Number(set[1])] ?? 'modifiers'}${set[2] ? `.${set[2]}` : ''}`;
  if (path.startsWith('categories')) return 'category';
  if (path.startsWith('exclusiveGroups')) return 'excluded';
  if (path === 'name') return 'project_name';
  if (path === 'description') return 'project_description';
  return path;
}

/**
 * Reads a parsed BORIS project (JSON already decoded) into a Menagerie ethogram document. Refuses, naming the
 * BORIS field (`behaviors_conf.3.code`), anything broken or from an unknown format version. What both formats
 * hold maps across; BORIS has no inclusion criteria or examples, so those stay empty (listed in `missing`) rather
 * than invented, and the import must stay a draft until a researcher writes them.
 */
export function importBorisProject(raw: unknown, options: BorisImportOptions = {}): BorisImport {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AppError('validation_failed', 'The BORIS project is not a JSON object, nothing was imported: upload the .boris file BORIS saved (File > Save project).', {
      fields: { _: 'Not a BORIS project.' },
    });
  }
  const parsed = borisProjectSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = fieldErrors(parsed.error);
    const list = Object.entries(fields).slice(0, 5).map(([k, v]) => `${k}: ${v}`).join('; ');
    throw new AppError('validation_failed', `The BORIS project is not valid, nothing was imported: ${list}`, { fields });
  }
  const project: BorisProject = parsed.data;
  const rawProject = raw as Record<string, unknown>;
  const sidecar = readSidecar(rawProject);
  const previous = sidecar?.document;
  const notes: string[] = [];
  const behaviours = orderedBehaviours(project);

  // Categories: every name path BORIS lists or uses, nested on the separator; keys from the sidecar when it knows the path.
  const previousPaths = previous ? pathKeys(previous.categories) : new Map<string, Category>();
  const categories: Category[] = [];
  const categoryByPath = new Map<string, string>();
  const categoryKeys = new Set<string>();
  const addCategoryPath = (path: string): string => {
    const known = categoryByPath.get(path);
    if (known) return known;
    const parts = path.split(CATEGORY_PATH_SEPARATOR);
    const parentPath = parts.length > 1 ? parts.slice(0, -1).join(CATEGORY_PATH_SEPARATOR) : null;
    const parent = parentPath ? addCategoryPath(parentPath) : null;
    const name = parts.at(-1)!.trim().slice(0, 200) || 'Unnamed';
    const before = previousPaths.get(path);
    const key = unique(before && !categoryKeys.has(before.key) ? before.key : slugify(name, 'category'), categoryKeys);
    categories.push({ key, name, description: before?.description ?? '', parent });
    categoryByPath.set(path, key);
    return key;
  };
  const listed = [
    ...(project.behavioral_categories ?? []),
    ...Object.entries(project.behavioral_categories_config ?? {})
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, c]) => c.name),
  ];
  for (const path of listed) if (path.trim()) addCategoryPath(path.trim());
  let uncategorised: string | null = null;

  // Modifier sets: BORIS repeats them per behaviour; identical sets (name, type, values) become one of ours.
  const sets: ModifierSet[] = [];
  const setOrigin: string[] = [];
  const setKeys = new Set<string>();
  const setFor = (set: BorisModifierSet, origin: string): string => {
    const type = set.type === BORIS_MODIFIER_SINGLE ? 'single' : set.type === BORIS_MODIFIER_MULTI ? 'multi' : set.type === BORIS_MODIFIER_NUMERIC ? 'numeric' : 'text';
    const values = type === 'single' || type === 'multi' ? set.values : [];
    const name = set.name.trim() || `Modifiers ${sets.length + 1}`;
    const same = sets.find((s) => s.name === name && s.type === type && isDeepEqualList(s.values ?? [], values));
    if (same) return same.key;
    const before = previous?.modifierSets?.find((s) => s.name === name && s.type === type && isDeepEqualList(s.values ?? [], values));
    const key = unique(before && !setKeys.has(before.key) ? before.key : slugify(name, 'modifiers'), setKeys);
    sets.push({ key, name, type, values, ...(before?.min !== undefined ? { min: before.min } : {}), ...(before?.max !== undefined ? { max: before.max } : {}) });
    setOrigin.push(origin);
    if (set.type === 3) notes.push(`${origin}: "${set.name}" reads its value from an external data file in BORIS; here it is a free-text modifier.`);
    return key;
  };

  const codes = new Set<string>();
  const hotkeys = new Set<string>();
  const codeOf = new Map<string, string>();
  const keys = new Set<string>();
  const missing: BorisImport['missing'] = [];
  const ours: Behaviour[] = behaviours.map(({ index, behaviour }, position) => {
    const at = `behaviors_conf.${index}`;
    const before = previous?.behaviours.find((b) => b.code === behaviour.code);
    const code = unique(before ? before.code : ourCode(behaviour.code), codes);
    codeOf.set(behaviour.code, code);
    if (code !== behaviour.code) notes.push(`${at}.code: "${behaviour.code}" is coded "${code}" here (codes are uppercase letters, digits and dashes).`);

    const path = behaviour.category.trim();
    let category: string;
    if (path) category = addCategoryPath(path);
    else {
      if (uncategorised === null) {
        uncategorised = unique('uncategorised', categoryKeys);
        categories.push({ key: uncategorised, name: 'Uncategorised', description: 'Behaviours that had no category in BORIS.', parent: null });
      }
      category = uncategorised;
    }

    let hotkey: string | null = null;
    const key = behaviour.key;
    const candidate = /^[a-z0-9]$/.test(key) ? key : /^[A-Z]$/.test(key) ? key.toLowerCase() : null;
    if (candidate && !hotkeys.has(candidate)) {
      hotkey = candidate;
      hotkeys.add(candidate);
      if (candidate !== key) notes.push(`${at}.key: "${key}" is the hotkey "${candidate}" here (hotkeys are lowercase).`);
    } else if (key) {
      notes.push(`${at}.key: "${key}" ${candidate ? 'is already the hotkey of another behaviour' : 'has no equivalent (hotkeys are one lowercase letter or digit)'}; this behaviour has no hotkey here.`);
    }

    const colourName = behaviour.color.trim();
    const colour = HEX_COLOUR.test(colourName) ? colourName : NAMED_COLOURS[colourName.toLowerCase()] ?? before?.colour ?? PALETTE[position % PALETTE.length]!;

    const modifierSets = orderedModifierSets(behaviour).map(({ index: setIndex, set }) => setFor(set, `${at}.modifiers.${setIndex}`));
    // Free-text sets have no BORIS form: the sidecar keeps them on the behaviour.
    for (const setKey of before?.modifierSets ?? []) {
      const set = previous?.modifierSets?.find((s) => s.key === setKey);
      if (set?.type === 'text' && !modifierSets.includes(setKey)) {
        if (!sets.some((s) => s.key === setKey)) {
          setKeys.add(setKey);
          sets.push({ ...set });
          setOrigin.push(SIDECAR_KEY);
        }
        modifierSets.push(setKey);
      }
    }

    const behaviourKey = unique(before?.key ?? `${category}.${code.toLowerCase()}`, keys, '-');
    const definition = behaviour.description.trim();
    const result: Behaviour = {
      ...(before ? carriedFields(before) : {}),
      key: behaviourKey,
      code,
      name: before?.name ?? (behaviour.code.trim().slice(0, 200) || code),
      category,
      kind: behaviour.type.startsWith('State') ? 'state' : 'event',
      definition,
      inclusion: before?.inclusion ?? [],
      exclusion: before?.exclusion ?? [],
      examples: before?.examples ?? { positive: [], negative: [] },
      modifierSets,
      hotkey,
      colour,
    };
    const lacking = [
      ...(definition.length < 10 ? ['definition'] : []),
      ...(result.inclusion.length === 0 ? ['inclusion'] : []),
      ...(result.examples.positive.length === 0 ? ['examples.positive'] : []),
    ];
    if (lacking.length > 0) missing.push({ code, fields: lacking });
    return result;
  });

  // Exclusions: BORIS lists them per behaviour; ours are symmetric groups (an asymmetric pair becomes symmetric).
  const partners = new Map<string, Set<string>>();
  const link = (a: string, b: string) => (partners.get(a) ?? partners.set(a, new Set()).get(a)!).add(b);
  for (const { behaviour } of behaviours) {
    for (const other of excludedCodes(behaviour.excluded)) {
      const a = codeOf.get(behaviour.code)!;
      const b = codeOf.get(other)!;
      if (a === b) continue;
      link(a, b);
      link(b, a);
    }
  }
  const groupKeys = new Set<string>();
  const groups: Group[] = exclusionGroups(ours.map((b) => b.code), partners).map((members) => {
    const before = previous?.exclusiveGroups?.find((g) => sameSet(g.behaviours, members));
    return {
      key: unique(before?.key ?? 'exclusive', groupKeys),
      name: before?.name ?? `Mutually exclusive: ${members.join(', ')}`.slice(0, 200),
      behaviours: before && sameSet(before.behaviours, members) ? [...before.behaviours] : members,
    };
  });

  // Sets the sidecar knew keep its order; new ones follow in the order BORIS first used them.
  const rank = (key: string) => {
    const i = previous?.modifierSets?.findIndex((s) => s.key === key) ?? -1;
    return i === -1 ? Number.MAX_SAFE_INTEGER : i;
  };
  const orderedSets = sets.map((set, i) => ({ set, origin: setOrigin[i]!, i })).sort((a, b) => rank(a.set.key) - rank(b.set.key) || a.i - b.i);

  const observations = rawProject.observations;
  const observationCount = observations && typeof observations === 'object' ? Object.keys(observations).length : 0;
  if (observationCount > 0) notes.push(`The project's ${observationCount} observation(s) were not imported: this imports the ethogram only.`);

  const projectName = project.project_name.trim();
  const document: Document = {
    format: ETHOGRAM_FORMAT,
    slug: options.slug ?? previous?.slug ?? slugify(projectName, 'boris-ethogram', 80),
    name: (projectName || previous?.name || 'Ethogram imported from BORIS').slice(0, 200),
    description: project.project_description,
    version: {
      number: 1,
      notes: previous?.version?.notes ?? `Imported from the BORIS project "${projectName || 'unnamed'}"${project.project_date ? ` dated ${project.project_date}` : ''} (format ${project.project_format_version}).`,
    },
    categories,
    modifierSets: orderedSets.map((s) => s.set),
    exclusiveGroups: groups,
    behaviours: ours,
  };

  const validated = validateAllButMissing(document, behaviours.map((b) => b.index), orderedSets.map((s) => s.origin));
  const fresh = exportBorisProject(document, { date: options.date ?? new Date(), sidecar: false });
  const extras = collectBorisExtras(
    rawProject,
    behaviours.map(({ index }) => (rawProject.behaviors_conf as Record<string, Record<string, unknown>>)[index]!),
    fresh,
    ours.map((b) => b.key),
  );
  return { document: validated, extras, notes, missing };
}

/** Fields BORIS holds: they always come from the BORIS file, so that edits made in BORIS win. */
const BORIS_HELD = new Set(['key', 'code', 'category', 'kind', 'definition', 'modifierSets', 'hotkey', 'colour']);

/**
 * The Menagerie-only fields of a behaviour the sidecar knew, to carry over where BORIS has no place for them.
 * Only fields this instance's format knows are taken, so a sidecar from a newer Menagerie still imports.
 */
function carriedFields(before: Behaviour): Partial<Behaviour> {
  const known = new Set(Object.keys(ethogramBehaviourSchema.shape));
  return Object.fromEntries(Object.entries(before).filter(([field]) => known.has(field) && !BORIS_HELD.has(field))) as Partial<Behaviour>;
}

function pathKeys(categories: readonly Category[]): Map<string, Category> {
  const byKey = new Map(categories.map((c) => [c.key, c]));
  const result = new Map<string, Category>();
  for (const category of categories) {
    const names: string[] = [];
    let current: Category | undefined = category;
    const seen = new Set<string>();
    while (current && !seen.has(current.key)) {
      seen.add(current.key);
      names.unshift(current.name);
      current = current.parent ? byKey.get(current.parent) : undefined;
    }
    result.set(names.join(CATEGORY_PATH_SEPARATOR), category);
  }
  return result;
}

function isDeepEqualList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Checks every rule of the document format except the content BORIS cannot supply (a definition of 10
 * characters, an inclusion criterion, a positive example): those are filled with placeholders for the check
 * only, and the returned document has them empty again, for the draft to list as problems.
 */
function validateAllButMissing(document: Document, behaviourIndex: readonly string[], setOrigin: readonly string[]): EthogramDocument {
  const completed: Document = {
    ...document,
    behaviours: document.behaviours.map((b) => ({
      ...b,
      definition: b.definition.length >= 10 ? b.definition : PLACEHOLDER_DEFINITION,
      inclusion: b.inclusion.length > 0 ? b.inclusion : [PLACEHOLDER_ITEM],
      examples: { positive: b.examples.positive.length > 0 ? b.examples.positive : [PLACEHOLDER_ITEM], negative: b.examples.negative },
    })),
  };
  const result = ethogramDocumentSchema.safeParse(completed);
  if (!result.success) {
    const fields: Record<string, string> = {};
    for (const [path, message] of Object.entries(fieldErrors(result.error))) {
      const at = borisPath(path, behaviourIndex, setOrigin);
      if (!(at in fields)) fields[at] = message;
    }
    const list = Object.entries(fields).slice(0, 5).map(([k, v]) => `${k}: ${v}`).join('; ');
    throw new AppError('validation_failed', `The BORIS project cannot be imported, nothing was imported: ${list}`, { fields });
  }
  return {
    ...result.data,
    behaviours: result.data.behaviours.map((b, i) => {
      const source = document.behaviours[i]!;
      return { ...b, definition: source.definition, inclusion: [...source.inclusion], examples: { positive: [...source.examples.positive], negative: [...source.examples.negative] } };
    }),
  };
}
