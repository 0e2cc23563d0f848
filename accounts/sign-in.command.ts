import { sql } from 'drizzle-orm';
import { AppError } from '../core/errors.ts';
import type { Ctx } from '../core/context.ts';
import { users } from './account.schema.ts';
import { verifyPassword } from './password.ts';

/** Checks an email and password; the same message for an unknown email and a wrong password. */
export async function signIn(ctx: Ctx, input: { email: string; password: string }): Promise<{ id: string }> {
  const [user] = await ctx.db.select().from(users).where(sql`lower(${users.email}) = ${input.email.toLowerCase()}`);
  const ok = user ? await verifyPassword(input.password, user.passwordHash) : false;
  if (!user || !ok || user.disabledAt) {
    throw new AppError('unauthenticated', 'That email and password do not match an account.', { fields: { password: 'Email or password is wrong.' } });
  }
  return { id: user.id };
}
