import type { NextFunction, Request, Response } from 'express';
import { anonymous } from '../../../accounts/actor.ts';
import { resolveApiToken } from '../../../accounts/api-tokens.ts';
import { resolveSession } from '../../../accounts/sessions.ts';
import { AppError } from '../../../core/errors.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ANON_COOKIE, clearCookie, readCookies, SESSION_COOKIE } from '../cookies.ts';

/**
 * Resolves who is acting: a Bearer token (API), else the session cookie (browser), else anonymous.
 * A revoked or unknown token is an error at once; an expired session falls back to anonymous and is flagged,
 * so pages can ask the person to sign in again and the API can answer `session_expired`.
 */
export function authenticate(deps: AppDeps) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const header = req.headers.authorization;
      if (header) {
        const match = /^Bearer\s+(\S+)$/i.exec(header);
        if (!match) throw new AppError('unauthenticated', 'The Authorization header must be "Bearer <token>".');
        const lookup = await resolveApiToken(deps.db, match[1]!, deps.now());
        if (lookup.state === 'revoked') throw new AppError('token_revoked', 'This API token has been revoked. Create a new one on your account page.');
        if (lookup.state === 'unknown') throw new AppError('unauthenticated', 'This API token is not valid.');
        req.auth = { actor: lookup.actor, via: 'token', csrfBasis: null, sessionExpired: false };
        return next();
      }
      const cookies = readCookies(req);
      const sessionCookie = cookies[SESSION_COOKIE];
      if (sessionCookie) {
        const lookup = await resolveSession(deps.db, sessionCookie, deps.now(), deps.config.sessionDays);
        if (lookup.state === 'active') {
          req.auth = { actor: lookup.actor, via: 'session', csrfBasis: lookup.csrfSecret, sessionExpired: false };
          return next();
        }
        clearCookie(res, SESSION_COOKIE, secureCookies(deps));
        req.auth = { actor: anonymous, via: 'none', csrfBasis: cookies[ANON_COOKIE] ?? null, sessionExpired: lookup.state === 'expired' };
        return next();
      }
      req.auth = { actor: anonymous, via: 'none', csrfBasis: cookies[ANON_COOKIE] ?? null, sessionExpired: false };
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function secureCookies(deps: AppDeps): boolean {
  return deps.config.secureCookies ?? false;
}
