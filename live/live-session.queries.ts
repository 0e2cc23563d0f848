import { sql } from 'drizzle-orm';
import type { UserActor } from '../accounts/actor.ts';
import { sha256Hex } from '../core/sha256.ts';
import { rowsOf, type Db } from '../core/db.ts';
import { AppError, notFound } from '../core/errors.ts';
import { can, type LiveSessionRef } from '../core/policy.ts';
import type { LiveEventView } from './live-events.ts';
import type { LiveRole, LiveSessionStatus } from './live.schema.ts';
import type { LiveTarget } from './live-target.ts';

export interface LiveSessionRow {
  id: string;
  title: string;
  ethogramVersionId: string;
  target: LiveTarget;
  blind: boolean;
  status: LiveSessionStatus;
  createdBy: string;
  createdAt: string;
  endedAt: string | null;
  lastSeq: number;
  observationId: string | null;
}

export interface ParticipantRow { userId: string; displayName: string; role: LiveRole; removedAt: string | null }

export async function findLiveSession(db: Db, id: string): Promise<LiveSessionRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  return rowsOf<LiveSessionRow>(
    await db.execute(sql`SELECT id, title, ethogram_version_id AS "ethogramVersionId", target, blind, status, created_by AS "createdBy",
        created_at AS "createdAt", ended_at AS "endedAt", last_seq AS "lastSeq", observation_id AS "observationId"
      FROM live_sessions WHERE id = ${id}::uuid`),
  )[0];
}

export async function requireLiveSession(db: Db, id: string): Promise<LiveSessionRow> {
  const row = await findLiveSession(db, id);
  if (!row) throw notFound('That live session');
  return row;
}

/** Current and removed participants, with their display names, in the order they were added. */
export async function listParticipants(db: Db, sessionId: string): Promise<ParticipantRow[]> {
  return rowsOf<ParticipantRow>(
    await db.execute(sql`SELECT p.user_id AS "userId", u.display_name AS "displayName", p.role, p.removed_at AS "removedAt"
      FROM live_participants p JOIN users u ON u.id = p.user_id WHERE p.session_id = ${sessionId}::uuid ORDER BY p.added_at, u.display_name`),
  );
}

/** The actor's current role in the session (null when not a participant or removed). */
export async function participantRole(db: Db, sessionId: string, userId: string): Promise<LiveRole | null> {
  const row = rowsOf<{ role: LiveRole }>(
    await db.execute(sql`SELECT role FROM live_participants WHERE session_id = ${sessionId}::uuid AND user_id = ${userId}::uuid AND removed_at IS NULL`),
  )[0];
  return row?.role ?? null;
}

/** The session as the authorization policy sees it, for this actor. */
export async function sessionRef(db: Db, session: LiveSessionRow, actor: UserActor | null): Promise<LiveSessionRef> {
  return { createdBy: session.createdBy, status: session.status, role: actor ? await participantRole(db, session.id, actor.id) : null };
}

/** Sessions the person owns or takes part in (admins: all), newest first. */
export async function listLiveSessions(db: Db, actor: UserActor, limit = 100): Promise<Array<LiveSessionRow & { role: LiveRole | null; ownerName: string }>> {
  const all = actor.role === 'admin';
  return rowsOf(
    await db.execute(sql`SELECT s.id, s.title, s.ethogram_version_id AS "ethogramVersionId", s.target, s.blind, s.status, s.created_by AS "createdBy",
        s.created_at AS "createdAt", s.ended_at AS "endedAt", s.last_seq AS "lastSeq", s.observation_id AS "observationId",
        p.role, u.display_name AS "ownerName"
      FROM live_sessions s
      JOIN users u ON u.id = s.created_by
      LEFT JOIN live_participants p ON p.session_id = s.id AND p.user_id = ${actor.id}::uuid AND p.removed_at IS NULL
      WHERE ${all} OR s.created_by = ${actor.id}::uuid OR p.user_id IS NOT NULL
      ORDER BY s.created_at DESC LIMIT ${limit}`),
  );
}

/**
 * The log after `sinceSeq`, in order, as this reader may see it: while a blind session is open, others' codes
 * (and their undos) are left out; once it has ended everyone sees everything.
 */
export async function readLog(db: Db, session: Pick<LiveSessionRow, 'id' | 'blind' | 'status'>, readerId: string | null, sinceSeq = 0, limit = 100_000): Promise<LiveEventView[]> {
  const hideOthers = session.blind && session.status === 'open';
  return rowsOf<LiveEventView>(
    await db.execute(sql`SELECT seq, event_id AS id, type, actor_id AS "actorId", payload, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
      FROM live_events WHERE session_id = ${session.id}::uuid AND seq > ${sinceSeq}
        AND (NOT ${hideOthers} OR type NOT IN ('code', 'undo') OR actor_id = ${readerId}::uuid)
      ORDER BY seq LIMIT ${limit}`),
  );
}

/** Whether a stored event is hidden from other participants while the (blind) session is open. */
export function isPrivateWhileBlind(event: Pick<LiveEventView, 'type'>): boolean {
  return event.type === 'code' || event.type === 'undo';
}

/** An invitation as its link's landing page shows it, before it is accepted (the token is stored hashed). */
export interface InviteLookup { role: LiveRole; sessionId: string; title: string; status: LiveSessionStatus; ownerName: string; createdBy: string }

/** A read for the join page only: acceptInvite (participants.command.ts) does the checks that matter, in its transaction. */
export async function findInvite(db: Db, token: string): Promise<InviteLookup | undefined> {
  return rowsOf<InviteLookup>(
    await db.execute(sql`SELECT i.role, s.id AS "sessionId", s.title, s.status, u.display_name AS "ownerName", s.created_by AS "createdBy"
      FROM live_invites i JOIN live_sessions s ON s.id = i.session_id JOIN users u ON u.id = s.created_by
      WHERE i.token_hash = ${sha256Hex(token)} AND i.revoked_at IS NULL`),
  )[0];
}

/** Whether the person was a participant and has been removed (an old invitation does not let them back in). */
export async function wasRemoved(db: Db, sessionId: string, userId: string): Promise<boolean> {
  return rowsOf(await db.execute(sql`SELECT 1 FROM live_participants WHERE session_id = ${sessionId}::uuid AND user_id = ${userId}::uuid AND removed_at IS NOT NULL`)).length > 0;
}

/**
 * The session and the person's place in it, for the pages that show it: not found, or forbidden (with what to
 * do) for someone who is not in it; admins may look in.
 */
export async function requireSessionAccess(db: Db, actor: UserActor, sessionId: string): Promise<{ session: LiveSessionRow; ref: LiveSessionRef }> {
  const session = await findLiveSession(db, sessionId);
  if (!session) throw notFound('That live session');
  const ref = await sessionRef(db, session, actor);
  if (!can(actor, 'live.join', ref)) throw new AppError('forbidden', 'You are not a participant of this live session: ask its owner for an invitation link.');
  return { session, ref };
}
