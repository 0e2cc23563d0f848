import express, { type Request, type Response, type Router } from 'express';
import { signInInput, signUpInput } from '../../accounts/account.validation.ts';
import { createSession, endSession } from '../../accounts/sessions.ts';
import { createUser } from '../../accounts/create-user.command.ts';
import { signIn } from '../../accounts/sign-in.command.ts';
import { parseOrThrow } from '../../core/validation.ts';
import type { AppDeps } from '../app-deps.ts';
import { clearCookie, readCookies, SESSION_COOKIE, setCookie } from '../http/cookies.ts';
import { csrfToken } from '../http/middleware/csrf.ts';
import { secureCookies } from '../http/middleware/authenticate.ts';
import { ctxOf } from '../http/request-context.ts';
import { flash, rerenderForm } from './form.ts';

/** Only same-site paths may be redirected to after sign-in. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\') ? value : '/observations';
}

export function authPages(deps: AppDeps): Router {
  const router = express.Router();

  async function startSession(req: Request, res: Response, userId: string) {
    const { cookie, expiresAt } = await createSession(deps.db, userId, deps.now(), deps.config.sessionDays);
    setCookie(res, SESSION_COOKIE, cookie, { secure: secureCookies(deps), maxAgeMs: expiresAt.getTime() - deps.now().getTime() });
    void req;
  }

  router.get('/signup', (req, res) => {
    if (req.auth.actor.kind === 'user') return res.redirect(303, '/observations');
    res.render('pages/signup', { title: 'Sign up', values: {}, next: safeNext(req.query.next) });
  });

  router.post('/signup', async (req, res) => {
    const body = req.body ?? {};
    const values = { email: body.email, displayName: body.displayName };
    try {
      const input = parseOrThrow(signUpInput, body, 'The sign-up form');
      const user = await createUser(ctxOf(req, deps), input);
      await startSession(req, res, user.id);
      flash(res, user.role === 'admin' ? 'Welcome! As the first account here, you are the admin.' : 'Welcome to Menagerie.');
      res.redirect(303, safeNext(body.next));
    } catch (err) {
      res.locals.csrfToken = csrfToken(req, res, deps);
      rerenderForm(res, 'pages/signup', err, { title: 'Sign up', values, next: safeNext(body.next) });
    }
  });

  router.get('/login', (req, res) => {
    if (req.auth.actor.kind === 'user') return res.redirect(303, safeNext(req.query.next));
    res.render('pages/login', {
      title: 'Sign in',
      values: {},
      next: safeNext(req.query.next),
      expired: req.query.expired === '1' || req.auth.sessionExpired,
    });
  });

  router.post('/login', async (req, res) => {
    const body = req.body ?? {};
    try {
      const input = parseOrThrow(signInInput, body, 'The sign-in form');
      const { id } = await signIn(ctxOf(req, deps), input);
      await startSession(req, res, id);
      res.redirect(303, safeNext(body.next));
    } catch (err) {
      res.locals.csrfToken = csrfToken(req, res, deps);
      rerenderForm(res, 'pages/login', err, { title: 'Sign in', values: { email: body.email }, next: safeNext(body.next) });
    }
  });

  router.post('/logout', async (req, res) => {
    const cookie = readCookies(req)[SESSION_COOKIE];
    if (cookie) await endSession(deps.db, cookie);
    clearCookie(res, SESSION_COOKIE, secureCookies(deps));
    res.redirect(303, '/');
  });

  return router;
}
