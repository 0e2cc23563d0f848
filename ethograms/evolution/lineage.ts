import { and, asc, eq, inArray, ne } from 'drizzle-orm';
import type { Db } from '../../core/db.ts';
import type { Migration } from '../ethogram-document.schema.ts';
import { behaviours, ethogramVersions } from '../ethogram.schema.ts';
import { diffVersions, type DiffBehaviour, type KeyFate } from './diff.ts';

/** One version in an ethogram's line of versions, with what it did to the codes of the one before it. */
export interface LineageStep {
  versionId: string;
  number: number;
  status: string;
  /** key → code, and code → key, of this version's behaviours. */
  codeOfKey: Map<string, string>;
  keyOfCode: Map<string, string>;
  /** Fates of the previous step's keys in this version (empty for the first version). */
  fates: Map<string, KeyFate>;
}

export type Lineage = LineageStep[];

export function diffBehaviour(b: typeof behaviours.$inferSelect): DiffBehaviour {
  return {
    key: b.key,
    code: b.code,
    name: b.name,
    category: b.category,
    parent: b.parent,
    kind: b.kind,
    level: b.level,
    definition: b.definition,
    inclusion: b.inclusion,
    exclusion: b.exclusion,
  };
}

/**
 * The ethogram's versions other than a draft, oldest first, each compared with the one before it. A draft is
 * always opened from the newest version, so the published line is linear; versions published before migrations
 * existed declare none, and their changes carry codings by key as they always did.
 */
export async function loadLineage(db: Db, ethogramId: string): Promise<Lineage> {
  const versions = await db
    .select()
    .from(ethogramVersions)
    .where(and(eq(ethogramVersions.ethogramId, ethogramId), ne(ethogramVersions.status, 'draft')))
    .orderBy(asc(ethogramVersions.number));
  if (versions.length === 0) return [];
  const rows = await db.select().from(behaviours).where(inArray(behaviours.versionId, versions.map((v) => v.id)));
  const byVersion = new Map<string, DiffBehaviour[]>();
  for (const row of rows) {
    const list = byVersion.get(row.versionId) ?? [];
    list.push(diffBehaviour(row));
    byVersion.set(row.versionId, list);
  }
  let previous: DiffBehaviour[] | null = null;
  return versions.map((v) => {
    const current = byVersion.get(v.id) ?? [];
    const fates = previous ? diffVersions(previous, current, v.migrations as Migration[]).fates : new Map<string, KeyFate>();
    previous = current;
    return {
      versionId: v.id,
      number: v.number,
      status: v.status,
      codeOfKey: new Map(current.map((b) => [b.key, b.code])),
      keyOfCode: new Map(current.map((b) => [b.code, b.key])),
      fates,
    };
  });
}

/**
 * Follows a key from step `from` forward to step `to` (indices into the lineage): the key it carries to, or
 * why it stops (recoded, retired, unmapped) and at which step.
 */
export function followKey(lineage: Lineage, from: number, to: number, key: string): { key: string } | { stoppedAt: number; fate: KeyFate } {
  let current = key;
  for (let i = from + 1; i <= to; i++) {
    const fate = lineage[i]!.fates.get(current) ?? { fate: 'unmapped' as const };
    if (fate.fate !== 'carry') return { stoppedAt: i, fate };
    current = fate.toKey;
  }
  return { key: current };
}

/**
 * Live codings counted by the key they resolve to in step `target`: `counts` are (version id, key, n) as the
 * database groups them. Codings whose line stops earlier (recoded, retired) are not counted: a person already
 * decided them, and their new codings are counted in their own right.
 */
export function countByTargetKey(lineage: Lineage, target: number, counts: readonly { versionId: string; key: string; n: number }[]): Map<string, number> {
  const indexOf = new Map(lineage.map((s, i) => [s.versionId, i]));
  const out = new Map<string, number>();
  for (const c of counts) {
    const i = indexOf.get(c.versionId);
    if (i === undefined || i > target) continue;
    const followed = followKey(lineage, i, target, c.key);
    if ('key' in followed) out.set(followed.key, (out.get(followed.key) ?? 0) + c.n);
  }
  return out;
}

/** For each step up to `target`, the keys whose codings resolve to `targetKey` at `target`. */
export function keysReaching(lineage: Lineage, target: number, targetKey: string): { versionId: string; keys: string[] }[] {
  const out: { versionId: string; keys: string[] }[] = [];
  for (let i = 0; i <= target; i++) {
    const keys = [...lineage[i]!.codeOfKey.keys()].filter((k) => {
      const followed = followKey(lineage, i, target, k);
      return 'key' in followed && followed.key === targetKey;
    });
    if (keys.length) out.push({ versionId: lineage[i]!.versionId, keys });
  }
  return out;
}
