import { eq } from 'drizzle-orm';
import type { Actor } from '../accounts/actor.ts';
import type { Ctx } from '../core/context.ts';
import type { Db } from '../core/db.ts';
import { AppError, conflict, notFound } from '../core/errors.ts';
import { recordRevision } from '../core/history.ts';
import { ethogramVersions } from './ethogram.schema.ts';
import type { BehaviourRow, VersionRow } from './version-document.ts';

/** The user id to store as the author of a change; null for the system (the starter loader). */
export function actorIdOf(actor: Actor): string | null {
  return actor.kind === 'user' ? actor.id : null;
}

/** The error for any change to a published or deprecated version: they are the record codings rely on. */
export function immutableVersion(version: Pick<VersionRow, 'number' | 'status'>): AppError {
  return new AppError(
    'immutable',
    `Version ${version.number} is ${version.status} and cannot be changed: codings rely on it staying as it is. Create a new draft to make changes.`,
    { status: version.status, version: version.number },
  );
}

/**
 * Loads a draft for an edit inside the transaction, locking its row so concurrent edits queue up. Refuses
 * published and deprecated versions (`immutable`) and, when the editor says which revision they saw, a draft
 * that has changed since (`conflict`), so nobody overwrites an edit they never saw.
 */
export async function lockDraft(tx: Db, versionId: string, expectedRevision?: number): Promise<VersionRow> {
  const [version] = await tx.select().from(ethogramVersions).where(eq(ethogramVersions.id, versionId)).for('update');
  if (!version) throw notFound('That ethogram version');
  if (version.status !== 'draft') throw immutableVersion(version);
  if (expectedRevision !== undefined && expectedRevision !== version.revision) {
    throw conflict(
      `This draft has changed since you loaded it (you saw revision ${expectedRevision}; it is now at ${version.revision}). Reload it and make your change again.`,
      { revision: version.revision },
    );
  }
  return version;
}

/** The part of a version a meta edit changes, as kept in its revisions. */
export function versionSnapshot(version: VersionRow): Record<string, unknown> {
  return {
    number: version.number,
    status: version.status,
    notes: version.notes,
    categories: version.categories,
    modifierSets: version.modifierSets,
    exclusiveGroups: version.exclusiveGroups,
    migrations: version.migrations,
    revision: version.revision,
  };
}

/**
 * Keeps the state before a draft edit and moves the draft to its next revision: a revision of the version
 * (its notes and lists) on every edit, plus one of the behaviour when an existing behaviour is changed or
 * deleted (the latter is its tombstone). Call inside the edit's transaction, before writing.
 */
export async function recordDraftEdit(
  tx: Db,
  ctx: Ctx,
  version: VersionRow,
  reason: string,
  behaviourBefore?: BehaviourRow,
): Promise<number> {
  const actorId = actorIdOf(ctx.actor);
  await recordRevision(tx, { entityType: 'ethogram_version', entityId: version.id, revision: version.revision, snapshot: versionSnapshot(version), actorId, reason });
  if (behaviourBefore) {
    await recordRevision(tx, { entityType: 'behaviour', entityId: behaviourBefore.id, revision: version.revision, snapshot: behaviourBefore, actorId, reason });
  }
  const next = version.revision + 1;
  await tx.update(ethogramVersions).set({ revision: next }).where(eq(ethogramVersions.id, version.id));
  return next;
}

/** True when a database error (from either driver, possibly wrapped by Drizzle) is a unique-key violation. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === '23505') return true;
  }
  return false;
}
