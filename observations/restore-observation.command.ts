import { sql } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf } from '../core/db.ts';
import { conflict, notFound } from '../core/errors.ts';
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
    // An imported record is held once among live observations (it may have been imported again since).
    if (before.provenance.capture === 'import') {
      const [copy] = rowsOf<{ id: string }>(
        await tx.execute(sql`SELECT id FROM observations WHERE raw_sha256 = ${before.rawSha256} AND deleted_at IS NULL
          AND provenance->>'capture' = 'import' AND id <> ${id}::uuid LIMIT 1`),
      );
      if (copy) {
        throw conflict(`The same imported record was imported again after this observation was deleted (observation ${copy.id}); delete that copy first to restore this one.`, { copyId: copy.id });
      }
    }
    await tx.execute(sql`UPDATE observations SET deleted_at = NULL, deleted_by = NULL, revision = ${after.revision},
        updated_at = ${now.toISOString()}::timestamptz WHERE id = ${id}::uuid`);
    await keepHistory(tx, actor, before, { reason: 'restore', event: 'observation.restored', payload: { revision: after.revision } });
    return presentObservation(after, submitter, await listCodings({ ...ctx, db: tx }, id, { includeWithdrawn: true }));
  });
  observationsChanged();
  return result;
}
