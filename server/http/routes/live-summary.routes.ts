import express, { type Request, type Router } from 'express';
import type { UserActor } from '../../../accounts/actor.ts';
import { AppError } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { adjudicateLiveSession } from '../../../live/adjudicate-session.command.ts';
import { fileLiveSession } from '../../../live/file-session.command.ts';
import { requireLiveSession, sessionRef } from '../../../live/live-session.queries.ts';
import { loadSummaryForReader } from '../../../live/reader-summary.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { liveHubOf } from '../../realtime/live.realtime.ts';
import { ctxOf } from '../request-context.ts';
import { parseId } from '../validate.ts';

function user(req: Request): UserActor {
  const actor = req.auth.actor;
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in (or send an API token) to use live sessions.');
  return actor;
}

/**
 * The end of a live session as JSON under /api/v1 (the same queries and commands as the summary page):
 * - `GET /live-sessions/:id/summary` (participants, the owner, admins): the session, participants, names,
 *   behaviours, the folded record, the observers' agreement, the decisions and the filed observation's id. While
 *   a blind session is open, the record and figures hold only the caller's own codes (`othersCodesHidden: true`),
 *   as its log does.
 * - `POST /live-sessions/:id/adjudication` {decisions: [{eventId, decision: accept|reject}]} (owner or admin,
 *   once ended): `{ decisions, lastSeq }`.
 * - `POST /live-sessions/:id/file` (owner or admin, once ended; once): 201 `{ observationId, codings }`.
 * The new log events are published to the session's room after commit.
 */
export function liveSummaryApi(deps: AppDeps): Router {
  const router = express.Router();

  router.get('/live-sessions/:id/summary', async (req, res) => {
    const actor = user(req);
    const session = await requireLiveSession(deps.db, parseId(req.params.id, 'That live session'));
    authorize(actor, 'live.join', await sessionRef(deps.db, session, actor));
    res.set('Cache-Control', 'no-store');
    res.json(await loadSummaryForReader(deps.db, session, actor.id));
  });

  router.post('/live-sessions/:id/adjudication', async (req, res) => {
    const sessionId = parseId(req.params.id, 'That live session');
    const result = await adjudicateLiveSession(ctxOf(req, deps), sessionId, req.body);
    liveHubOf(deps).runtime.publish(sessionId, result.events);
    res.json({ decisions: result.decisions, lastSeq: result.events.at(-1)?.seq ?? null });
  });

  router.post('/live-sessions/:id/file', async (req, res) => {
    const sessionId = parseId(req.params.id, 'That live session');
    const result = await fileLiveSession(ctxOf(req, deps), sessionId);
    liveHubOf(deps).runtime.publish(sessionId, result.events);
    res.status(201).location(`/api/v1/observations/${result.observationId}`).json({ observationId: result.observationId, codings: result.codings });
  });

  return router;
}
