import type { Request } from 'express';
import type { Actor } from '../../accounts/actor.ts';
import type { Ctx } from '../../core/context.ts';
import type { AppDeps } from '../app-deps.ts';

/** What the auth middleware learned about a request. */
export interface RequestAuth {
  actor: Actor;
  via: 'session' | 'token' | 'none';
  /** The value CSRF tokens are derived from: the session's secret, or the anonymous visitor's cookie. */
  csrfBasis: string | null;
  /** Set when the visitor sent a session cookie that has expired, so pages can say so. */
  sessionExpired: boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    auth: RequestAuth;
    /** The raw body text of JSON requests (kept for raw payload hashing and idempotency). */
    rawBody?: string;
  }
}

/** The command context for a request: the app's database, the request's actor, the app's clock. */
export function ctxOf(req: Request, deps: AppDeps): Ctx {
  return { db: deps.db, actor: req.auth.actor, now: deps.now };
}
