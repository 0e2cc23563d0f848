import { eq } from 'drizzle-orm';
import type { Db } from '../core/db.ts';
import { behaviours } from './ethogram.schema.ts';
import { defaultPublishedVersion } from './behaviour.queries.ts';

export type BehaviourRow = typeof behaviours.$inferSelect;
export interface DefaultVersion { id: string; number: number; slug: string; name: string; ethogramId: string }

/**
 * The default published ethogram version and its behaviours by code, cached briefly: recording an observation
 * is the ingestion hot path and should not pay two extra round trips for data that changes only on publish.
 * Published versions are immutable, so a version's behaviours are cached for good; only "which version is the
 * default" expires (after DEFAULT_TTL_MS, or at once via `forgetDefaultVersion`).
 */
const DEFAULT_TTL_MS = 5_000;
let forgottenAt = 0;
const defaultByDb = new WeakMap<object, { at: number; version: DefaultVersion }>();
const behavioursByVersion = new Map<string, Map<string, BehaviourRow>>();

export async function cachedDefaultVersion(db: Db): Promise<DefaultVersion | null> {
  const hit = defaultByDb.get(db);
  if (hit && hit.at > forgottenAt && Date.now() - hit.at < DEFAULT_TTL_MS) return hit.version;
  const version = await defaultPublishedVersion(db);
  // "No published ethogram" is not cached, so publishing the first one takes effect at once.
  if (version) defaultByDb.set(db, { at: Date.now(), version });
  return version;
}

/** Behaviours of a published (immutable) version keyed by code; cached for the life of the process. */
export async function publishedBehavioursByCode(db: Db, versionId: string): Promise<Map<string, BehaviourRow>> {
  const hit = behavioursByVersion.get(versionId);
  if (hit) return hit;
  const rows = await db.select().from(behaviours).where(eq(behaviours.versionId, versionId));
  const map = new Map(rows.map((b) => [b.code, b]));
  if (behavioursByVersion.size > 200) behavioursByVersion.clear();
  behavioursByVersion.set(versionId, map);
  return map;
}

/** Drops the cached default version (call after publishing or deprecating a version). */
export function forgetDefaultVersion(): void {
  forgottenAt = Date.now();
}
