import { sql } from 'drizzle-orm';
import type { UserActor } from '../../accounts/actor.ts';
import type { Db } from '../../core/db.ts';
import { rowsOf } from '../../core/db.ts';
import { conflict, notFound } from '../../core/errors.ts';
import { recordEvent, recordRevision } from '../../core/history.ts';

/** A coding row as a review locks it (the whole row: it becomes the revision's snapshot). */
export type ProposalRow = Record<string, unknown> & {
  id: string;
  observation_id: string;
  ethogram_version_id: string;
  behaviour_id: string;
  status: 'proposed' | 'accepted' | 'rejected';
  revision: number;
  withdrawn_at: unknown;
  reviewed_by: string | null;
  reviewed_at: string | Date | null;
  observation_deleted_at: unknown;
};

/**
 * Locks a coding for a review decision and checks it is still a proposal. Two reviewers deciding at once are
 * serialised by the row lock: the second finds it decided and is told by whom and when (409), so no decision
 * is silently overwritten.
 */
export async function lockProposal(tx: Db, codingId: string): Promise<ProposalRow> {
  const row = rowsOf<ProposalRow>(
    await tx.execute(sql`SELECT c.*, o.deleted_at AS observation_deleted_at
      FROM codings c JOIN observations o ON o.id = c.observation_id
      WHERE c.id = ${codingId}::uuid FOR UPDATE OF c`),
  )[0];
  if (!row || row.observation_deleted_at) throw notFound('That coding');
  if (row.withdrawn_at) throw conflict('This coding has been withdrawn, so there is nothing to review.', { codingId, state: 'withdrawn' });
  if (row.status !== 'proposed') {
    // Read after the lock: a reviewer who waited for it must be told who decided in the meantime.
    const reviewer = row.reviewed_by
      ? rowsOf<{ display_name: string }>(await tx.execute(sql`SELECT display_name FROM users WHERE id = ${row.reviewed_by}::uuid`))[0]
      : undefined;
    const by = reviewer ? ` by ${reviewer.display_name}` : '';
    const at = row.reviewed_at ? ` at ${new Date(row.reviewed_at).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
    const what = row.reviewed_by ? `was already ${row.status}${by}${at}` : `is not a proposal (it is ${row.status})`;
    throw conflict(`This coding ${what}; reload to see the current queue.`, { codingId, state: row.status, reviewedBy: row.reviewed_by });
  }
  return row;
}

/** The row as kept in a revision: without the joined columns. */
export function proposalSnapshot(row: ProposalRow): Record<string, unknown> {
  const { observation_deleted_at: _d, ...coding } = row;
  return coding;
}

/**
 * Keeps the proposal as it was (a revision) and records the decision's event, in the caller's transaction.
 * The revision is what lets agreement figures compare a classifier's original proposal with the reviewed coding.
 */
export async function keepDecision(
  tx: Db,
  actor: UserActor,
  row: ProposalRow,
  decision: { reason: string; event: string; payload?: Record<string, unknown> },
): Promise<void> {
  await recordRevision(tx, { entityType: 'coding', entityId: row.id, revision: row.revision, snapshot: proposalSnapshot(row), actorId: actor.id, reason: decision.reason });
  await recordEvent(tx, {
    type: decision.event,
    entityType: 'coding',
    entityId: row.id,
    actorId: actor.id,
    payload: { observationId: row.observation_id, ...decision.payload },
  });
}

/** An accepted coding codes its observation: a submitted or triaged observation moves to "coded" (as a researcher's own coding does). */
export async function markObservationCoded(tx: Db, observationId: string, now: Date): Promise<void> {
  await tx.execute(sql`UPDATE observations SET status = 'coded', updated_at = ${now.toISOString()}::timestamptz
    WHERE id = ${observationId}::uuid AND status IN ('submitted', 'triaged')`);
}
