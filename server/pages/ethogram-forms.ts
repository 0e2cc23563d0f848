import { invalid, type FieldErrors } from '../../core/errors.ts';
import type { PresentedBehaviour } from '../../ethograms/ethogram.presenter.ts';
import type { VersionRow } from '../../ethograms/version-document.ts';

/**
 * Mapping between the ethogram forms (flat text fields that work without JavaScript) and the API's input
 * shapes, so that pages call the same commands with the same validation. Lists are one item per line;
 * examples, which span lines, are separated by a line holding only `---`.
 */

type FormBody = Record<string, unknown>;

const text = (value: unknown): string => (typeof value === 'string' ? value : Array.isArray(value) ? String(value[0] ?? '') : '');
const lines = (value: unknown): string[] =>
  text(value)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
const EXAMPLE_SEPARATOR = /\r?\n[ \t]*---[ \t]*(?:\r?\n|$)/;
const examples = (value: unknown): string[] =>
  text(value)
    .replace(/\r\n/g, '\n')
    .split(EXAMPLE_SEPARATOR)
    .map((example) => example.trim())
    .filter(Boolean);
const optional = (value: unknown): string | undefined => text(value).trim() || undefined;
const revisionOf = (value: unknown): number | undefined => (/^\d+$/.test(text(value)) ? Number(text(value)) : undefined);

/** The behaviour form's fields, as the page shows them (for a new behaviour, sensible defaults). */
export function behaviourFormValues(b?: PresentedBehaviour, defaults: { category?: string } = {}) {
  return {
    code: b?.code ?? '',
    key: b?.key ?? '',
    name: b?.name ?? '',
    category: b?.category ?? defaults.category ?? '',
    kind: b?.kind ?? 'event',
    parent: b?.parent ?? '',
    level: b?.level ?? 'act',
    refersTo: (b?.refersTo ?? []).join('\n'),
    definition: b?.definition ?? '',
    inclusion: (b?.inclusion ?? []).join('\n'),
    exclusion: (b?.exclusion ?? []).join('\n'),
    'examples.positive': (b?.examples.positive ?? []).join('\n---\n'),
    'examples.negative': (b?.examples.negative ?? []).join('\n---\n'),
    modifierSets: b?.modifierSets ?? [],
    hotkey: b?.hotkey ?? '',
    colour: b?.colour ?? '#808080',
    mappings: (b?.mappings ?? []).map((m) => `${m.scheme}: ${m.ref}`).join('\n'),
    status: b?.status ?? 'active',
    replacedBy: b?.replacedBy ?? '',
  };
}

/** What a person typed into the behaviour form, kept for showing the form again. */
export function behaviourFormEcho(body: FormBody) {
  const sets = body.modifierSets;
  return {
    ...Object.fromEntries(Object.keys(behaviourFormValues()).map((name) => [name, text(body[name])])),
    modifierSets: Array.isArray(sets) ? sets.map(String) : sets ? [String(sets)] : [],
  };
}

/** The behaviour form as a `behaviourInput` body (validated by the caller with the same schema as the API). */
export function behaviourInputFromForm(body: FormBody): Record<string, unknown> {
  const sets = body.modifierSets;
  return {
    ...(optional(body.code) ? { code: optional(body.code) } : {}),
    ...(optional(body.key) ? { key: optional(body.key) } : {}),
    name: text(body.name).trim(),
    category: text(body.category).trim(),
    kind: text(body.kind),
    parent: optional(body.parent)?.toUpperCase() ?? null,
    level: text(body.level) || 'act',
    refersTo: lines(body.refersTo).map((code) => code.toUpperCase()),
    definition: text(body.definition).trim(),
    inclusion: lines(body.inclusion),
    exclusion: lines(body.exclusion),
    examples: { positive: examples(body['examples.positive']), negative: examples(body['examples.negative']) },
    modifierSets: Array.isArray(sets) ? sets.map(String) : sets ? [String(sets)] : [],
    hotkey: optional(body.hotkey) ?? null,
    colour: text(body.colour).trim(),
    mappings: lines(body.mappings).map((line) => {
      const at = line.indexOf(':');
      return at < 0 ? { scheme: line, ref: '' } : { scheme: line.slice(0, at).trim(), ref: line.slice(at + 1).trim() };
    }),
    status: text(body.status) || 'active',
    replacedBy: optional(body.replacedBy) ?? null,
    ...(revisionOf(body.revision) !== undefined ? { revision: revisionOf(body.revision) } : {}),
  };
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** The draft form's fields: notes, and the three lists as JSON a person can edit. */
export function draftFormValues(version: Pick<VersionRow, 'notes' | 'categories' | 'modifierSets' | 'exclusiveGroups' | 'revision'>) {
  return {
    notes: version.notes,
    categories: pretty(version.categories),
    modifierSets: pretty(version.modifierSets),
    exclusiveGroups: pretty(version.exclusiveGroups),
    revision: String(version.revision),
  };
}

/** The draft form as an `updateDraftInput` body; a list that is not valid JSON is a field error. */
export function draftInputFromForm(body: FormBody): Record<string, unknown> {
  const input: Record<string, unknown> = { notes: text(body.notes) };
  const problems: FieldErrors = {};
  for (const list of ['categories', 'modifierSets', 'exclusiveGroups'] as const) {
    const raw = text(body[list]).trim();
    try {
      input[list] = raw === '' ? [] : JSON.parse(raw);
    } catch (err) {
      problems[list] = `This is not valid JSON (${(err as Error).message}). Write a list: [ {...}, {...} ].`;
    }
  }
  if (Object.keys(problems).length > 0) throw invalid('The draft form is not valid: a list is not valid JSON.', problems);
  const revision = revisionOf(body.revision);
  if (revision !== undefined) input.revision = revision;
  return input;
}

/**
 * Folds per-path messages ("inclusion.0", "categories.2.parent") onto the form field that holds them, keeping
 * the rest of the path in the message so the person can find the line.
 */
export function formFieldErrors(fields: FieldErrors, formFields: readonly string[]): FieldErrors {
  const byLength = [...formFields].sort((a, b) => b.length - a.length);
  const folded: FieldErrors = {};
  for (const [path, message] of Object.entries(fields)) {
    const field = byLength.find((name) => path === name || path.startsWith(`${name}.`));
    const target = field ?? '_';
    const rest = field ? path.slice(field.length + 1) : path;
    const where = rest ? `${rest.replace(/^(\d+)/, (n) => `item ${Number(n) + 1}`)}: ` : '';
    folded[target] = folded[target] ? `${folded[target]}; ${where}${message}` : `${where}${message}`;
  }
  return folded;
}

/** The behaviour form's field names (for folding error paths). */
export const behaviourFormFields = Object.keys(behaviourFormValues());
/** The draft form's field names. */
export const draftFormFields = ['notes', 'categories', 'modifierSets', 'exclusiveGroups'];
