import { randomBytes } from 'node:crypto';
import { eq, lt } from 'drizzle-orm';
import type { Db } from '../core/db.ts';
import { sha256Hex } from '../core/sha256.ts';
import { sessions, users } from './account.schema.ts';
import type { UserActor } from './actor.ts';

/** Starts a browser session; returns the cookie value (only its hash is stored). */
export async function createSession(db: Db, userId: string, now: Date, days: number): Promise<{ cookie: string; expiresAt: Date }> {
  const cookie = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + days * 86_400_000);
  await db.insert(sessions).values({ idHash: sha256Hex(cookie), userId, csrfSecret: randomBytes(24).toString('base64url'), expiresAt });
  return { cookie, expiresAt };
}

export type SessionLookup =
  | { state: 'active'; actor: UserActor; csrfSecret: string; expiresAt: Date }
  | { state: 'expired' }
  | { state: 'unknown' };

/** Resolves a session cookie; slides the expiry forward when more than a day has passed since it was set. */
export async function resolveSession(db: Db, cookie: string, now: Date, days: number): Promise<SessionLookup> {
  const idHash = sha256Hex(cookie);
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.idHash, idHash));
  if (!row || row.user.disabledAt) return { state: 'unknown' };
  if (row.session.expiresAt.getTime() <= now.getTime()) return { state: 'expired' };
  let expiresAt = row.session.expiresAt;
  const fresh = new Date(now.getTime() + days * 86_400_000);
  if (fresh.getTime() - expiresAt.getTime() > 86_400_000) {
    await db.update(sessions).set({ expiresAt: fresh }).where(eq(sessions.idHash, idHash));
    expiresAt = fresh;
  }
  const u = row.user;
  return {
    state: 'active',
    actor: { kind: 'user', id: u.id, role: u.role, email: u.email, displayName: u.displayName, via: 'session' },
    csrfSecret: row.session.csrfSecret,
    expiresAt,
  };
}

export async function endSession(db: Db, cookie: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, sha256Hex(cookie)));
}

/** Removes expired sessions; run at boot and from time to time. */
export async function purgeExpiredSessions(db: Db, now: Date): Promise<void> {
  await db.delete(sessions).where(lt(sessions.expiresAt, now));
}
