import { AppError, notFound } from '../core/errors.ts';
import type { Ctx } from '../core/context.ts';
import type { Db } from '../core/db.ts';
import { recordEvent, recordRevision } from '../core/history.ts';
import type { UserActor } from '../accounts/actor.ts';
import type { ObservationRecord, PersonView } from './observation.presenter.ts';
import { loadObservationRow } from './observation.queries.ts';

/** The signed-in person a write needs (routes authorize first; this guards direct calls). */
export function requireUser(ctx: Ctx, doing = 'do that'): UserActor {
  if (ctx.actor.kind !== 'user') throw new AppError('unauthenticated', `Sign in to ${doing}.`);
  return ctx.actor;
}

/** Locks an observation for an edit; deleted ones are "not found" unless `allowDeleted`. */
export async function lockObservation(tx: Db, id: string, opts: { allowDeleted?: boolean } = {}): Promise<{ record: ObservationRecord; submitter: PersonView }> {
  const loaded = await loadObservationRow(tx, id, { forUpdate: true });
  if (!loaded || (loaded.record.deletedAt && !opts.allowDeleted)) throw notFound('That observation');
  return loaded;
}

/** The state kept in a revision: the whole row as JSON (the raw payload and search vector are not part of it). */
export function snapshotOf(record: ObservationRecord): Record<string, unknown> {
  return {
    ...record,
    observedAt: record.observedAt.toISOString(),
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    deletedAt: record.deletedAt ? record.deletedAt.toISOString() : null,
  };
}

/** Keeps the previous state and records the event of an observation edit, in the caller's transaction. */
export async function keepHistory(
  tx: Db,
  actor: UserActor,
  before: ObservationRecord,
  change: { reason: string; event: string; payload?: Record<string, unknown> },
): Promise<void> {
  await recordRevision(tx, { entityType: 'observation', entityId: before.id, revision: before.revision, snapshot: snapshotOf(before), actorId: actor.id, reason: change.reason });
  await recordEvent(tx, { type: change.event, entityType: 'observation', entityId: before.id, actorId: actor.id, payload: change.payload ?? {} });
}
