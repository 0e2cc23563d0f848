import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../core/db.ts';
import { users } from './account.schema.ts';

const publicColumns = { id: users.id, email: users.email, displayName: users.displayName, role: users.role, createdAt: users.createdAt };

export const listUsers = (db: Db) => db.select(publicColumns).from(users).orderBy(asc(users.createdAt));

export async function findUserByEmail(db: Db, email: string) {
  const [u] = await db.select(publicColumns).from(users).where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
  return u;
}

export async function findUserById(db: Db, id: string) {
  const [u] = await db.select(publicColumns).from(users).where(eq(users.id, id));
  return u;
}

/** A person as others see them (no email). */
export const presentUser = (u: { id: string; displayName: string; role: string }) => ({ id: u.id, displayName: u.displayName, role: u.role });
