import { sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../../accounts/actor.ts';
import { rowsOf, type Db } from '../../core/db.ts';

/** The notice shown wherever others' codings are hidden from a blind coder. */
export const BLIND_NOTICE = "Others' codings are hidden until you submit your coding.";

/** SQL: the actor (a user id expression) has an open blind assignment on the observation (an id expression). */
export function openBlindAssignment(observationId: SQL, coderId: string): SQL {
  return sql`EXISTS (SELECT 1 FROM coding_assignments a WHERE a.observation_id = ${observationId} AND a.coder_id = ${coderId}::uuid
    AND a.blind AND a.submitted_at IS NULL AND a.withdrawn_at IS NULL)`;
}

/**
 * Whether the actor must not see others' codings of the observation: they hold an open (not submitted, not
 * withdrawn) blind assignment on it. Anonymous visitors hold none.
 */
export async function isBlindTo(db: Db, actor: Actor, observationId: string): Promise<boolean> {
  if (actor.kind !== 'user') return false;
  const rows = rowsOf<{ blind: boolean }>(await db.execute(sql`SELECT ${openBlindAssignment(sql`${observationId}::uuid`, actor.id)} AS blind`));
  return !!rows[0]?.blind;
}

/** Of the given observations, those the actor is blind to (one query for a list page). */
export async function blindObservationIds(db: Db, actor: Actor, observationIds: string[]): Promise<Set<string>> {
  if (actor.kind !== 'user' || observationIds.length === 0) return new Set();
  const rows = rowsOf<{ observation_id: string }>(
    await db.execute(sql`SELECT a.observation_id FROM coding_assignments a WHERE a.coder_id = ${actor.id}::uuid AND a.blind
      AND a.submitted_at IS NULL AND a.withdrawn_at IS NULL
      AND a.observation_id = ANY(ARRAY[${sql.join(observationIds.map((id) => sql`${id}::uuid`), sql`, `)}])`),
  );
  return new Set(rows.map((r) => r.observation_id));
}

/** Whether the coder holds any open blind assignment (lists then check, per observation, what to hide). */
export async function hasOpenBlindAssignments(db: Db, coderId: string): Promise<boolean> {
  const rows = rowsOf<{ n: number }>(
    await db.execute(sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM coding_assignments a WHERE a.coder_id = ${coderId}::uuid AND a.blind
      AND a.submitted_at IS NULL AND a.withdrawn_at IS NULL LIMIT 1) s`),
  );
  return Number(rows[0]?.n ?? 0) > 0;
}
