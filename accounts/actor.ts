import type { Role } from './account.schema.ts';

/** Who is acting: a signed-in person (via browser session or API token) or an anonymous visitor. */
export type Actor =
  | { kind: 'anonymous' }
  | { kind: 'user'; id: string; role: Role; email: string; displayName: string; via: 'session' | 'token' | 'system' };

export type UserActor = Extract<Actor, { kind: 'user' }>;

export const anonymous: Actor = { kind: 'anonymous' };

export const roleRank: Record<Role, number> = { contributor: 1, researcher: 2, admin: 3 };

export function hasRole(actor: Actor, role: Role): actor is UserActor {
  return actor.kind === 'user' && roleRank[actor.role] >= roleRank[role];
}
