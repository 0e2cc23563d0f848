import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf } from '../core/db.ts';
import { invalid } from '../core/errors.ts';
import type { triageSchema } from './observation.input.ts';
import { presentObservation, type ObservationView } from './observation.presenter.ts';
import { keepHistory, lockObservation, requireUser } from './observation-edit.ts';
import { listCodings, observationsChanged } from './observation.queries.ts';

export type TriageInput = z.infer<typeof triageSchema>;

/**
 * Sets an observation's status in the review workflow (submitted -> triaged -> coded -> verified, or rejected,
 * or duplicate of another observation); researchers only (the route authorizes). Keeps a revision and an event.
 */
export async function triageObservation(ctx: Ctx, id: string, input: TriageInput): Promise<ObservationView> {
  const actor = requireUser(ctx, 'triage observations');
  const duplicateOf = input.status === 'duplicate' ? (input.duplicateOf ?? null) : null;
  if (duplicateOf === id) throw invalid('An observation cannot duplicate itself.', { duplicateOf: 'Name a different observation.' });

  const result = await inTransaction(ctx.db, async (tx) => {
    const { record: before, submitter } = await lockObservation(tx, id);
    if (duplicateOf) {
      const target = rowsOf<{ id: string }>(
        await tx.execute(sql`SELECT id FROM observations WHERE id = ${duplicateOf}::uuid AND deleted_at IS NULL`),
      );
      if (target.length === 0) {
        throw invalid('The observation this duplicates was not found.', { duplicateOf: 'No observation has that id (or it was deleted).' });
      }
    }
    const now = ctx.now();
    const after = { ...before, status: input.status, duplicateOf, revision: before.revision + 1, updatedAt: now };
    await tx.execute(sql`UPDATE observations SET status = ${input.status}::observation_status, duplicate_of = ${duplicateOf}::uuid,
        revision = ${after.revision}, updated_at = ${now.toISOString()}::timestamptz WHERE id = ${id}::uuid`);
    await keepHistory(tx, actor, before, {
      reason: 'triage',
      event: 'observation.triaged',
      payload: { from: before.status, to: input.status, duplicateOf, revision: after.revision },
    });
    return presentObservation(after, submitter, await listCodings({ ...ctx, db: tx }, id, { includeWithdrawn: true }));
  });
  observationsChanged();
  return result;
}
