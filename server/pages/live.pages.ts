import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { UserActor } from '../../accounts/actor.ts';
import { AppError, type FieldErrors } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { defaultPublishedVersion, findVersion } from '../../ethograms/behaviour.queries.ts';
import { createLiveSession } from '../../live/create-session.command.ts';
import { findInvite, findLiveSession, listLiveSessions, listParticipants, readLog, requireSessionAccess, sessionRef, wasRemoved, type LiveSessionRow } from '../../live/live-session.queries.ts';
import { describeTarget } from '../../live/live-target.ts';
import { liveRoles, type LiveRole } from '../../live/live.schema.ts';
import { acceptInvite, createInvite, listInvites, removeParticipant, revokeInvite, setParticipant, type ParticipantChange } from '../../live/participants.command.ts';
import { foldSession, type SessionCode } from '../../live/session-record.ts';
import type { SessionEthogram } from '../../live/session-ethogram.ts';
import { listPinnableVersions } from '../../observations/classify/classifiers/classifier.queries.ts';
import { judgeProviders } from '../../observations/classify/judge/judge-settings.ts';
import type { AppDeps } from '../app-deps.ts';
import { ctxOf } from '../http/request-context.ts';
import { parseId } from '../http/validate.ts';
import { applyParticipantChange, liveHubOf } from '../realtime/live.realtime.ts';
import { flash, rerenderForm } from './form.ts';

type FormBody = Record<string, unknown>;
type FormValues = Record<string, string>;

const text = (value: unknown): string => (typeof value === 'string' ? value : Array.isArray(value) ? String(value[0] ?? '') : '');
/** A number field: blank is left out (the default applies); anything not a number goes on to be refused by the schema. */
const num = (value: unknown): unknown => {
  const t = text(value).trim();
  if (t === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
};
const optional = (value: unknown): string | undefined => text(value).trim() || undefined;

const providerLabels: Record<(typeof judgeProviders)[number], string> = { openai: 'OpenAI', anthropic: 'Anthropic', 'openai-compatible': 'OpenAI-compatible server (local or hosted)' };
const roleLabels: Record<LiveRole, string> = { driver: 'driver (prompts the model)', observer: 'observer (codes)', viewer: 'viewer (watches and comments)' };
const statusLabels: Record<LiveSessionRow['status'], string> = { open: 'open', ended: 'ended', filed: 'filed as an observation' };

const FORM_FIELDS = ['title', 'ethogramVersionId', 'provider', 'model', 'baseUrl', 'apiKeyEnv', 'systemPrompt', 'temperature', 'topP', 'maxTokens', 'seed'] as const;
const blankForm = (): FormValues => ({ title: '', ethogramVersionId: '', provider: 'openai', model: '', baseUrl: '', apiKeyEnv: '', systemPrompt: '', temperature: '', topP: '', maxTokens: '1024', seed: '', blind: '' });

/** What the person typed, kept for showing the form again. */
function formEcho(body: FormBody): FormValues {
  const values = blankForm();
  for (const name of FORM_FIELDS) values[name] = text(body[name]);
  values.blind = isChecked(body.blind) ? 'on' : '';
  return values;
}

const isChecked = (value: unknown) => ['on', 'true', '1', 'yes'].includes(text(value));

/** The form as the command's input `{ title, ethogramVersionId, target, blind }` (the same validation as the API). */
function inputFromForm(body: FormBody) {
  const target: Record<string, unknown> = {
    provider: text(body.provider),
    model: text(body.model).trim(),
    baseUrl: optional(body.baseUrl),
    apiKeyEnv: optional(body.apiKeyEnv),
    // Browsers send a textarea's line breaks as CRLF; what the researcher typed is LF.
    systemPrompt: text(body.systemPrompt).replace(/\r\n/g, '\n'),
    temperature: num(body.temperature),
    topP: num(body.topP),
    maxTokens: num(body.maxTokens),
    seed: num(body.seed),
  };
  for (const key of Object.keys(target)) if (target[key] === undefined) delete target[key];
  return { title: text(body.title), ethogramVersionId: text(body.ethogramVersionId), target, blind: isChecked(body.blind) };
}

/** The command's field paths folded onto the form's fields (`target.temperature` -> `temperature`). */
function formErrors(err: unknown): unknown {
  if (!(err instanceof AppError) || !err.details?.fields) return err;
  const folded: FieldErrors = {};
  for (const [path, message] of Object.entries(err.details.fields)) {
    let field = path.replace(/^target\.?/, '') || '_';
    if (!(FORM_FIELDS as readonly string[]).includes(field) && field !== 'blind') field = '_';
    folded[field] = folded[field] ? `${folded[field]}; ${message}` : message;
  }
  return new AppError(err.id, err.message, { ...err.details, fields: folded });
}

function requireUser(req: Request): UserActor {
  const actor = req.auth.actor;
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in to take part in live sessions.');
  return actor;
}

const tokenSchema = z.string().min(10).max(100).regex(/^[A-Za-z0-9_-]+$/);

/**
 * Live session pages (the live part runs over socket.io, enhanced by client/live/*):
 * - `GET /live`: your sessions (owned or taken part in; admins see all) with their status and your role;
 * - `GET /live/new`, `POST /live`: the new-session form (researchers), errors next to fields, input kept;
 * - `GET /live/:id`: the room: the conversation so far (a read-only view without JavaScript), the behaviours
 *   and their hotkeys, participants, the owner's invitations (links per role, shown once; add by email; remove),
 *   and "End session" (owner or driver); `POST /live/:id/{invites,participants,end}` and their removals;
 * - `GET /live/join/:token`: what an invitation link joins (sign in first), `POST` accepts it.
 */
export function livePages(deps: AppDeps): Router {
  const router = express.Router();
  const hub = () => liveHubOf(deps);
  const published = async (sessionId: string, change: ParticipantChange) => {
    hub().runtime.publish(sessionId, [change.event]);
    await applyParticipantChange(hub(), sessionId, change);
  };

  router.get('/live', async (req, res) => {
    const actor = requireUser(req);
    authorize(actor, 'live.list');
    const sessions = (await listLiveSessions(deps.db, actor)).map((s) => ({
      id: s.id,
      title: s.title,
      status: s.status,
      statusLabel: statusLabels[s.status],
      blind: s.blind,
      target: describeTarget(s.target),
      createdAt: s.createdAt,
      ownerName: s.ownerName,
      owner: s.createdBy === actor.id,
      role: s.role,
      summary: s.status !== 'open',
    }));
    res.render('pages/live/list', { title: 'Live sessions', sessions, canCreate: can(actor, 'live.create') });
  });

  async function renderNew(res: Response, values: FormValues, err?: unknown) {
    const versionRows = await listPinnableVersions(deps.db);
    const preferred = values.ethogramVersionId || (await defaultPublishedVersion(deps.db))?.id || '';
    const versions = versionRows.map((v) => ({ value: v.id, label: `${v.name}, version ${v.number}`, selected: v.id === preferred }));
    const data = {
      title: 'New live session',
      values,
      versions,
      providers: judgeProviders.map((p) => ({ value: p, label: providerLabels[p], selected: p === values.provider })),
    };
    if (err) return rerenderForm(res, 'pages/live/new', formErrors(err), data);
    res.render('pages/live/new', data);
  }

  router.get('/live/new', async (req, res) => {
    authorize(req.auth.actor, 'live.create');
    await renderNew(res, blankForm());
  });

  router.post('/live', async (req, res) => {
    authorize(req.auth.actor, 'live.create');
    const body: FormBody = req.body ?? {};
    try {
      const { id } = await createLiveSession(ctxOf(req, deps), inputFromForm(body));
      flash(res, 'Session opened: you are its driver. Invite observers and viewers from the “Invite people” panel.');
      res.redirect(303, `/live/${id}`);
    } catch (err) {
      await renderNew(res, formEcho(body), err);
    }
  });

  router.get('/live/join/:token', async (req, res) => {
    const token = tokenSchema.safeParse(req.params.token);
    if (req.auth.actor.kind !== 'user') {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    const actor = req.auth.actor;
    const invite = token.success ? await findInvite(deps.db, token.data) : undefined;
    if (!invite) throw new AppError('not_found', 'That invitation was not found: it may have been revoked. Ask the session\'s owner for a new link.');
    const session = (await findLiveSession(deps.db, invite.sessionId))!;
    const ref = await sessionRef(deps.db, session, actor);
    const removed = ref.role === null && (await wasRemoved(deps.db, session.id, actor.id));
    const version = await findVersion(deps.db, session.ethogramVersionId);
    res.set('Cache-Control', 'no-store');
    res.render('pages/live/join', {
      title: `Join ${invite.title}`,
      invite: { ...invite, roleLabel: roleLabels[invite.role] },
      token: token.success ? token.data : '',
      target: describeTarget(session.target),
      ethogram: version ? `${version.name}, version ${version.version.number}` : '',
      blind: session.blind,
      open: session.status === 'open',
      already: ref.role ? { role: ref.role, roleLabel: roleLabels[ref.role] } : null,
      owner: session.createdBy === actor.id,
      removed,
    });
  });

  router.post('/live/join/:token', async (req, res) => {
    const token = tokenSchema.safeParse(req.params.token);
    if (!token.success) throw new AppError('not_found', 'That invitation was not found.');
    const accepted = await acceptInvite(ctxOf(req, deps), token.data);
    if (accepted.change) await published(accepted.sessionId, accepted.change);
    flash(res, accepted.change ? `You joined as ${accepted.role}.` : `You are already in this session as ${accepted.role}.`);
    res.redirect(303, `/live/${accepted.sessionId}`);
  });

  /** The session and the actor's place in it; 403 for people who are not in it (admins may look). */
  async function load(req: Request) {
    const actor = requireUser(req);
    const { session, ref } = await requireSessionAccess(deps.db, actor, parseId(req.params.id, 'That live session'));
    return { actor, session, ref };
  }

  async function renderRoom(req: Request, res: Response, extra: Record<string, unknown> = {}) {
    const { actor, session, ref } = await load(req);
    const [events, participants, ethogram, version] = await Promise.all([
      readLog(deps.db, session, actor.id),
      listParticipants(deps.db, session.id),
      hub().runtime.ethograms.get(session.ethogramVersionId),
      findVersion(deps.db, session.ethogramVersionId),
    ]);
    const manage = can(actor, 'live.manage', ref);
    const invites = manage && session.status === 'open' ? await listInvites(ctxOf(req, deps), session.id) : [];
    const record = foldSession(events);
    const names = new Map<string, string>(participants.map((p) => [p.userId, p.displayName]));
    for (const p of record.participants) if (p.displayName && !names.has(p.userId)) names.set(p.userId, p.displayName);
    const nameOf = (id: string | null) => (id ? (names.get(id) ?? 'someone') : 'the server');
    const behaviours = [...ethogram.behaviours.values()];
    const byCode = new Map(behaviours.map((b) => [b.code, b]));
    const codes = [...record.points, ...record.states, ...record.spans].sort((a, b) => a.seq - b.seq).map((c) => presentCode(c, byCode, nameOf, actor.id));
    const open = session.status === 'open';

    res.render('pages/live/room', {
      title: session.title,
      session: {
        id: session.id,
        title: session.title,
        status: session.status,
        statusLabel: statusLabels[session.status],
        open,
        blind: session.blind,
        target: describeTarget(session.target),
        systemPrompt: session.target.systemPrompt,
        createdAt: session.createdAt,
        endedAt: session.endedAt,
        observationId: session.observationId,
        lastSeq: record.lastSeq,
      },
      ethogram: version ? { name: version.name, slug: version.slug, number: version.version.number } : null,
      ownerName: nameOf(session.createdBy),
      me: {
        id: actor.id,
        role: ref.role ?? 'none',
        roleLabel: ref.role ? roleLabels[ref.role] : 'not a participant (administrator view)',
        owner: actor.id === session.createdBy,
        canPrompt: can(actor, 'live.prompt', ref),
        canCode: can(actor, 'live.code', ref),
        canComment: can(actor, 'live.comment', ref),
        canEnd: can(actor, 'live.end', ref),
        canManage: manage && open,
      },
      turns: record.turns.map((t) => ({
        turn: t.turn,
        number: t.turn + 1,
        prompt: t.prompt,
        promptedBy: nameOf(t.promptedBy),
        answer: t.answer,
        status: t.status,
        statusLabel: turnStatusLabel(t.status),
        error: t.error?.message ?? '',
      })),
      codes,
      comments: record.comments.map((c) => ({ author: nameOf(c.authorId), text: c.text, at: c.at })),
      legend: legendOf(ethogram),
      legendCount: ethogram.behaviours.size,
      modifierKeys: modifierKeys(ethogram),
      participants: participants
        .filter((p) => !p.removedAt)
        .map((p) => ({ userId: p.userId, displayName: p.displayName, role: p.role, owner: p.userId === session.createdBy, removable: manage && open && p.userId !== session.createdBy })),
      invites: invites.map((i) => ({ ...i, roleLabel: roleLabels[i.role] })),
      roles: liveRoles.map((r) => ({ value: r, label: roleLabels[r], selected: r === 'observer' })),
      values: {},
      ...extra,
    });
  }

  router.get('/live/:id', async (req, res) => {
    await renderRoom(req, res);
  });

  router.post('/live/:id/invites', async (req, res) => {
    const sessionId = parseId(req.params.id, 'That live session');
    try {
      const invite = await createInvite(ctxOf(req, deps), sessionId, { role: text(req.body?.role) });
      // Shown on this response only: the token is stored hashed and cannot be shown again.
      res.set('Cache-Control', 'no-store');
      res.status(201);
      await renderRoom(req, res, { newInvite: { url: `${deps.config.baseUrl.replace(/\/+$/, '')}/live/join/${invite.token}`, role: invite.role, roleLabel: roleLabels[invite.role] } });
    } catch (err) {
      await roomFormError(req, res, err, 'invite', {});
    }
  });

  router.post('/live/:id/invites/:inviteId/revoke', async (req, res) => {
    const sessionId = parseId(req.params.id, 'That live session');
    await revokeInvite(ctxOf(req, deps), sessionId, parseId(req.params.inviteId, 'That invitation'));
    flash(res, 'Invitation link revoked: it no longer lets anyone join.');
    res.redirect(303, `/live/${sessionId}#invites`);
  });

  router.post('/live/:id/participants', async (req, res) => {
    const sessionId = parseId(req.params.id, 'That live session');
    const values = { email: text(req.body?.email), role: text(req.body?.role) };
    try {
      const change = await setParticipant(ctxOf(req, deps), sessionId, values);
      await published(sessionId, change);
      flash(res, `${String((change.event.payload as { displayName?: string }).displayName ?? values.email)} is in the session as ${change.role}.`);
      res.redirect(303, `/live/${sessionId}#participants`);
    } catch (err) {
      await roomFormError(req, res, err, 'participant', values);
    }
  });

  router.post('/live/:id/participants/:userId/remove', async (req, res) => {
    const sessionId = parseId(req.params.id, 'That live session');
    const change = await removeParticipant(ctxOf(req, deps), sessionId, parseId(req.params.userId, 'That participant'));
    await published(sessionId, change);
    flash(res, `${String((change.event.payload as { displayName?: string }).displayName ?? 'They')} was removed from the session.`);
    res.redirect(303, `/live/${sessionId}#participants`);
  });

  router.post('/live/:id/end', async (req, res) => {
    const { actor, session } = await load(req);
    try {
      await hub().runtime.submit(actor, { type: 'end', sessionId: session.id, id: randomUUID() });
      flash(res, 'Session ended. Its codes are final; the summary shows them side by side.');
    } catch (err) {
      // Ended already (by someone else a moment ago): say so on the room page rather than as an error page.
      if (!(err instanceof AppError) || err.id !== 'conflict') throw err;
      flash(res, err.message);
    }
    res.redirect(303, `/live/${session.id}`);
  });

  /** A failed invite or add-participant form: the room again, the error next to that form, the input kept. */
  async function roomFormError(req: Request, res: Response, err: unknown, form: string, values: Record<string, string>) {
    if (!(err instanceof AppError) || ['internal', 'unauthenticated', 'forbidden', 'not_found'].includes(err.id)) throw err;
    if (err.id === 'conflict') {
      // The session ended meanwhile: its page no longer shows these forms, so the reason goes in the flash.
      flash(res, err.message);
      res.redirect(303, `/live/${parseId(req.params.id, 'That live session')}`);
      return;
    }
    res.status(422);
    await renderRoom(req, res, {
      failedForm: form,
      errors: err.details?.fields ?? {},
      formError: err.message,
      values,
      roles: liveRoles.map((r) => ({ value: r, label: roleLabels[r], selected: r === (values.role || 'observer') })),
    });
  }

  return router;
}

function turnStatusLabel(status: string): string {
  return ({ streaming: 'answering…', complete: 'complete', stopped: 'stopped by the driver', failed: 'failed', interrupted: 'interrupted (the server restarted)' } as Record<string, string>)[status] ?? status;
}

function presentCode(c: SessionCode, byCode: Map<string, { name: string; colour: string }>, nameOf: (id: string | null) => string, me: string) {
  const behaviour = byCode.get(c.behaviourCode);
  let where: string;
  if (c.kind === 'point') where = `turn ${c.turn + 1}, at character ${c.offset}`;
  else if (c.kind === 'span') where = `turn ${c.turn + 1}, characters ${c.start}–${c.end}`;
  else where = `turn ${c.from.turn + 1} character ${c.from.offset} to ${c.to ? `turn ${c.to.turn + 1} character ${c.to.offset}${c.autoClosed ? ' (closed by the end)' : ''}` : 'now (running)'}`;
  const modifiers = Object.entries(c.modifiers).map(([k, v]) => `${k}: ${v}`).join(', ');
  return {
    id: c.kind === 'state' ? c.startEventId : c.eventId,
    kind: c.kind,
    code: c.behaviourCode,
    name: behaviour?.name ?? c.behaviourCode,
    colour: behaviour?.colour ?? '#888888',
    coder: nameOf(c.coderId),
    mine: c.coderId === me,
    where,
    quote: c.kind === 'span' ? c.quote : '',
    modifiers,
  };
}

/** The legend: behaviours by category with their hotkeys, event or state. */
function legendOf(e: SessionEthogram) {
  const groups = new Map<string, Array<{ code: string; name: string; kind: string; hotkey: string | null; colour: string; state: boolean }>>();
  for (const b of e.behaviours.values()) {
    const category = b.category || 'other';
    const list = groups.get(category) ?? [];
    list.push({ code: b.code, name: b.name, kind: b.kind, hotkey: b.hotkey, colour: b.colour, state: b.kind === 'state' });
    groups.set(category, list);
  }
  return [...groups].map(([category, behaviours]) => ({ category, behaviours }));
}

/**
 * Number keys for modifier values, numbered 1-9 then 0 across the version's single- and multi-choice modifier
 * sets in order. A digit that is also a behaviour's hotkey is pressed with Shift for its modifier value.
 */
export function modifierKeys(e: SessionEthogram) {
  const digits = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];
  const hotkeys = new Set([...e.behaviours.values()].map((b) => b.hotkey).filter(Boolean));
  const sets: Array<{ key: string; name: string; values: Array<{ value: string; digit: string; keyLabel: string }> }> = [];
  let i = 0;
  for (const set of e.modifierSets.values()) {
    if ((set.type !== 'single' && set.type !== 'multi') || !set.values?.length) continue;
    const values = [];
    for (const value of set.values) {
      const digit = digits[i++] ?? '';
      values.push({ value, digit, keyLabel: digit ? (hotkeys.has(digit) ? `Shift+${digit}` : digit) : '' });
    }
    sets.push({ key: set.key, name: set.name, values });
  }
  return sets;
}
