import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../../core/errors.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ANON_COOKIE, setCookie } from '../cookies.ts';
import { secureCookies } from './authenticate.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function tokenFor(secret: string, basis: string): string {
  return createHmac('sha256', secret).update(basis).digest('base64url');
}

/**
 * The CSRF token for this request's forms. Signed-in visitors' tokens derive from their session's secret;
 * anonymous visitors (sign-up, sign-in forms) get a random cookie to derive from.
 */
export function csrfToken(req: Request, res: Response, deps: AppDeps): string {
  if (!req.auth.csrfBasis) {
    const basis = randomBytes(18).toString('base64url');
    setCookie(res, ANON_COOKIE, basis, { secure: secureCookies(deps) });
    req.auth.csrfBasis = basis;
  }
  return tokenFor(deps.secret, req.auth.csrfBasis);
}

/**
 * Every unsafe request made with browser credentials must carry the token, in the `_csrf` form field or the
 * `X-CSRF-Token` header. Requests authenticated by a Bearer token carry no ambient credentials and skip it.
 */
export function verifyCsrf(deps: AppDeps) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (SAFE.has(req.method) || req.auth.via === 'token') return next();
    // An API call with no session carries no ambient credentials: there is nothing to forge, and the
    // route's own authorization answers it. Forms (sign-in and sign-up included) are always checked.
    if (req.path.startsWith('/api/') && req.auth.via !== 'session') return next();
    const sent = (typeof req.body?._csrf === 'string' ? req.body._csrf : undefined) ?? req.get('x-csrf-token');
    const basis = req.auth.csrfBasis;
    if (!sent || !basis) {
      if (req.auth.sessionExpired) return next(new AppError('session_expired', 'Your session has expired. Sign in again; your input was not saved.'));
      return next(new AppError('csrf_failed', 'This form has expired or did not come from this site. Reload the page and try again.'));
    }
    const expected = Buffer.from(tokenFor(deps.secret, basis));
    const actual = Buffer.from(String(sent));
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      return next(new AppError('csrf_failed', 'This form has expired or did not come from this site. Reload the page and try again.'));
    }
    next();
  };
}
