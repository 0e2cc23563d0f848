import { and, desc, eq, inArray } from 'drizzle-orm';
import { events } from '../../core/core.schema.ts';
import type { Db } from '../../core/db.ts';
import type { BorisExtras } from './boris-extras.ts';

/** The event a BORIS import records; its payload holds the extras (what the file held that the version cannot). */
export const BORIS_IMPORTED_EVENT = 'ethogram.boris-imported';
const IMPORTED_EVENT = 'ethogram.imported';

/**
 * The `boris` extras that apply to a version: those of the nearest import at or before it, when that import came
 * from BORIS. Drafts opened from an imported version inherit them (behaviours keep their keys across versions);
 * a later import of a Menagerie document starts afresh. Null when the version has no BORIS origin.
 */
export async function findBorisExtras(db: Db, ethogramId: string, versionNumber: number): Promise<BorisExtras | null> {
  const rows = await db
    .select({ type: events.type, payload: events.payload })
    .from(events)
    .where(and(eq(events.entityType, 'ethogram'), eq(events.entityId, ethogramId), inArray(events.type, [IMPORTED_EVENT, BORIS_IMPORTED_EVENT])))
    .orderBy(desc(events.id));
  const versionOf = (payload: Record<string, unknown>) => Number(payload.version);
  const nearest = Math.max(0, ...rows.filter((r) => r.type === IMPORTED_EVENT && versionOf(r.payload) <= versionNumber).map((r) => versionOf(r.payload)));
  const boris = rows.find((r) => r.type === BORIS_IMPORTED_EVENT && versionOf(r.payload) === nearest);
  return (boris?.payload.extras as BorisExtras | undefined) ?? null;
}
