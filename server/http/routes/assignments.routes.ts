import express, { type Router } from 'express';
import { notFound } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { assignmentInputSchema, assignmentListSchema } from '../../../observations/review/assignment.input.ts';
import { getAssignment, listAssignments, listCoders } from '../../../observations/review/assignment.queries.ts';
import { createAssignments } from '../../../observations/review/create-assignments.command.ts';
import { submitAssignment } from '../../../observations/review/submit-assignment.command.ts';
import { withdrawAssignment } from '../../../observations/review/withdraw-assignment.command.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

/**
 * Coding assignments: researchers assign observations to coders (blind by default) and withdraw assignments;
 * a coder lists their own and submits ("Submit my coding"), which ends the blindness.
 */
export function assignmentsApi(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/assignments', async (req, res) => {
    const actor = req.auth.actor;
    if (actor.kind !== 'user') authorize(actor, 'assignment.manage');
    const filters = parseOrThrow(assignmentListSchema, req.query, 'The filters');
    const coderId = filters.coder === 'me' ? actor.kind === 'user' ? actor.id : null : filters.coder === 'all' ? null : filters.coder;
    // Anyone signed in lists their own; other people's (or everyone's) are for researchers.
    if (actor.kind !== 'user' || coderId !== actor.id) authorize(actor, 'assignment.manage');
    res.json({ data: await listAssignments(deps.db, { coderId, state: filters.state, observationId: filters.observationId }) });
  });

  router.get('/assignments/coders', async (req, res) => {
    authorize(req.auth.actor, 'assignment.manage');
    res.json({ data: await listCoders(deps.db) });
  });

  router.post('/assignments', async (req, res) => {
    authorize(req.auth.actor, 'assignment.manage');
    const input = parseOrThrow(assignmentInputSchema, req.body ?? {}, 'The assignment');
    res.status(201).json(await createAssignments(ctxOf(req, deps), input));
  });

  router.get('/assignments/:id', async (req, res) => {
    const id = parseId(req.params.id, 'That assignment');
    const found = await getAssignment(deps.db, id);
    if (!found) throw notFound('That assignment');
    if (!(req.auth.actor.kind === 'user' && req.auth.actor.id === found.coder.id)) authorize(req.auth.actor, 'assignment.manage');
    res.json(found);
  });

  router.post('/assignments/:id/submit', async (req, res) => {
    const id = parseId(req.params.id, 'That assignment');
    const found = await getAssignment(deps.db, id);
    if (!found) throw notFound('That assignment');
    authorize(req.auth.actor, 'assignment.submit', { coderId: found.coder.id });
    res.json(await submitAssignment(ctxOf(req, deps), id));
  });

  router.post('/assignments/:id/withdraw', async (req, res) => {
    const id = parseId(req.params.id, 'That assignment');
    authorize(req.auth.actor, 'assignment.manage');
    const found = await getAssignment(deps.db, id);
    if (!found) throw notFound('That assignment');
    res.json(await withdrawAssignment(ctxOf(req, deps), id));
  });

  return router;
}
