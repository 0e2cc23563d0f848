import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { UserActor } from '../accounts/actor.ts';
import { sha256Hex } from '../core/sha256.ts';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf } from '../core/db.ts';
import { AppError, conflict, notFound } from '../core/errors.ts';
import { authorize } from '../core/policy.ts';
import { parseOrThrow } from '../core/validation.ts';
import type { LiveEventView } from './live-events.ts';
import { appendInTransaction } from './live-log.ts';
import { liveRoles, type LiveRole } from './live.schema.ts';
import { requireLiveSession, sessionRef } from './live-session.queries.ts';

const roleSchema = z.enum(liveRoles, { error: 'role must be driver, observer or viewer' });
export const addParticipantSchema = z.object({ email: z.string().trim().toLowerCase().email('give the person\'s email address'), role: roleSchema }).strict();
export const inviteSchema = z.object({ role: roleSchema }).strict();

/** What a participant change did: the stored event to broadcast after commit, and who it concerns. */
export interface ParticipantChange { userId: string; role: LiveRole | null; event: LiveEventView }

async function requireManager(ctx: Ctx, sessionId: string) {
  const actor = requireUser(ctx);
  const session = await requireLiveSession(ctx.db, sessionId);
  authorize(actor, 'live.manage', await sessionRef(ctx.db, session, actor));
  return { actor, session };
}

function requireUser(ctx: Ctx): UserActor {
  if (ctx.actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in to manage a live session.');
  return ctx.actor;
}

/**
 * Adds a person by email with a role, or changes the role of someone already in (a removed person comes back).
 * The owner stays in: their role can change, but not to nothing.
 */
export async function setParticipant(ctx: Ctx, sessionId: string, input: unknown): Promise<ParticipantChange> {
  const { actor, session } = await requireManager(ctx, sessionId);
  const data = parseOrThrow(addParticipantSchema, input, 'The participant');
  return inTransaction(ctx.db, async (tx) => {
    const user = rowsOf<{ id: string; display_name: string }>(await tx.execute(sql`SELECT id, display_name FROM users WHERE lower(email) = ${data.email} AND disabled_at IS NULL`))[0];
    if (!user) throw new AppError('validation_failed', `Nobody with the email ${data.email} has an account here: invite them with a link instead.`, { fields: { email: 'no account with this email' } });
    const at = ctx.now();
    await tx.execute(sql`INSERT INTO live_participants (session_id, user_id, role, added_by, added_at) VALUES (${session.id}::uuid, ${user.id}::uuid, ${data.role}, ${actor.id}::uuid, ${at.toISOString()}::timestamptz)
      ON CONFLICT (session_id, user_id) DO UPDATE SET role = EXCLUDED.role, removed_at = NULL`);
    const event = await appendInTransaction(tx, session.id, 'participant.added', actor.id, { userId: user.id, role: data.role, displayName: user.display_name }, at);
    return { userId: user.id, role: data.role, event };
  });
}

/** Removes a participant: they lose the session at once (the socket layer drops them from its room). */
export async function removeParticipant(ctx: Ctx, sessionId: string, userId: string): Promise<ParticipantChange> {
  const { actor, session } = await requireManager(ctx, sessionId);
  if (userId === session.createdBy) throw conflict('The owner cannot be removed from their own session.');
  return inTransaction(ctx.db, async (tx) => {
    const row = rowsOf<{ display_name: string }>(
      await tx.execute(sql`UPDATE live_participants p SET removed_at = ${ctx.now().toISOString()}::timestamptz FROM users u
        WHERE p.session_id = ${session.id}::uuid AND p.user_id = ${userId}::uuid AND p.removed_at IS NULL AND u.id = p.user_id RETURNING u.display_name`),
    )[0];
    if (!row) throw notFound('That participant');
    const event = await appendInTransaction(tx, session.id, 'participant.removed', actor.id, { userId, displayName: row.display_name }, ctx.now());
    return { userId, role: null, event };
  });
}

/** Makes an invitation link for a role; the token is shown once and stored hashed. */
export async function createInvite(ctx: Ctx, sessionId: string, input: unknown): Promise<{ id: string; token: string; role: LiveRole }> {
  const { actor, session } = await requireManager(ctx, sessionId);
  const { role } = parseOrThrow(inviteSchema, input, 'The invitation');
  if (session.status !== 'open') throw conflict('This session has ended: nobody can join it any more.');
  const token = randomBytes(24).toString('base64url');
  const id = rowsOf<{ id: string }>(
    await ctx.db.execute(sql`INSERT INTO live_invites (session_id, role, token_hash, created_by, created_at)
      VALUES (${session.id}::uuid, ${role}, ${sha256Hex(token)}, ${actor.id}::uuid, ${ctx.now().toISOString()}::timestamptz) RETURNING id`),
  )[0]!.id;
  return { id, token, role };
}

export async function revokeInvite(ctx: Ctx, sessionId: string, inviteId: string): Promise<void> {
  await requireManager(ctx, sessionId);
  const done = rowsOf(
    await ctx.db.execute(sql`UPDATE live_invites SET revoked_at = ${ctx.now().toISOString()}::timestamptz
      WHERE id = ${inviteId}::uuid AND session_id = ${sessionId}::uuid AND revoked_at IS NULL RETURNING id`),
  );
  if (done.length === 0) throw notFound('That invitation');
}

export async function listInvites(ctx: Ctx, sessionId: string): Promise<Array<{ id: string; role: LiveRole; createdAt: string }>> {
  await requireManager(ctx, sessionId);
  return rowsOf(await ctx.db.execute(sql`SELECT id, role, created_at AS "createdAt" FROM live_invites WHERE session_id = ${sessionId}::uuid AND revoked_at IS NULL ORDER BY created_at`));
}

/**
 * Accepts an invitation: the signed-in person joins with the link's role. Someone already in keeps the stronger
 * of the two roles they could have (a driver following an observer link stays driver); a removed person is
 * not let back in by an old link (the owner removed them on purpose).
 */
export async function acceptInvite(ctx: Ctx, token: string): Promise<{ sessionId: string; role: LiveRole; change: ParticipantChange | null }> {
  if (ctx.actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in (or sign up) to join this live session.');
  const actor = ctx.actor;
  return inTransaction(ctx.db, async (tx) => {
    const invite = rowsOf<{ session_id: string; role: LiveRole; status: string }>(
      await tx.execute(sql`SELECT i.session_id, i.role, s.status FROM live_invites i JOIN live_sessions s ON s.id = i.session_id
        WHERE i.token_hash = ${sha256Hex(token)} AND i.revoked_at IS NULL`),
    )[0];
    if (!invite) throw notFound('That invitation (it may have been revoked)');
    if (invite.status !== 'open') throw conflict('This session has ended: nobody can join it any more.');
    const existing = rowsOf<{ role: LiveRole; removed_at: string | null }>(
      await tx.execute(sql`SELECT role, removed_at FROM live_participants WHERE session_id = ${invite.session_id}::uuid AND user_id = ${actor.id}::uuid FOR UPDATE`),
    )[0];
    if (existing?.removed_at) throw new AppError('forbidden', 'You were removed from this session; ask its owner to add you again.');
    if (existing) return { sessionId: invite.session_id, role: existing.role, change: null };
    const at = ctx.now();
    await tx.execute(sql`INSERT INTO live_participants (session_id, user_id, role, added_at) VALUES (${invite.session_id}::uuid, ${actor.id}::uuid, ${invite.role}, ${at.toISOString()}::timestamptz)`);
    const event = await appendInTransaction(tx, invite.session_id, 'participant.added', actor.id, { userId: actor.id, role: invite.role, displayName: actor.displayName }, at);
    return { sessionId: invite.session_id, role: invite.role, change: { userId: actor.id, role: invite.role, event } };
  });
}
