import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../core/db.ts';
import { behaviours, ethograms, ethogramVersions } from './ethogram.schema.ts';

/**
 * The version codings default to: the newest published version of the starter ethogram if present,
 * else the newest published version of any ethogram. Null on an instance with no published ethogram.
 */
export async function defaultPublishedVersion(db: Db) {
  const rows = await db
    .select({ id: ethogramVersions.id, number: ethogramVersions.number, slug: ethograms.slug, name: ethograms.name, ethogramId: ethograms.id })
    .from(ethogramVersions)
    .innerJoin(ethograms, eq(ethograms.id, ethogramVersions.ethogramId))
    .where(and(eq(ethogramVersions.status, 'published'), isNull(ethograms.deletedAt)))
    .orderBy(desc(ethogramVersions.publishedAt));
  return rows.find((r) => r.slug === 'llm-starter') ?? rows[0] ?? null;
}

/** One behaviour of a version by its code, or undefined. */
export async function findBehaviourByCode(db: Db, versionId: string, code: string) {
  const [row] = await db.select().from(behaviours).where(and(eq(behaviours.versionId, versionId), eq(behaviours.code, code)));
  return row;
}

/** Every behaviour of a version, in catalogue order. */
export function listVersionBehaviours(db: Db, versionId: string) {
  return db.select().from(behaviours).where(eq(behaviours.versionId, versionId)).orderBy(behaviours.position, behaviours.code);
}

export async function findVersion(db: Db, versionId: string) {
  const [row] = await db
    .select({ version: ethogramVersions, slug: ethograms.slug, name: ethograms.name })
    .from(ethogramVersions)
    .innerJoin(ethograms, eq(ethograms.id, ethogramVersions.ethogramId))
    .where(eq(ethogramVersions.id, versionId));
  return row;
}
