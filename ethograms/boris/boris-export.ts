import type { EthogramDocumentInput } from '../ethogram-document.schema.ts';
import { applyBorisExtras, type BorisExtras } from './boris-extras.ts';
import { BORIS_MODIFIER_MULTI, BORIS_MODIFIER_NUMERIC, BORIS_MODIFIER_SINGLE, BORIS_POINT, BORIS_STATE } from './boris-project.schema.ts';

/** Categories are flat in BORIS: a nested category travels as the path of its names joined by this. */
export const CATEGORY_PATH_SEPARATOR = ' / ';

/** The key under which an export carries the Menagerie document, for fields BORIS has no place for. */
export const SIDECAR_KEY = 'menagerie';
export const SIDECAR_FORMAT = 'menagerie.boris-sidecar/v1';

type Document = EthogramDocumentInput;
type Behaviour = Document['behaviours'][number];
type ModifierSet = NonNullable<Document['modifierSets']>[number];

/** A BORIS project as we write it (plain JSON). */
export type BorisProjectJson = Record<string, unknown> & { behaviors_conf: Record<string, Record<string, unknown>> };

export interface BorisExportOptions {
  /** When the version was published (or, for a draft, created): BORIS's `project_date`. */
  date: Date;
  /** What an import from BORIS kept of the original project, so that exporting gives it back. */
  extras?: BorisExtras | null;
  /** Carry the full Menagerie document under `menagerie`, so that re-importing loses nothing (default true). */
  sidecar?: boolean;
}

/** "Honesty failures / Sycophancy": each category's name path from the top of the tree. */
export function categoryPaths(categories: Document['categories']): Map<string, string> {
  const byKey = new Map(categories.map((c) => [c.key, c]));
  const paths = new Map<string, string>();
  for (const category of categories) {
    const names: string[] = [];
    const seen = new Set<string>();
    let current: (typeof categories)[number] | undefined = category;
    while (current && !seen.has(current.key)) {
      seen.add(current.key);
      names.unshift(current.name);
      current = current.parent ? byKey.get(current.parent) : undefined;
    }
    paths.set(category.key, names.join(CATEGORY_PATH_SEPARATOR));
  }
  return paths;
}

/** BORIS's date layout: local-free ISO seconds, "2026-11-27T11:07:08". */
function borisDate(date: Date): string {
  return date.toISOString().slice(0, 19);
}

function borisModifierSet(set: ModifierSet): Record<string, unknown> | null {
  const type = set.type === 'single' ? BORIS_MODIFIER_SINGLE : set.type === 'multi' ? BORIS_MODIFIER_MULTI : set.type === 'numeric' ? BORIS_MODIFIER_NUMERIC : null;
  // A free-text modifier has no BORIS counterpart (type 3 reads values from a data file): it stays in the sidecar.
  if (type === null) return null;
  return { name: set.name, type, values: type === BORIS_MODIFIER_NUMERIC ? [] : [...(set.values ?? [])] };
}

/** Each behaviour's exclusions: every other member of every exclusive group it belongs to, in catalogue order. */
function exclusionsOf(document: Document): Map<string, string[]> {
  const partners = new Map<string, Set<string>>();
  for (const group of document.exclusiveGroups ?? []) {
    for (const code of group.behaviours) {
      const set = partners.get(code) ?? new Set<string>();
      group.behaviours.filter((other) => other !== code).forEach((other) => set.add(other));
      partners.set(code, set);
    }
  }
  const order = document.behaviours.map((b) => b.code);
  return new Map([...partners].map(([code, set]) => [code, order.filter((other) => set.has(other))]));
}

/**
 * One ethogram version as a BORIS project (format 7.0) with no observations: codes, descriptions (the
 * operational definition), point or state, key bindings, colours, categories (name paths), modifier sets and
 * exclusions. Fields BORIS cannot hold travel in the `menagerie` sidecar; an imported version's `boris` extras
 * put back what the original BORIS project held and we could not represent.
 */
export function exportBorisProject(document: Document, options: BorisExportOptions): BorisProjectJson {
  const paths = categoryPaths(document.categories);
  const sets = new Map((document.modifierSets ?? []).map((s) => [s.key, s]));
  const exclusions = exclusionsOf(document);

  const behaviorsConf: Record<string, Record<string, unknown>> = {};
  document.behaviours.forEach((behaviour: Behaviour, index) => {
    const modifiers: Record<string, unknown> = {};
    for (const key of behaviour.modifierSets ?? []) {
      const set = sets.get(key);
      const converted = set ? borisModifierSet(set) : null;
      if (converted) modifiers[String(Object.keys(modifiers).length)] = converted;
    }
    behaviorsConf[String(index)] = {
      type: behaviour.kind === 'state' ? BORIS_STATE : BORIS_POINT,
      key: behaviour.hotkey ?? '',
      code: behaviour.code,
      description: behaviour.definition,
      color: behaviour.colour,
      category: paths.get(behaviour.category) ?? '',
      modifiers,
      excluded: (exclusions.get(behaviour.code) ?? []).join(','),
      'coding map': '',
    };
  });

  const categoryNames = [...new Set(document.categories.map((c) => paths.get(c.key)!))];
  const project: BorisProjectJson = {
    project_format_version: '7.0',
    project_name: document.name,
    project_date: borisDate(options.date),
    project_description: document.description ?? '',
    time_format: 'hh:mm:ss',
    subjects_conf: {},
    behaviors_conf: behaviorsConf,
    behavioral_categories: categoryNames,
    behavioral_categories_config: Object.fromEntries(categoryNames.map((name, i) => [String(i), { name, color: '' }])),
    independent_variables: {},
    coding_map: {},
    behaviors_coding_map: [],
    converters: {},
    observations: {},
  };
  if (options.sidecar !== false) project[SIDECAR_KEY] = { format: SIDECAR_FORMAT, document };
  return options.extras ? applyBorisExtras(project, document, options.extras) : project;
}
