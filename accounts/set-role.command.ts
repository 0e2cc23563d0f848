import { eq, sql } from 'drizzle-orm';
import { AppError, notFound } from '../core/errors.ts';
import { inTransaction } from '../core/db.ts';
import { recordEvent } from '../core/history.ts';
import type { Ctx } from '../core/context.ts';
import { users, type Role } from './account.schema.ts';
import { clearTokenCache } from './api-tokens.ts';

/** Changes a user's role; refuses to remove the last admin, so the instance can always be managed. */
export async function setRole(ctx: Ctx, userId: string, role: Role): Promise<void> {
  await inTransaction(ctx.db, async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId));
    if (!user) throw notFound('That user');
    if (user.role === role) return;
    if (user.role === 'admin') {
      const [{ admins }] = (await tx.select({ admins: sql<number>`count(*)::int` }).from(users).where(eq(users.role, 'admin'))) as [{ admins: number }];
      if (admins <= 1) throw new AppError('conflict', 'This is the last admin: make another admin first.');
    }
    await tx.update(users).set({ role }).where(eq(users.id, userId));
    await recordEvent(tx, { type: 'user.role_changed', entityType: 'user', entityId: userId, actorId: ctx.actor.kind === 'user' ? ctx.actor.id : null, payload: { from: user.role, to: role } });
  });
  clearTokenCache();
}
