import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../core/db.ts';
import { notFound } from '../core/errors.ts';
import { computeLiveAgreement, type LiveAgreement } from './live-agreement.ts';
import type { LiveEventView } from './live-events.ts';
import { findLiveSession, listParticipants, type LiveSessionRow } from './live-session.queries.ts';
import type { LiveRole } from './live.schema.ts';
import { describeTarget } from './live-target.ts';
import { loadSessionEthogram } from './session-ethogram.ts';
import { foldSession, type AdjudicationRecord, type SessionRecord } from './session-record.ts';

/**
 * A session's events in seq order, all of them: no blind filtering (that is `readLog`'s job, for people in a
 * session). For the summary, agreement and filing, which read a session as a whole. `sinceSeq` skips the events
 * up to it; `limit` caps how many come back (none by default).
 */
export async function loadSessionEvents(db: Db, sessionId: string, options: { sinceSeq?: number; limit?: number } = {}): Promise<LiveEventView[]> {
  const limit = options.limit === undefined ? sql`` : sql`LIMIT ${options.limit}`;
  return rowsOf<LiveEventView>(
    await db.execute(sql`SELECT seq, event_id AS id, type, actor_id AS "actorId", payload,
        to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
      FROM live_events WHERE session_id = ${sessionId}::uuid AND seq > ${options.sinceSeq ?? 0}
      ORDER BY seq ${limit}`),
  );
}

export interface SessionSummaryParticipant {
  userId: string;
  displayName: string;
  role: LiveRole;
  /** Removed people stay listed: their codes are still in the log. */
  removed: boolean;
}

export interface SessionSummaryBehaviour { id: string; code: string; name: string; kind: 'event' | 'state'; colour: string; category: string }

/** The latest adjudication of one code (by its id: event id of a point or span, start event id of a state). */
export interface SessionSummaryDecision extends AdjudicationRecord { eventId: string }

/** Everything the summary page shows about a session, in one typed shape. */
export interface SessionSummary {
  session: {
    id: string;
    title: string;
    status: LiveSessionRow['status'];
    blind: boolean;
    /** The full target settings (the name of a key variable at most, never a key) and a short description of it. */
    target: LiveSessionRow['target'];
    targetDescription: string;
    ethogramVersionId: string;
    owner: { id: string; displayName: string };
    createdAt: string;
    endedAt: string | null;
    lastSeq: number;
  };
  participants: SessionSummaryParticipant[];
  /** Display names of everyone the log or the roster names, by user id (for labelling codes and comments). */
  names: Record<string, string>;
  /** The behaviours of the session's ethogram version, to label codes with names and colours. */
  behaviours: SessionSummaryBehaviour[];
  record: SessionRecord;
  agreement: LiveAgreement;
  /** The latest decision per adjudicated code, in log order of the decisions. */
  decisions: SessionSummaryDecision[];
  /** The observation the session was filed as, or null. */
  observationId: string | null;
}

/**
 * Loads a session's summary: its row, owner and participants, the folded log, the observers' agreement, the
 * latest adjudication of each code and the filed observation.
 *
 * Everything is included, others' codes too: callers authorize first (`live.join`), and must not show a blind
 * session's summary to its participants while the session is still open.
 */
export async function loadSessionSummary(db: Db, sessionId: string): Promise<SessionSummary> {
  const session = await findLiveSession(db, sessionId);
  if (!session) throw notFound('That live session');
  const [events, participants, owner, ethogram] = await Promise.all([
    loadSessionEvents(db, sessionId),
    listParticipants(db, sessionId),
    db.execute(sql`SELECT display_name FROM users WHERE id = ${session.createdBy}::uuid`),
    loadSessionEthogram(db, session.ethogramVersionId),
  ]);
  const record = foldSession(events);
  const ownerName = rowsOf<{ display_name: string }>(owner)[0]?.display_name ?? '';
  const names: Record<string, string> = { [session.createdBy]: ownerName };
  for (const p of record.participants) if (p.displayName) names[p.userId] = p.displayName;
  for (const p of participants) names[p.userId] = p.displayName;
  await addMissingNames(db, names, [...record.coders, ...record.comments.flatMap((c) => (c.authorId ? [c.authorId] : []))]);

  return {
    session: {
      id: session.id,
      title: session.title,
      status: session.status,
      blind: session.blind,
      target: session.target,
      targetDescription: describeTarget(session.target),
      ethogramVersionId: session.ethogramVersionId,
      owner: { id: session.createdBy, displayName: ownerName },
      createdAt: iso(session.createdAt),
      endedAt: session.endedAt === null ? null : iso(session.endedAt),
      lastSeq: session.lastSeq,
    },
    participants: participants.map((p) => ({ userId: p.userId, displayName: p.displayName, role: p.role, removed: p.removedAt !== null })),
    names,
    behaviours: [...ethogram.behaviours.values()].map((b) => ({ id: b.id, code: b.code, name: b.name, kind: b.kind, colour: b.colour, category: b.category })),
    record,
    agreement: computeLiveAgreement(record),
    decisions: Object.entries(record.adjudications)
      .map(([eventId, d]) => ({ eventId, ...d }))
      .sort((a, b) => a.seq - b.seq),
    observationId: session.observationId ?? record.observationId,
  };
}

/** People the log names who are not on the roster any more (or never were): their names from the users table. */
async function addMissingNames(db: Db, names: Record<string, string>, ids: string[]): Promise<void> {
  const missing = [...new Set(ids)].filter((id) => !(id in names));
  if (missing.length === 0) return;
  const rows = rowsOf<{ id: string; display_name: string }>(
    await db.execute(sql`SELECT id, display_name FROM users WHERE id IN (${sql.join(missing.map((id) => sql`${id}::uuid`), sql`, `)})`),
  );
  for (const r of rows) names[r.id] = r.display_name;
}

function iso(value: string | Date): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}
