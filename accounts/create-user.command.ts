import { sql } from 'drizzle-orm';
import { AppError } from '../core/errors.ts';
import { inTransaction } from '../core/db.ts';
import { recordEvent } from '../core/history.ts';
import type { Ctx } from '../core/context.ts';
import { users, type Role } from './account.schema.ts';
import { hashPassword } from './password.ts';

export interface CreatedUser { id: string; email: string; displayName: string; role: Role }

/**
 * Creates an account. The first account on a fresh instance becomes admin; an advisory lock makes that
 * decision safe when two people sign up at once.
 */
export async function createUser(
  ctx: Ctx,
  input: { email: string; password: string; displayName: string; role?: Role },
): Promise<CreatedUser> {
  const passwordHash = await hashPassword(input.password);
  return inTransaction(ctx.db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7301)`);
    const existing = await tx.select({ id: users.id }).from(users).where(sql`lower(${users.email}) = ${input.email.toLowerCase()}`);
    if (existing.length > 0) {
      throw new AppError('conflict', 'An account with that email already exists. Sign in instead.', { fields: { email: 'This email is already registered.' } });
    }
    const [{ count }] = (await tx.select({ count: sql<number>`count(*)::int` }).from(users)) as [{ count: number }];
    const role: Role = count === 0 ? 'admin' : (input.role ?? 'contributor');
    const [user] = await tx
      .insert(users)
      .values({ email: input.email.toLowerCase(), displayName: input.displayName, passwordHash, role })
      .returning({ id: users.id, email: users.email, displayName: users.displayName, role: users.role });
    await recordEvent(tx, {
      type: 'user.created',
      entityType: 'user',
      entityId: user!.id,
      actorId: ctx.actor.kind === 'user' ? ctx.actor.id : user!.id,
      payload: { role },
    });
    return user!;
  });
}
