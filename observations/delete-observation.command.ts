import { sql } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { observationsChanged } from './observation.queries.ts';
import { keepHistory, lockObservation, requireUser } from './observation-edit.ts';

/**
 * Deletes an observation as a tombstone: the row stays with deleted_at/deleted_by (so codings, history and
 * links keep resolving and an admin can restore it), the previous state is kept as a revision, plus an event.
 */
export async function deleteObservation(ctx: Ctx, id: string): Promise<void> {
  const actor = requireUser(ctx, 'delete an observation');
  await inTransaction(ctx.db, async (tx) => {
    const { record: before } = await lockObservation(tx, id);
    const now = ctx.now();
    await tx.execute(sql`UPDATE observations SET deleted_at = ${now.toISOString()}::timestamptz, deleted_by = ${actor.id}::uuid,
        revision = ${before.revision + 1}, updated_at = ${now.toISOString()}::timestamptz WHERE id = ${id}::uuid`);
    await keepHistory(tx, actor, before, { reason: 'delete', event: 'observation.deleted', payload: { title: before.title, revision: before.revision + 1 } });
  });
  observationsChanged();
}
