import type { CategoryDef } from './ethogram.schema.ts';

/** A category placed in the tree: `depth` 0 for top-level categories, 1 for their children, and so on. */
export interface PlacedCategory {
  category: CategoryDef;
  depth: number;
}

/**
 * The categories in tree order: each top-level category followed by its descendants (depth first), siblings
 * in the order the ethogram lists them. Categories a draft left unreachable (a missing parent, a cycle) follow
 * at depth 0, so that nothing disappears from view while the draft is being fixed.
 */
export function categoryTreeOrder(categories: readonly CategoryDef[]): PlacedCategory[] {
  const keys = new Set(categories.map((c) => c.key));
  const childrenOf = new Map<string | null, CategoryDef[]>();
  for (const category of categories) {
    const parent = category.parent !== null && keys.has(category.parent) && category.parent !== category.key ? category.parent : null;
    const siblings = childrenOf.get(parent) ?? [];
    siblings.push(category);
    childrenOf.set(parent, siblings);
  }
  const placed: PlacedCategory[] = [];
  const seen = new Set<CategoryDef>();
  const visit = (category: CategoryDef, depth: number) => {
    if (seen.has(category)) return;
    seen.add(category);
    placed.push({ category, depth });
    for (const child of childrenOf.get(category.key) ?? []) visit(child, depth + 1);
  };
  for (const top of childrenOf.get(null) ?? []) visit(top, 0);
  for (const category of categories) visit(category, 0);
  return placed;
}
