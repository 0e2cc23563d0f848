import { sql } from 'drizzle-orm';
import express, { type Request, type Response, type Router } from 'express';
import type { UserActor } from '../../accounts/actor.ts';
import { rowsOf, type Db } from '../../core/db.ts';
import { AppError } from '../../core/errors.ts';
import { can } from '../../core/policy.ts';
import { findVersion } from '../../ethograms/behaviour.queries.ts';
import { adjudicateLiveSession } from '../../live/adjudicate-session.command.ts';
import { fileLiveSession } from '../../live/file-session.command.ts';
import type { LiveEventView, StoredPayloads } from '../../live/live-events.ts';
import { readLog, requireSessionAccess, type LiveSessionRow } from '../../live/live-session.queries.ts';
import { describeTarget } from '../../live/live-target.ts';
import { loadSummaryForReader } from '../../live/reader-summary.queries.ts';
import { presentLogRows, presentSummaryPage, statusLabels } from '../../live/session-summary.presenter.ts';
import { allCodes, codeId } from '../../live/session-record.ts';
import type { AppDeps } from '../app-deps.ts';
import { ctxOf } from '../http/request-context.ts';
import { parseId } from '../http/validate.ts';
import { liveHubOf } from '../realtime/live.realtime.ts';
import { flash } from './form.ts';

/** Events per page of the log page, by sequence number (page 2 is events 201-400, whatever is hidden). */
export const LOG_PAGE_SIZE = 200;

const text = (value: unknown): string => (typeof value === 'string' ? value : Array.isArray(value) ? String(value[0] ?? '') : '');
const decisionOf = (value: unknown): 'accept' | 'reject' | null => {
  const v = text(value);
  return v === 'accept' || v === 'reject' ? v : null;
};
/** The form field that carries a code's decision (event ids hold letters, digits, "-" and "_" only). */
const DECISION_FIELD = /^d_([A-Za-z0-9_-]{1,64})$/;

function requireUser(req: Request): UserActor {
  const actor = req.auth.actor;
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in to see live sessions.');
  return actor;
}

/**
 * The end of a live session, as pages:
 * - `GET /live/:id/summary` (participants, the owner, admins): while the session is open, a short page saying
 *   the summary appears when it ends (nothing of anyone's codes, blind or not). Once it has ended: the
 *   conversation with every observer's codes highlighted in the answers and drawn in one lane per observer under
 *   each answer (points as triangles, spans as filled bars, states as outlined bars; a state the end closed says
 *   so), a table of each observer's codes, the agreement between observers (pooled and per behaviour: percent
 *   agreement, Fleiss' kappa, Krippendorff's alpha, pairwise Cohen's kappa with the reason when undefined, point
 *   matching) with the agreement page's bar chart and heat map, the comments; for the owner and admins the
 *   adjudication form and "File as an observation", and after filing a link to the observation.
 * - `POST /live/:id/adjudication`, `POST /live/:id/file`: the same commands as the JSON API; back to the summary
 *   with a message (what was saved, or why not); the new log events go to the room after commit.
 * - `GET /live/:id/log?page=N`: the session's log, readable and paginated; while a blind session is open others'
 *   codes are left out exactly as the room's catch-up leaves them out (`readLog`).
 */
export function liveSummaryPages(deps: AppDeps): Router {
  const router = express.Router();

  /** The session and the actor's place in it; 403 for people who are not in it (admins may look). */
  async function load(req: Request) {
    const actor = requireUser(req);
    const { session, ref } = await requireSessionAccess(deps.db, actor, parseId(req.params.id, 'That live session'));
    return { actor, session, ref };
  }

  function header(session: LiveSessionRow, ownerName: string, version: Awaited<ReturnType<typeof findVersion>>) {
    return {
      id: session.id,
      title: session.title,
      status: session.status,
      statusLabel: statusLabels[session.status],
      open: session.status === 'open',
      blind: session.blind,
      target: describeTarget(session.target),
      systemPrompt: session.target.systemPrompt,
      createdAt: iso(session.createdAt),
      endedAt: session.endedAt === null ? null : iso(session.endedAt),
      ownerName,
      observationId: session.observationId,
      ethogram: version ? { name: version.name, slug: version.slug, number: version.version.number } : null,
    };
  }

  router.get('/live/:id/summary', async (req, res) => {
    const { actor, session, ref } = await load(req);
    const version = await findVersion(deps.db, session.ethogramVersionId);
    if (session.status === 'open') {
      // Nothing of the codes while the session runs: the summary is the session's final record.
      const names = await namesOf(deps.db, [session.createdBy]);
      res.set('Cache-Control', 'no-store');
      res.render('pages/live/summary', { title: `Summary: ${session.title}`, pending: true, session: header(session, names.get(session.createdBy) ?? '', version) });
      return;
    }
    const summary = await loadSummaryForReader(deps.db, session, actor.id);
    const fresh = { ...session, status: summary.session.status, observationId: summary.observationId };
    const ended = summary.session.status === 'ended';
    res.set('Cache-Control', 'no-store');
    res.render('pages/live/summary', {
      title: `Summary: ${session.title}`,
      pending: summary.othersCodesHidden,
      session: { ...header(fresh, summary.session.owner.displayName, version), endedAt: summary.session.endedAt },
      view: summary.othersCodesHidden ? null : presentSummaryPage(summary),
      canAdjudicate: ended && can(actor, 'live.adjudicate', { ...ref, status: 'ended' }),
      canFile: ended && can(actor, 'live.manage', ref),
      manage: can(actor, 'live.manage', ref),
      filed: summary.session.status === 'filed',
      observationId: summary.observationId,
    });
  });

  /** A command's refusal (validation, conflict) as a message on the summary; anything else is the error page. */
  function backWithMessage(res: Response, sessionId: string, err: unknown, anchor: string) {
    if (!(err instanceof AppError) || !['validation_failed', 'conflict', 'immutable'].includes(err.id)) throw err;
    flash(res, err.message);
    res.redirect(303, `/live/${sessionId}/summary#${anchor}`);
  }

  router.post('/live/:id/adjudication', async (req, res) => {
    const { actor, session, ref } = await load(req);
    if (!can(actor, 'live.manage', ref)) throw new AppError('forbidden', "Only the session's owner or an admin can adjudicate its codes.");
    const body: Record<string, unknown> = req.body ?? {};
    const rest = decisionOf(body.rest);
    // Only what changes is stored: a decision equal to the latest one would only lengthen the log.
    const summary = await loadSummaryForReader(deps.db, session, actor.id);
    const current = new Map(summary.decisions.map((d) => [d.eventId, d.decision]));
    const codeIds = new Set(allCodes(summary.record).map(codeId));
    const decisions: Array<{ eventId: string; decision: 'accept' | 'reject' }> = [];
    const chosen = new Set<string>();
    for (const [field, value] of Object.entries(body)) {
      const id = DECISION_FIELD.exec(field)?.[1];
      const decision = decisionOf(value);
      if (!id || !decision) continue;
      chosen.add(id);
      // An id that names no standing code goes on to the command, which says what is wrong with it.
      if (current.get(id) !== decision || !codeIds.has(id)) decisions.push({ eventId: id, decision });
    }
    if (rest) for (const id of codeIds) if (!chosen.has(id) && !current.has(id)) decisions.push({ eventId: id, decision: rest });
    if (decisions.length === 0) {
      flash(res, 'Nothing to save: no decision changed.');
      res.redirect(303, `/live/${session.id}/summary#adjudication`);
      return;
    }
    try {
      const result = await adjudicateLiveSession(ctxOf(req, deps), session.id, { decisions });
      liveHubOf(deps).runtime.publish(session.id, result.events);
      const accepted = result.decisions.filter((d) => d.decision === 'accept').length;
      flash(res, `Saved ${result.decisions.length} decision${result.decisions.length === 1 ? '' : 's'}: ${accepted} accepted, ${result.decisions.length - accepted} rejected.`);
      res.redirect(303, `/live/${session.id}/summary#adjudication`);
    } catch (err) {
      backWithMessage(res, session.id, err, 'adjudication');
    }
  });

  router.post('/live/:id/file', async (req, res) => {
    const { session } = await load(req);
    try {
      const result = await fileLiveSession(ctxOf(req, deps), session.id);
      liveHubOf(deps).runtime.publish(session.id, result.events);
      flash(res, `Filed as an observation with ${result.codings} coding${result.codings === 1 ? '' : 's'}.`);
      res.redirect(303, `/live/${session.id}/summary#filing`);
    } catch (err) {
      backWithMessage(res, session.id, err, 'filing');
    }
  });

  router.get('/live/:id/log', async (req, res) => {
    const { actor, session } = await load(req);
    const pages = Math.max(1, Math.ceil(session.lastSeq / LOG_PAGE_SIZE));
    const asked = Number.parseInt(text(req.query.page), 10);
    const page = Number.isFinite(asked) ? Math.min(Math.max(asked, 1), pages) : 1;
    const from = (page - 1) * LOG_PAGE_SIZE;
    const events = (await readLog(deps.db, session, actor.id, from, LOG_PAGE_SIZE)).filter((e) => e.seq <= from + LOG_PAGE_SIZE);
    const names = await namesOf(deps.db, [session.createdBy, ...actorsOf(events)]);
    const nameOf = (id: string | null) => (id === null ? 'the server' : (names.get(id) ?? 'someone no longer listed'));
    const link = (p: number) => `/live/${session.id}/log${p === 1 ? '' : `?page=${p}`}`;
    const version = await findVersion(deps.db, session.ethogramVersionId);
    res.set('Cache-Control', 'no-store');
    res.render('pages/live/log', {
      title: `Event log: ${session.title}`,
      session: header(session, names.get(session.createdBy) ?? '', version),
      hidesOthers: session.blind && session.status === 'open',
      rows: presentLogRows(events, nameOf),
      eventCount: events.length,
      page,
      pages,
      firstSeq: from + 1,
      lastSeq: Math.min(from + LOG_PAGE_SIZE, session.lastSeq),
      totalSeq: session.lastSeq,
      paginated: pages > 1,
      previous: page > 1 ? link(page - 1) : null,
      next: page < pages ? link(page + 1) : null,
      first: page > 1 ? link(1) : null,
      last: page < pages ? link(pages) : null,
      pageLinks: pages > 1 ? pageNumbers(page, pages).map((p) => ({ number: p, href: link(p), current: p === page })) : [],
    });
  });

  return router;
}

function iso(value: string | Date): string {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toISOString();
}

/** Page numbers around the current one, with the first and last (no more than nine links). */
function pageNumbers(page: number, pages: number): number[] {
  const around = new Set([1, pages]);
  for (let p = page - 3; p <= page + 3; p++) if (p >= 1 && p <= pages) around.add(p);
  return [...around].sort((a, b) => a - b);
}

/** Everyone the events name: their actors and the people roster events are about. */
function actorsOf(events: readonly LiveEventView[]): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    if (e.actorId) ids.add(e.actorId);
    if (e.type === 'session.ended') for (const s of (e.payload as StoredPayloads['session.ended']).closedStates) ids.add(s.coderId);
  }
  return [...ids];
}

async function namesOf(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (unique.length === 0) return new Map();
  const rows = rowsOf<{ id: string; display_name: string }>(
    await db.execute(sql`SELECT id, display_name FROM users WHERE id IN (${sql.join(unique.map((id) => sql`${id}::uuid`), sql`, `)})`),
  );
  return new Map(rows.map((r) => [r.id, r.display_name]));
}
