import type { Db } from '../../../core/db.ts';
import { defaultPublishedVersion, findVersion, listVersionBehaviours } from '../../../ethograms/behaviour.queries.ts';
import type { CategoryDef, ModifierSetDef } from '../../../ethograms/ethogram.schema.ts';

/** One behaviour as the pickers list it (the checkbox list on the form, the select of the coding form). */
export interface PickerBehaviour {
  code: string;
  name: string;
  category: string;
  hotkey: string | null;
  colour: string;
  /** Space-separated modifier set keys, for the client to show only the modifiers this behaviour takes. */
  modifierSetKeys: string;
}

export interface CodePicker {
  version: { id: string; number: number; slug: string; name: string };
  groups: { key: string; name: string; behaviours: PickerBehaviour[] }[];
  /** Every category (parents too), named with its path, in catalogue order. */
  categories: { key: string; name: string }[];
  modifierSets: ModifierSetDef[];
}

/**
 * The behaviours of the default published ethogram version grouped by category (in catalogue order, named with
 * their parent: "Honesty failures › Sycophancy"), and the version's modifier sets. Null when nothing is published.
 */
export async function loadCodePicker(db: Db): Promise<CodePicker | null> {
  const current = await defaultPublishedVersion(db);
  if (!current) return null;
  const [found, rows] = await Promise.all([findVersion(db, current.id), listVersionBehaviours(db, current.id)]);
  const categories = found?.version.categories ?? [];
  const byKey = new Map(categories.map((c) => [c.key, c]));
  const groups = new Map<string, PickerBehaviour[]>();
  for (const c of categories) groups.set(c.key, []);
  for (const b of rows) {
    if (b.status === 'deprecated') continue;
    const list = groups.get(b.category) ?? [];
    list.push({ code: b.code, name: b.name, category: b.category, hotkey: b.hotkey, colour: b.colour, modifierSetKeys: b.modifierSets.join(' ') });
    groups.set(b.category, list);
  }
  return {
    version: { id: current.id, number: current.number, slug: current.slug, name: current.name },
    groups: [...groups]
      .filter(([, behaviours]) => behaviours.length > 0)
      .map(([key, behaviours]) => ({ key, name: categoryPath(key, byKey), behaviours })),
    categories: categories.map((c) => ({ key: c.key, name: categoryPath(c.key, byKey) })),
    modifierSets: found?.version.modifierSets ?? [],
  };
}

function categoryPath(key: string, byKey: Map<string, CategoryDef>): string {
  const names: string[] = [];
  let at = byKey.get(key);
  const seen = new Set<string>();
  while (at && !seen.has(at.key)) {
    seen.add(at.key);
    names.unshift(at.name);
    at = at.parent ? byKey.get(at.parent) : undefined;
  }
  return names.length ? names.join(' › ') : key;
}
