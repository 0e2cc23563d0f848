import { sql } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf } from '../core/db.ts';
import { conflict, notFound } from '../core/errors.ts';
import { recordEvent, recordRevision } from '../core/history.ts';
import type { CodingView } from './observation.presenter.ts';
import { requireUser } from './observation-edit.ts';
import { getCoding } from './observation.queries.ts';

/**
 * Withdraws a coding (its coder or an admin; the route authorizes). The row stays, marked withdrawn_at/by, so
 * agreement statistics and history can still account for it; the previous state is kept as a revision.
 */
export async function withdrawCoding(ctx: Ctx, codingId: string): Promise<CodingView> {
  const actor = requireUser(ctx, 'withdraw codings');
  return inTransaction(ctx.db, async (tx) => {
    const row = rowsOf<Record<string, unknown> & { revision: number; withdrawn_at: unknown; observation_id: string }>(
      await tx.execute(sql`SELECT * FROM codings WHERE id = ${codingId}::uuid FOR UPDATE`),
    )[0];
    if (!row) throw notFound('That coding');
    if (row.withdrawn_at) throw conflict('This coding has already been withdrawn.');
    const now = ctx.now();
    await recordRevision(tx, { entityType: 'coding', entityId: codingId, revision: row.revision, snapshot: row, actorId: actor.id, reason: 'withdraw' });
    await tx.execute(sql`UPDATE codings SET withdrawn_at = ${now.toISOString()}::timestamptz, withdrawn_by = ${actor.id}::uuid,
        revision = revision + 1 WHERE id = ${codingId}::uuid`);
    await recordEvent(tx, { type: 'coding.withdrawn', entityType: 'coding', entityId: codingId, actorId: actor.id, payload: { observationId: row.observation_id } });
    const view = await getCoding(tx, codingId);
    if (!view) throw notFound('That coding');
    return view;
  });
}
