import { and, asc, count, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../core/db.ts';
import { behaviours, ethograms, ethogramVersions } from './ethogram.schema.ts';
import type { EthogramRow, VersionRow } from './version-document.ts';

/** A version with how many behaviours it holds. */
export type CountedVersion = VersionRow & { behaviourCount: number };

async function behaviourCounts(db: Db, versionIds: string[]): Promise<Map<string, number>> {
  if (versionIds.length === 0) return new Map();
  const rows = await db
    .select({ versionId: behaviours.versionId, n: count() })
    .from(behaviours)
    .where(inArray(behaviours.versionId, versionIds))
    .groupBy(behaviours.versionId);
  return new Map(rows.map((r) => [r.versionId, Number(r.n)]));
}

/** Every ethogram (not deleted) with all its versions, newest first, each with its behaviour count. */
export async function listEthogramsWithVersions(db: Db): Promise<{ ethogram: EthogramRow; versions: CountedVersion[] }[]> {
  const all = await db.select().from(ethograms).where(isNull(ethograms.deletedAt)).orderBy(asc(ethograms.name), asc(ethograms.slug));
  if (all.length === 0) return [];
  const versions = await db
    .select()
    .from(ethogramVersions)
    .where(inArray(ethogramVersions.ethogramId, all.map((e) => e.id)))
    .orderBy(asc(ethogramVersions.number));
  const counts = await behaviourCounts(db, versions.map((v) => v.id));
  return all.map((ethogram) => ({
    ethogram,
    versions: versions
      .filter((v) => v.ethogramId === ethogram.id)
      .map((v) => ({ ...v, behaviourCount: counts.get(v.id) ?? 0 }))
      .reverse(),
  }));
}

/** The ethogram with that slug (not deleted), or undefined. */
export async function findEthogramBySlug(db: Db, slug: string): Promise<EthogramRow | undefined> {
  const [row] = await db.select().from(ethograms).where(and(eq(ethograms.slug, slug), isNull(ethograms.deletedAt)));
  return row;
}

/** An ethogram's versions, newest first, with behaviour counts. */
export async function listEthogramVersions(db: Db, ethogramId: string): Promise<CountedVersion[]> {
  const versions = await db.select().from(ethogramVersions).where(eq(ethogramVersions.ethogramId, ethogramId)).orderBy(asc(ethogramVersions.number));
  const counts = await behaviourCounts(db, versions.map((v) => v.id));
  return versions.map((v) => ({ ...v, behaviourCount: counts.get(v.id) ?? 0 })).reverse();
}

/** One version of an ethogram by its number, or undefined. */
export async function findVersionByNumber(db: Db, ethogramId: string, number: number): Promise<VersionRow | undefined> {
  const [row] = await db.select().from(ethogramVersions).where(and(eq(ethogramVersions.ethogramId, ethogramId), eq(ethogramVersions.number, number)));
  return row;
}
