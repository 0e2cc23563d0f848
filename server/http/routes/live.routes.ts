import { randomUUID } from 'node:crypto';
import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import type { UserActor } from '../../../accounts/actor.ts';
import { AppError } from '../../../core/errors.ts';
import { authorize } from '../../../core/policy.ts';
import { createLiveSession } from '../../../live/create-session.command.ts';
import { describeTarget } from '../../../live/live-target.ts';
import { acceptInvite, createInvite, listInvites, removeParticipant, revokeInvite, setParticipant, type ParticipantChange } from '../../../live/participants.command.ts';
import { listLiveSessions, listParticipants, readLog, requireLiveSession, sessionRef, type LiveSessionRow } from '../../../live/live-session.queries.ts';
import type { AppDeps } from '../../app-deps.ts';
import { applyParticipantChange, liveHubOf } from '../../realtime/live.realtime.ts';
import { ctxOf } from '../request-context.ts';
import { parseId, parseOrThrow } from '../validate.ts';

const logQuerySchema = z.object({ sinceSeq: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(100_000).default(10_000) }).strip();

/** A session as the API shows it (the target's key variable is a name, never a key, so it may be shown). */
export function presentLiveSession(s: LiveSessionRow) {
  return {
    id: s.id,
    title: s.title,
    status: s.status,
    blind: s.blind,
    ethogramVersionId: s.ethogramVersionId,
    target: { ...s.target, description: describeTarget(s.target) },
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    endedAt: s.endedAt,
    lastSeq: s.lastSeq,
    observationId: s.observationId,
  };
}

function user(req: Request): UserActor {
  const actor = req.auth.actor;
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in (or send an API token) to use live sessions.');
  return actor;
}

/**
 * Live sessions as JSON under /api/v1 (the live part runs over socket.io; see live/README.md):
 * - `POST /live-sessions` {title, ethogramVersionId, target, blind} (researchers; 201), `GET /live-sessions`
 *   (yours), `GET /live-sessions/:id` (participants too), `GET /live-sessions/:id/events?sinceSeq=` (the log, as
 *   you may see it: others' codes stay hidden while a blind session is open);
 * - `POST /live-sessions/:id/participants` {email, role}, `DELETE /live-sessions/:id/participants/:userId`,
 *   `POST /live-sessions/:id/invites` {role} (the link's token, shown once), `GET .../invites`,
 *   `DELETE .../invites/:inviteId`, `POST /live-invites/:token/accept` (owner or admin manage; anyone signed in
 *   accepts);
 * - `POST /live-sessions/:id/end` (owner or driver).
 */
export function liveApi(deps: AppDeps): Router {
  const router = express.Router();
  const hub = () => liveHubOf(deps);
  const published = async (sessionId: string, change: ParticipantChange) => {
    hub().runtime.publish(sessionId, [change.event]);
    await applyParticipantChange(hub(), sessionId, change);
  };

  router.post('/live-sessions', async (req, res) => {
    const { id } = await createLiveSession(ctxOf(req, deps), req.body);
    res.status(201).location(`/api/v1/live-sessions/${id}`).json(presentLiveSession(await requireLiveSession(deps.db, id)));
  });

  router.get('/live-sessions', async (req, res) => {
    const actor = user(req);
    authorize(actor, 'live.list');
    res.json({ items: (await listLiveSessions(deps.db, actor)).map((s) => ({ ...presentLiveSession(s), role: s.role })) });
  });

  const load = async (req: Request) => {
    const actor = user(req);
    const session = await requireLiveSession(deps.db, parseId(req.params.id, 'That live session'));
    const ref = await sessionRef(deps.db, session, actor);
    authorize(actor, 'live.join', ref);
    return { actor, session, ref };
  };

  router.get('/live-sessions/:id', async (req, res) => {
    const { session, ref } = await load(req);
    const participants = await listParticipants(deps.db, session.id);
    res.json({ ...presentLiveSession(session), role: ref.role, participants });
  });

  router.get('/live-sessions/:id/events', async (req, res) => {
    const { actor, session } = await load(req);
    const q = parseOrThrow(logQuerySchema, req.query, 'The query');
    const items = await readLog(deps.db, session, actor.id, q.sinceSeq, q.limit);
    res.json({ items, lastSeq: session.lastSeq });
  });

  router.post('/live-sessions/:id/participants', async (req, res) => {
    const sessionId = parseId(req.params.id, 'That live session');
    const change = await setParticipant(ctxOf(req, deps), sessionId, req.body);
    await published(sessionId, change);
    res.status(201).json({ userId: change.userId, role: change.role });
  });

  router.delete('/live-sessions/:id/participants/:userId', async (req, res) => {
    const sessionId = parseId(req.params.id, 'That live session');
    const change = await removeParticipant(ctxOf(req, deps), sessionId, parseId(req.params.userId, 'That participant'));
    await published(sessionId, change);
    res.status(204).end();
  });

  router.post('/live-sessions/:id/invites', async (req, res) => {
    const sessionId = parseId(req.params.id, 'That live session');
    const invite = await createInvite(ctxOf(req, deps), sessionId, req.body);
    res.status(201).json({ ...invite, url: `${deps.config.baseUrl}/live/join/${invite.token}` });
  });

  router.get('/live-sessions/:id/invites', async (req, res) => {
    res.json({ items: await listInvites(ctxOf(req, deps), parseId(req.params.id, 'That live session')) });
  });

  router.delete('/live-sessions/:id/invites/:inviteId', async (req, res) => {
    await revokeInvite(ctxOf(req, deps), parseId(req.params.id, 'That live session'), parseId(req.params.inviteId, 'That invitation'));
    res.status(204).end();
  });

  router.post('/live-invites/:token/accept', async (req, res) => {
    const token = z.string().min(10).max(100).safeParse(req.params.token);
    if (!token.success) throw new AppError('not_found', 'That invitation was not found.');
    const accepted = await acceptInvite(ctxOf(req, deps), token.data);
    if (accepted.change) await published(accepted.sessionId, accepted.change);
    res.json({ sessionId: accepted.sessionId, role: accepted.role });
  });

  router.post('/live-sessions/:id/end', async (req, res) => {
    const { actor, session } = await load(req);
    const appended = await hub().runtime.submit(actor, { type: 'end', sessionId: session.id, id: randomUUID() });
    res.json({ ...presentLiveSession(await requireLiveSession(deps.db, session.id)), endedAtSeq: appended.seq });
  });

  return router;
}
