import { fieldErrors } from '../core/validation.ts';
import { ETHOGRAM_FORMAT, ethogramDocumentSchema, type EthogramDocument, type EthogramDocumentInput } from './ethogram-document.schema.ts';
import type { behaviours, ethograms, ethogramVersions } from './ethogram.schema.ts';

export type EthogramRow = typeof ethograms.$inferSelect;
export type VersionRow = typeof ethogramVersions.$inferSelect;
export type BehaviourRow = typeof behaviours.$inferSelect;

/** One behaviour row in the interchange document's shape (the fields that travel between instances). */
export function behaviourDocument(b: BehaviourRow): EthogramDocument['behaviours'][number] {
  return {
    key: b.key,
    code: b.code,
    name: b.name,
    category: b.category,
    parent: b.parent,
    level: b.level as EthogramDocument['behaviours'][number]['level'],
    refersTo: b.refersTo,
    kind: b.kind,
    definition: b.definition,
    inclusion: b.inclusion,
    exclusion: b.exclusion,
    examples: { positive: b.examples.positive, negative: b.examples.negative },
    modifierSets: b.modifierSets,
    hotkey: b.hotkey,
    colour: b.colour,
    mappings: b.mappings as EthogramDocument['behaviours'][number]['mappings'],
    status: b.status as EthogramDocument['behaviours'][number]['status'],
    replacedBy: b.replacedBy,
  };
}

/**
 * A version as a `menagerie.ethogram/v1` document, behaviours in catalogue order. A published version always
 * yields a valid document (it was validated on publish); a draft yields its current state, which may still
 * have problems (see `documentProblems`).
 */
export function versionDocument(ethogram: EthogramRow, version: VersionRow, rows: readonly BehaviourRow[]): EthogramDocumentInput {
  const ordered = [...rows].sort((a, b) => a.position - b.position || a.code.localeCompare(b.code));
  return {
    format: ETHOGRAM_FORMAT,
    slug: ethogram.slug,
    name: ethogram.name,
    description: ethogram.description,
    version: { number: version.number, notes: version.notes },
    categories: version.categories.map((c) => ({ key: c.key, name: c.name, description: c.description ?? '', parent: c.parent ?? null })),
    modifierSets: version.modifierSets.map((m) => ({
      key: m.key,
      name: m.name,
      type: m.type,
      values: m.values ?? [],
      ...(m.min !== undefined ? { min: m.min } : {}),
      ...(m.max !== undefined ? { max: m.max } : {}),
    })),
    exclusiveGroups: version.exclusiveGroups.map((g) => ({ key: g.key, name: g.name ?? g.key, behaviours: g.behaviours })),
    behaviours: ordered.map(behaviourDocument),
    migrations: version.migrations,
  };
}

/** A problem that stops a draft from being published: where (a dotted document path) and what to change. */
export interface DocumentProblem {
  path: string;
  message: string;
  /** The behaviour's code when the problem sits inside one, so pages can link to it. */
  code?: string;
}

const EMPTY_LIST_MESSAGES: Record<string, string> = {
  behaviours: 'Add at least one behaviour.',
  categories: 'Add at least one category.',
};

/** Every rule of the document format the draft breaks; empty when it can be published. */
export function documentProblems(document: EthogramDocumentInput): DocumentProblem[] {
  const result = ethogramDocumentSchema.safeParse(document);
  if (result.success) return [];
  return Object.entries(fieldErrors(result.error)).map(([path, raw]) => {
    const message = EMPTY_LIST_MESSAGES[path] && /too small/i.test(raw) ? EMPTY_LIST_MESSAGES[path] : raw;
    const match = /^behaviours\.(\d+)/.exec(path);
    const code = match ? document.behaviours[Number(match[1])]?.code : undefined;
    return code ? { path, message, code } : { path, message };
  });
}
