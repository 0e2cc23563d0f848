import { randomBytes } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../core/db.ts';
import { notFound } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { inTransaction } from '../core/db.ts';
import { apiTokens, users } from './account.schema.ts';
import type { UserActor } from './actor.ts';
import { sha256Hex } from '../core/sha256.ts';

const TOKEN_PREFIX = 'mng_';

/** Issues a personal API token; the plain value is returned once and never stored. */
export async function createApiToken(db: Db, userId: string, name: string): Promise<{ id: string; token: string; prefix: string }> {
  const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
  const prefix = token.slice(0, 10);
  return inTransaction(db, async (tx) => {
    const [row] = await tx.insert(apiTokens).values({ userId, name, tokenHash: sha256Hex(token), prefix }).returning({ id: apiTokens.id });
    await recordEvent(tx, { type: 'token.created', entityType: 'api_token', entityId: row!.id, actorId: userId, payload: { name, prefix } });
    return { id: row!.id, token, prefix };
  });
}

export async function listApiTokens(db: Db, userId: string) {
  return db
    .select({ id: apiTokens.id, name: apiTokens.name, prefix: apiTokens.prefix, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt, revokedAt: apiTokens.revokedAt })
    .from(apiTokens)
    .where(eq(apiTokens.userId, userId))
    .orderBy(desc(apiTokens.createdAt));
}

/** Revokes one of the user's tokens (admins may revoke anyone's). */
export async function revokeApiToken(db: Db, actor: UserActor, tokenId: string, now: Date): Promise<void> {
  await inTransaction(db, async (tx) => {
    const [row] = await tx.select().from(apiTokens).where(eq(apiTokens.id, tokenId));
    if (!row || (row.userId !== actor.id && actor.role !== 'admin')) throw notFound('That token');
    if (!row.revokedAt) {
      await tx.update(apiTokens).set({ revokedAt: now }).where(eq(apiTokens.id, tokenId));
      await recordEvent(tx, { type: 'token.revoked', entityType: 'api_token', entityId: tokenId, actorId: actor.id });
    }
  });
  tokenCache.clear();
}

export type TokenLookup = { state: 'active'; actor: UserActor } | { state: 'revoked' } | { state: 'unknown' };

// Token checks sit on the hot path of every API call: cache resolved tokens briefly. Revocation clears the
// cache in this process; other processes see it within the TTL.
const TOKEN_TTL_MS = 10_000;
const tokenCache = new Map<string, { at: number; lookup: TokenLookup & { id?: string } }>();

export async function resolveApiToken(db: Db, token: string, now: Date): Promise<TokenLookup> {
  const hash = sha256Hex(token);
  const cached = tokenCache.get(hash);
  if (cached && now.getTime() - cached.at < TOKEN_TTL_MS) return cached.lookup;
  const [row] = await db
    .select({ token: apiTokens, user: users })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenHash, hash));
  let lookup: TokenLookup;
  if (!row || row.user.disabledAt) lookup = { state: 'unknown' };
  else if (row.token.revokedAt) lookup = { state: 'revoked' };
  else {
    const u = row.user;
    lookup = { state: 'active', actor: { kind: 'user', id: u.id, role: u.role, email: u.email, displayName: u.displayName, via: 'token' } };
    await db.update(apiTokens).set({ lastUsedAt: now }).where(and(eq(apiTokens.id, row.token.id), isNull(apiTokens.revokedAt)));
  }
  if (tokenCache.size > 10_000) tokenCache.clear();
  tokenCache.set(hash, { at: now.getTime(), lookup });
  return lookup;
}

/** Forgets cached token lookups (after role changes and revocations). */
export function clearTokenCache(): void {
  tokenCache.clear();
}
