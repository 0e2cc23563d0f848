import type { Db } from './db.ts';
import { events, revisions } from './core.schema.ts';

export interface EventInput {
  type: string;
  entityType: string;
  entityId: string;
  actorId: string | null;
  payload?: Record<string, unknown>;
}

/** Appends a domain event; call inside the transaction that made the change. */
export async function recordEvent(tx: Db, event: EventInput): Promise<void> {
  await tx.insert(events).values({ ...event, payload: event.payload ?? {} });
}

/** Keeps the state an entity had before an edit or deletion. */
export async function recordRevision(
  tx: Db,
  rev: { entityType: string; entityId: string; revision: number; snapshot: object; actorId: string | null; reason: string },
): Promise<void> {
  await tx.insert(revisions).values({ ...rev, snapshot: rev.snapshot as Record<string, unknown> });
}
