import type { Actor } from '../accounts/actor.ts';
import { can } from '../core/policy.ts';
import { categoryTreeOrder } from './category-tree.ts';
import type { CountedVersion } from './ethogram.queries.ts';
import type { BehaviourRow, DocumentProblem, EthogramRow, VersionRow } from './version-document.ts';

/** A behaviour as the API and pages show it: the document fields plus its id (codings point at it). */
export function presentBehaviour(b: BehaviourRow) {
  return {
    id: b.id,
    key: b.key,
    code: b.code,
    name: b.name,
    category: b.category,
    parent: b.parent,
    level: b.level,
    refersTo: b.refersTo,
    kind: b.kind,
    definition: b.definition,
    inclusion: b.inclusion,
    exclusion: b.exclusion,
    examples: b.examples,
    modifierSets: b.modifierSets,
    hotkey: b.hotkey,
    colour: b.colour,
    mappings: b.mappings,
    status: b.status,
    replacedBy: b.replacedBy,
    position: b.position,
  };
}
export type PresentedBehaviour = ReturnType<typeof presentBehaviour>;

/** A line of a versions list. */
export function presentVersionSummary(v: CountedVersion) {
  return {
    id: v.id,
    number: v.number,
    status: v.status,
    notes: v.notes,
    behaviourCount: v.behaviourCount,
    revision: v.revision,
    createdAt: v.createdAt,
    publishedAt: v.publishedAt,
  };
}

/**
 * An ethogram in the catalogue: its newest published version and that version's behaviour count. Whether a
 * draft is open (and which) is only told to those who may read drafts.
 */
export function presentEthogramSummary(actor: Actor, ethogram: EthogramRow, versions: CountedVersion[]) {
  const published = versions.find((v) => v.status === 'published');
  const draft = versions.find((v) => v.status === 'draft');
  const seesDrafts = can(actor, 'ethogram.read', { status: 'draft' });
  return {
    slug: ethogram.slug,
    name: ethogram.name,
    description: ethogram.description,
    latestPublishedVersion: published?.number ?? null,
    behaviourCount: (published ?? (seesDrafts ? draft : undefined))?.behaviourCount ?? 0,
    ...(seesDrafts ? { hasDraft: !!draft, draftVersion: draft?.number ?? null } : {}),
    createdAt: ethogram.createdAt,
  };
}

/** An ethogram with the versions the reader may see, newest first. */
export function presentEthogram(ethogram: EthogramRow, versions: CountedVersion[]) {
  return {
    slug: ethogram.slug,
    name: ethogram.name,
    description: ethogram.description,
    createdAt: ethogram.createdAt,
    latestPublishedVersion: versions.find((v) => v.status === 'published')?.number ?? null,
    versions: versions.map(presentVersionSummary),
  };
}

/**
 * One version with its categories in tree order, each holding its behaviours (catalogue order). Behaviours
 * whose category a draft does not define are listed under `uncategorised`. Drafts also carry the problems
 * that stand in the way of publishing.
 */
export function presentVersion(ethogram: EthogramRow, version: VersionRow, rows: readonly BehaviourRow[], problems?: DocumentProblem[]) {
  const ordered = [...rows].sort((a, b) => a.position - b.position || a.code.localeCompare(b.code));
  const categoryKeys = new Set(version.categories.map((c) => c.key));
  const categories = categoryTreeOrder(version.categories).map(({ category, depth }) => ({
    key: category.key,
    name: category.name,
    description: category.description ?? '',
    parent: category.parent,
    depth,
    behaviours: ordered.filter((b) => b.category === category.key).map(presentBehaviour),
  }));
  return {
    ethogram: { slug: ethogram.slug, name: ethogram.name, description: ethogram.description },
    id: version.id,
    number: version.number,
    status: version.status,
    notes: version.notes,
    revision: version.revision,
    createdAt: version.createdAt,
    publishedAt: version.publishedAt,
    behaviourCount: rows.length,
    /** Migrations declared against the version this one was opened from (see ethograms/evolution/). */
    migrations: version.migrations,
    categories,
    uncategorised: ordered.filter((b) => !categoryKeys.has(b.category)).map(presentBehaviour),
    modifierSets: version.modifierSets,
    exclusiveGroups: version.exclusiveGroups,
    ...(problems ? { problems } : {}),
  };
}
export type PresentedVersion = ReturnType<typeof presentVersion>;
