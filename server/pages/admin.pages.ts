import express, { type Router } from 'express';
import { z } from 'zod';
import { roles } from '../../accounts/account.schema.ts';
import { roleSchema } from '../../accounts/account.validation.ts';
import { setRole } from '../../accounts/set-role.command.ts';
import { listUsers } from '../../accounts/user.queries.ts';
import { authorize } from '../../core/policy.ts';
import { parseOrThrow } from '../../core/validation.ts';
import type { AppDeps } from '../app-deps.ts';
import { ctxOf } from '../http/request-context.ts';
import { parseId } from '../http/validate.ts';
import { flash } from './form.ts';

/** Admin: users and their roles. */
export function adminPages(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/admin/users', async (req, res) => {
    authorize(req.auth.actor, 'user.manage');
    res.render('pages/admin-users', { title: 'Users', users: await listUsers(deps.db), roles });
  });

  router.post('/admin/users/:id/role', async (req, res) => {
    authorize(req.auth.actor, 'user.manage');
    const { role } = parseOrThrow(z.object({ role: roleSchema }), req.body ?? {}, 'The role');
    await setRole(ctxOf(req, deps), parseId(req.params.id, 'That user'), role);
    flash(res, `Role changed to ${role}.`);
    res.redirect(303, '/admin/users');
  });

  return router;
}
