import { sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction } from '../../core/db.ts';
import { conflict } from '../../core/errors.ts';
import { recordEvent, recordRevision } from '../../core/history.ts';
import { requireUser } from '../observation-edit.ts';
import { getAssignment, type AssignmentView } from './assignment.queries.ts';
import { lockAssignment } from './submit-assignment.command.ts';

/**
 * Withdraws an assignment (researchers): the row stays, marked withdrawn, and the coder is no longer blind on
 * the observation (the observation can be assigned to them again). Their codings stay. Withdrawing twice is a 409.
 */
export async function withdrawAssignment(ctx: Ctx, id: string): Promise<AssignmentView> {
  const actor = requireUser(ctx, 'withdraw assignments');
  return inTransaction(ctx.db, async (tx) => {
    const row = await lockAssignment(tx, id);
    if (row.withdrawn_at) throw conflict('This assignment has already been withdrawn.');
    const now = ctx.now();
    await recordRevision(tx, { entityType: 'assignment', entityId: id, revision: row.submitted_at ? 2 : 1, snapshot: row, actorId: actor.id, reason: 'withdraw' });
    await tx.execute(sql`UPDATE coding_assignments SET withdrawn_at = ${now.toISOString()}::timestamptz WHERE id = ${id}::uuid`);
    await recordEvent(tx, { type: 'assignment.withdrawn', entityType: 'assignment', entityId: id, actorId: actor.id, payload: { observationId: row.observation_id, coderId: row.coder_id } });
    return (await getAssignment(tx, id))!;
  });
}
