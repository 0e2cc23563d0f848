import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { UserActor } from '../accounts/actor.ts';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';
import { AppError, conflict, forbidden, invalid, notFound, type FieldErrors } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { can } from '../core/policy.ts';
import { parseOrThrow } from '../core/validation.ts';
import type { LiveEventView, StoredPayloads } from './live-events.ts';
import { LiveLog } from './live-log.ts';
import type { LiveSessionStatus } from './live.schema.ts';
import { SessionEthograms } from './session-ethogram.ts';
import { foldSession, type SessionRecord } from './session-record.ts';
import { loadSessionEvents } from './session-summary.queries.ts';

export const MAX_DECISIONS = 10_000;

export const adjudicateSessionSchema = z
  .object({
    decisions: z
      .array(
        z
          .object({
            eventId: z.string().min(1, 'name the code by its event id').max(64, 'an event id is at most 64 characters'),
            decision: z.enum(['accept', 'reject'], { error: 'decision must be "accept" or "reject"' }),
          })
          .strict(),
      )
      .min(1, 'give at least one decision')
      .max(MAX_DECISIONS, `at most ${MAX_DECISIONS} decisions at once`),
  })
  .strict();
export type AdjudicateSessionInput = z.input<typeof adjudicateSessionSchema>;
export type AdjudicationDecision = StoredPayloads['adjudicated']['decisions'][number];

/**
 * Records the owner's (or an admin's) verdict on codes of an ended session: accept or reject, per code, named by
 * event id (points and spans by their event, states by their start event). The decisions are stored in the log as
 * one `adjudicated` event through LiveLog, so the log stays the whole story; a later decision on the same code
 * overrides an earlier one. Filing (file-session.command.ts) turns rejected codes into rejected codings.
 *
 * Runs under the session's row lock, so it cannot slip in after the session has been filed. Returns the stored
 * events (to broadcast after commit) and the decisions taken.
 */
export async function adjudicateLiveSession(ctx: Ctx, sessionId: string, input: unknown): Promise<{ events: LiveEventView[]; decisions: AdjudicationDecision[] }> {
  return inTransaction(ctx.db, async (tx) => {
    const session = await lockSessionForOwner(tx, ctx, sessionId, 'live.adjudicate', 'adjudicate its codes');
    const data = parseOrThrow(adjudicateSessionSchema, input, 'The adjudication');
    if (session.status === 'open') throw conflict('End the session first: codes are adjudicated once the session has ended.');
    if (session.status === 'filed') {
      throw conflict(`This session has been filed as observation ${session.observationId}: review its codings there instead.`, { observationId: session.observationId });
    }
    const record = foldSession(await loadSessionEvents(tx, sessionId));
    checkDecisions(record, await eventTypes(tx, sessionId, data.decisions.map((d) => d.eventId)), data.decisions);

    const log = new LiveLog(tx, new SessionEthograms(tx), ctx.now);
    const decisions = data.decisions.map((d) => ({ eventId: d.eventId, decision: d.decision }));
    const appended = await log.append(sessionId, { kind: 'server', type: 'adjudicated', actorId: session.actor.id, payload: { decisions } });
    await recordEvent(tx, {
      type: 'live.adjudicated',
      entityType: 'live_session',
      entityId: sessionId,
      actorId: session.actor.id,
      payload: { accepted: decisions.filter((d) => d.decision === 'accept').length, rejected: decisions.filter((d) => d.decision === 'reject').length },
    });
    return { events: appended.events, decisions };
  });
}

/**
 * The session row locked for this transaction, once the policy says the actor may take `action` on it (the
 * owner or an admin). Who may act is asked as if the session had ended, so people learn "not yours" apart from
 * "not now": the caller answers the status with its own message.
 */
export async function lockSessionForOwner(
  tx: Db,
  ctx: Ctx,
  sessionId: string,
  action: 'live.adjudicate' | 'live.manage',
  doing: string,
): Promise<{ actor: UserActor; title: string; status: LiveSessionStatus; createdBy: string; observationId: string | null }> {
  if (ctx.actor.kind !== 'user') throw new AppError('unauthenticated', `Sign in to ${doing}.`);
  if (!/^[0-9a-f-]{36}$/i.test(sessionId)) throw notFound('That live session');
  const row = rowsOf<{ title: string; status: LiveSessionStatus; created_by: string; observation_id: string | null }>(
    await tx.execute(sql`SELECT title, status, created_by, observation_id FROM live_sessions WHERE id = ${sessionId}::uuid FOR UPDATE`),
  )[0];
  if (!row) throw notFound('That live session');
  const role = await participantRole(tx, sessionId, ctx.actor.id);
  if (!can(ctx.actor, action, { createdBy: row.created_by, role, status: 'ended' })) {
    throw forbidden(`Only the session's owner or an admin can ${doing}.`);
  }
  return { actor: ctx.actor, title: row.title, status: row.status, createdBy: row.created_by, observationId: row.observation_id };
}

async function participantRole(tx: Db, sessionId: string, userId: string): Promise<'driver' | 'observer' | 'viewer' | null> {
  const row = rowsOf<{ role: 'driver' | 'observer' | 'viewer' }>(
    await tx.execute(sql`SELECT role FROM live_participants WHERE session_id = ${sessionId}::uuid AND user_id = ${userId}::uuid AND removed_at IS NULL`),
  )[0];
  return row?.role ?? null;
}

async function eventTypes(tx: Db, sessionId: string, ids: string[]): Promise<Map<string, string>> {
  const rows = rowsOf<{ event_id: string; type: string }>(
    await tx.execute(sql`SELECT event_id, type FROM live_events WHERE session_id = ${sessionId}::uuid
      AND event_id IN (${sql.join([...new Set(ids)].map((id) => sql`${id}`), sql`, `)})`),
  );
  return new Map(rows.map((r) => [r.event_id, r.type]));
}

/**
 * Every decision must name a surviving code: not an unknown id, not another kind of event, not a state's stop
 * (states are named by their start), not a code its coder undid, and not twice in one request. All problems are
 * reported at once, per decision (`decisions.N.eventId`).
 */
export function checkDecisions(record: SessionRecord, types: ReadonlyMap<string, string>, decisions: ReadonlyArray<{ eventId: string }>): void {
  const codes = new Set([...record.points.map((p) => p.eventId), ...record.spans.map((s) => s.eventId), ...record.states.map((s) => s.startEventId)]);
  const stops = new Map(record.states.filter((s) => s.stopEventId).map((s) => [s.stopEventId!, s.startEventId]));
  const undone = new Set(record.undone);
  const seen = new Set<string>();
  const fields: FieldErrors = {};
  decisions.forEach(({ eventId }, i) => {
    const problem = decisionProblem(eventId, { codes, stops, undone, seen, type: types.get(eventId) });
    if (problem) fields[`decisions.${i}.eventId`] = problem;
    seen.add(eventId);
  });
  const problems = Object.values(fields);
  if (problems.length === 0) return;
  const shown = problems.slice(0, 3).join(' ');
  throw invalid(`${problems.length === 1 ? 'One decision does' : `${problems.length} decisions do`} not name a code of this session: ${shown}${problems.length > 3 ? ' …' : ''}`, fields);
}

function decisionProblem(
  id: string,
  known: { codes: Set<string>; stops: Map<string, string>; undone: Set<string>; seen: Set<string>; type: string | undefined },
): string | null {
  if (known.seen.has(id)) return `"${id}" is decided twice in this request: decide each code once.`;
  if (known.codes.has(id)) return null;
  if (known.type === undefined) return `"${id}" is not an event of this session.`;
  if (known.type !== 'code') return `"${id}" is a ${known.type} event, not a code.`;
  if (known.undone.has(id)) return `"${id}" was undone by its coder during the session: there is nothing to adjudicate.`;
  const start = known.stops.get(id);
  if (start) return `"${id}" is the stop of a state: adjudicate the state by its start event "${start}".`;
  return `"${id}" is not a code that stands in this session (a stop press, or part of a withdrawn state).`;
}
