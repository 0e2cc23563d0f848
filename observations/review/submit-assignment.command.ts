import { sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction, rowsOf, type Db } from '../../core/db.ts';
import { conflict, notFound } from '../../core/errors.ts';
import { recordEvent, recordRevision } from '../../core/history.ts';
import { requireUser } from '../observation-edit.ts';
import { getAssignment, type AssignmentView } from './assignment.queries.ts';

type AssignmentRow = Record<string, unknown> & { id: string; observation_id: string; coder_id: string; submitted_at: unknown; withdrawn_at: unknown };

/** Locks an assignment row (for submit and withdraw); unknown ids are 404. */
export async function lockAssignment(tx: Db, id: string): Promise<AssignmentRow> {
  const row = rowsOf<AssignmentRow>(await tx.execute(sql`SELECT * FROM coding_assignments WHERE id = ${id}::uuid FOR UPDATE`))[0];
  if (!row) throw notFound('That assignment');
  return row;
}

/**
 * "Submit my coding": the coder ends their assignment. From then on a blind coder sees others' codings of the
 * observation. The previous state is kept as a revision; a submitted or withdrawn assignment is a 409.
 */
export async function submitAssignment(ctx: Ctx, id: string): Promise<AssignmentView> {
  const actor = requireUser(ctx, 'submit codings');
  return inTransaction(ctx.db, async (tx) => {
    const row = await lockAssignment(tx, id);
    if (row.withdrawn_at) throw conflict('This assignment was withdrawn, so there is nothing to submit.');
    if (row.submitted_at) throw conflict('You have already submitted your coding of this observation.');
    const now = ctx.now();
    await recordRevision(tx, { entityType: 'assignment', entityId: id, revision: 1, snapshot: row, actorId: actor.id, reason: 'submit' });
    await tx.execute(sql`UPDATE coding_assignments SET submitted_at = ${now.toISOString()}::timestamptz WHERE id = ${id}::uuid`);
    await recordEvent(tx, { type: 'assignment.submitted', entityType: 'assignment', entityId: id, actorId: actor.id, payload: { observationId: row.observation_id, coderId: row.coder_id } });
    return (await getAssignment(tx, id))!;
  });
}
