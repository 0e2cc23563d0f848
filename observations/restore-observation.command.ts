import { sql } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { notFound } from '../core/errors.ts';
import { presentObservation, type ObservationView } from './observation.presenter.ts';
import { keepHistory, lockObservation, requireUser } from './observation-edit.ts';
import { listCodings, observationsChanged } from './observation.queries.ts';

/** Brings a tombstoned observation back (admins; the route authorizes), keeping a revision and an event. */
export async function restoreObservation(ctx: Ctx, id: string): Promise<ObservationView> {
  const actor = requireUser(ctx, 'restore an observation');
  const result = await inTransaction(ctx.db, async (tx) => {
    const { record: before, submitter } = await lockObservation(tx, id, { allowDeleted: true });
    if (!before.deletedAt) throw notFound('That deleted observation');
    const now = ctx.now();
    const after = { ...before, deletedAt: null, revision: before.revision + 1, updatedAt: now };
    await tx.execute(sql`UPDATE observations SET deleted_at = NULL, deleted_by = NULL, revision = ${after.revision},
        updated_at = ${now.toISOString()}::timestamptz WHERE id = ${id}::uuid`);
    await keepHistory(tx, actor, before, { reason: 'restore', event: 'observation.restored', payload: { revision: after.revision } });
    return presentObservation(after, submitter, await listCodings({ ...ctx, db: tx }, id, { includeWithdrawn: true }));
  });
  observationsChanged();
  return result;
}
