import { sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction, rowsOf } from '../../core/db.ts';
import { conflict, notFound } from '../../core/errors.ts';
import { recordEvent, recordRevision } from '../../core/history.ts';
import { getCoding } from '../observation.queries.ts';
import type { CodingView } from '../observation.presenter.ts';
import { requireUser } from '../observation-edit.ts';

/** How long a reviewer can take back their own decision ("u" in the review queue). */
export const UNDO_WINDOW_MS = 15 * 60_000;

const DECISIONS = ['review-accept', 'review-reject', 'review-edit'];

/**
 * Takes back the actor's own review decision, within UNDO_WINDOW_MS and only if nothing changed the coding
 * since: the proposal is restored from the revision the decision kept (status, behaviour, span, modifiers,
 * rationale) and goes back to the queue. The decided state is itself kept as a revision, and an event recorded.
 */
export async function reopenCoding(ctx: Ctx, codingId: string): Promise<CodingView> {
  const actor = requireUser(ctx, 'review codings');
  return inTransaction(ctx.db, async (tx) => {
    const row = rowsOf<Record<string, unknown> & { revision: number; status: string; reviewed_by: string | null; reviewed_at: string | Date | null; withdrawn_at: unknown; observation_id: string }>(
      await tx.execute(sql`SELECT * FROM codings WHERE id = ${codingId}::uuid FOR UPDATE`),
    )[0];
    if (!row) throw notFound('That coding');
    if (row.withdrawn_at) throw conflict('This coding has been withdrawn; its review cannot be undone.');
    if (row.status === 'proposed') throw conflict('This coding is a proposal already: there is no decision to undo.');
    if (row.reviewed_by !== actor.id) throw conflict('Only the reviewer who decided can undo the decision.');
    if (!row.reviewed_at || ctx.now().getTime() - new Date(row.reviewed_at).getTime() > UNDO_WINDOW_MS) {
      throw conflict(`A decision can be undone within ${UNDO_WINDOW_MS / 60_000} minutes; this one is older.`);
    }
    const kept = rowsOf<{ reason: string; snapshot: Record<string, unknown> | string }>(
      await tx.execute(sql`SELECT reason, snapshot FROM revisions WHERE entity_type = 'coding' AND entity_id = ${codingId} AND revision = ${row.revision - 1}
        ORDER BY id DESC LIMIT 1`),
    )[0];
    if (!kept || !DECISIONS.includes(kept.reason)) throw conflict('This coding changed after the decision, so the decision cannot be undone.');
    const before = typeof kept.snapshot === 'string' ? (JSON.parse(kept.snapshot) as Record<string, unknown>) : kept.snapshot;
    await recordRevision(tx, { entityType: 'coding', entityId: codingId, revision: row.revision, snapshot: row, actorId: actor.id, reason: 'review-undo' });
    await tx.execute(sql`UPDATE codings SET status = 'proposed', reviewed_by = NULL, reviewed_at = NULL,
        behaviour_id = ${before.behaviour_id as string}::uuid, message_id = ${(before.message_id as string | null) ?? null},
        part_index = ${(before.part_index as number | null) ?? null}, char_start = ${(before.char_start as number | null) ?? null},
        char_end = ${(before.char_end as number | null) ?? null}, quote = ${(before.quote as string | null) ?? null},
        modifiers = ${JSON.stringify(before.modifiers ?? {})}::jsonb, rationale = ${(before.rationale as string) ?? ''},
        revision = revision + 1
      WHERE id = ${codingId}::uuid`);
    await recordEvent(tx, { type: 'coding.reopened', entityType: 'coding', entityId: codingId, actorId: actor.id, payload: { observationId: row.observation_id, undid: kept.reason } });
    const view = await getCoding(tx, codingId);
    if (!view) throw notFound('That coding');
    return view;
  });
}
