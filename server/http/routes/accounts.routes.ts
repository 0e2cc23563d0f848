import express, { type Router } from 'express';
import { z } from 'zod';
import { createApiToken, listApiTokens, revokeApiToken } from '../../../accounts/api-tokens.ts';
import { roleSchema, tokenNameSchema } from '../../../accounts/account.validation.ts';
import type { UserActor } from '../../../accounts/actor.ts';
import { setRole } from '../../../accounts/set-role.command.ts';
import { findUserById, listUsers } from '../../../accounts/user.queries.ts';
import { authorize } from '../../../core/policy.ts';
import { notFound } from '../../../core/errors.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

/** Accounts: who am I, personal API tokens, users and roles (admin). */
export function accountsApi(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/me', (req, res) => {
    authorize(req.auth.actor, 'token.manage');
    const a = req.auth.actor as UserActor;
    res.json({ id: a.id, email: a.email, displayName: a.displayName, role: a.role, via: req.auth.via });
  });

  router.get('/tokens', async (req, res) => {
    authorize(req.auth.actor, 'token.manage');
    res.json({ data: await listApiTokens(deps.db, (req.auth.actor as UserActor).id) });
  });

  router.post('/tokens', async (req, res) => {
    authorize(req.auth.actor, 'token.manage');
    const { name } = parseOrThrow(z.object({ name: tokenNameSchema }).strict(), req.body ?? {}, 'The token');
    const created = await createApiToken(deps.db, (req.auth.actor as UserActor).id, name);
    res.status(201).json({ id: created.id, name, prefix: created.prefix, token: created.token });
  });

  router.delete('/tokens/:id', async (req, res) => {
    authorize(req.auth.actor, 'token.manage');
    await revokeApiToken(deps.db, req.auth.actor as UserActor, parseId(req.params.id, 'That token'), deps.now());
    res.status(204).end();
  });

  router.get('/users', async (req, res) => {
    authorize(req.auth.actor, 'user.manage');
    res.json({ data: await listUsers(deps.db) });
  });

  router.patch('/users/:id', async (req, res) => {
    authorize(req.auth.actor, 'user.manage');
    const id = parseId(req.params.id, 'That user');
    const { role } = parseOrThrow(z.object({ role: roleSchema }).strict(), req.body ?? {}, 'The change');
    await setRole(ctxOf(req, deps), id, role);
    const user = await findUserById(deps.db, id);
    if (!user) throw notFound('That user');
    res.json(user);
  });

  return router;
}
