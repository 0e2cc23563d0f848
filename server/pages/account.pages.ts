import express, { type Router } from 'express';
import { z } from 'zod';
import { tokenNameSchema } from '../../accounts/account.validation.ts';
import type { UserActor } from '../../accounts/actor.ts';
import { createApiToken, listApiTokens, revokeApiToken } from '../../accounts/api-tokens.ts';
import { authorize } from '../../core/policy.ts';
import { parseOrThrow } from '../../core/validation.ts';
import type { AppDeps } from '../app-deps.ts';
import { parseId } from '../http/validate.ts';
import { flash, rerenderForm } from './form.ts';

/** The signed-in person's account: API tokens (created, shown once, revoked). */
export function accountPages(deps: AppDeps): Router {
  const router = express.Router();

  const render = async (res: express.Response, user: UserActor, extra: Record<string, unknown> = {}) =>
    res.render('pages/account', { title: 'Your account', user, tokens: await listApiTokens(deps.db, user.id), values: {}, ...extra });

  router.get('/account', async (req, res) => {
    authorize(req.auth.actor, 'token.manage');
    await render(res, req.auth.actor as UserActor);
  });

  router.post('/account/tokens', async (req, res) => {
    authorize(req.auth.actor, 'token.manage');
    const user = req.auth.actor as UserActor;
    try {
      const { name } = parseOrThrow(z.object({ name: tokenNameSchema }), req.body ?? {}, 'The token');
      const created = await createApiToken(deps.db, user.id, name);
      // Shown on this response only: the token is never stored in plain text, so it cannot be shown again.
      res.set('Cache-Control', 'no-store');
      await render(res.status(201), user, { newToken: created.token, newTokenName: name });
    } catch (err) {
      rerenderForm(res, 'pages/account', err, { title: 'Your account', user, tokens: await listApiTokens(deps.db, user.id), values: req.body ?? {} });
    }
  });

  router.post('/account/tokens/:id/revoke', async (req, res) => {
    authorize(req.auth.actor, 'token.manage');
    await revokeApiToken(deps.db, req.auth.actor as UserActor, parseId(req.params.id, 'That token'), deps.now());
    flash(res, 'Token revoked.');
    res.redirect(303, '/account');
  });

  return router;
}
