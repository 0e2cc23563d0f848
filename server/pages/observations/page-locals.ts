import type { Request, Response } from 'express';
import type { AppDeps } from '../../app-deps.ts';
import { csrfToken } from '../../http/middleware/csrf.ts';

/**
 * The layout's locals (who is signed in, the CSRF token) for pages rendered in answer to a POST: the app sets
 * them only for GET requests, and a form that failed validation is rendered again from its POST.
 */
export function preparePageLocals(req: Request, res: Response, deps: AppDeps): void {
  const actor = req.auth.actor;
  res.locals.csrfToken = csrfToken(req, res, deps);
  res.locals.actor = actor;
  res.locals.signedIn = actor.kind === 'user';
  res.locals.currentPath = req.path;
  res.locals.isResearcher = actor.kind === 'user' && actor.role !== 'contributor';
  res.locals.isAdmin = actor.kind === 'user' && actor.role === 'admin';
}
