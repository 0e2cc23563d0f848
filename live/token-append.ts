import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../core/db.ts';
import type { LiveEventView } from './live-events.ts';
import type { Appended } from './live-log.ts';

/** One session's share of a token write: the texts (in arrival order) of one answer, stored as one event. */
export interface TokenRun { sessionId: string; turn: number; texts: string[] }

/**
 * The hot path while models stream: every session whose pending items are only one answer's tokens is written in
 * ONE statement (one round trip, one commit), however many sessions stream at once. For each session it appends
 * the text to the answer only if that answer is still streaming, takes the next sequence number only if it did
 * (no gaps), and stores the tokens as one event at the offset the answer had.
 *
 * Locks: the sessions' rows are locked first, in id order (every other writer locks one session's row, and two
 * of these statements lock theirs in the same order, so no deadlock), and the answer and counter updates wait
 * on them, as the transactional path's do, so numbering stays in order with every writer in every process. A
 * row changed meanwhile (a stop committed by another process) is re-read before it is updated (READ COMMITTED's
 * recheck), so tokens for a stopped answer are dropped, not appended.
 *
 * The commit is synchronous like every other: clients code at positions in the text they were sent, so text they
 * were sent must survive a crash (with PGlite the database dies with the process), or their codes would be
 * refused as past the answer after a restart.
 */
export async function appendTokenRuns(db: Db, runs: TokenRun[], now: Date): Promise<Appended[][]> {
  const at = now.toISOString();
  const none = (run: TokenRun) => run.texts.map((): Appended => ({ seq: null, events: [], duplicate: false }));
  const texts = runs.map((run) => run.texts.join(''));
  const input = runs
    // UTF-16 code units, as the answer's length is counted everywhere else (the client's offsets are JavaScript's).
    .map((run, i) => ({ session_id: run.sessionId, turn: run.turn, text: texts[i]!, length: texts[i]!.length, event_id: randomUUID() }))
    .filter((row) => row.text !== '');
  if (input.length === 0) return runs.map(none);
  const rows = rowsOf<{ session_id: string; seq: number; offset: number; event_id: string }>(
    await db.execute(sql`WITH input AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS i(session_id uuid, turn int, text text, length int, event_id text)),
      locked AS (
        SELECT s.id FROM live_sessions s
        WHERE s.id IN (SELECT session_id FROM input)
        ORDER BY s.id FOR UPDATE),
      answer AS (
        UPDATE live_turns t SET answer = t.answer || i.text, answer_length = t.answer_length + i.length, updated_at = ${at}::timestamptz
        FROM input i
        WHERE t.session_id = i.session_id AND t.turn = i.turn AND t.status = 'streaming'
          AND t.session_id = ANY (ARRAY(SELECT id FROM locked))
        RETURNING t.session_id, t.answer_length - i.length AS "offset"),
      counter AS (
        UPDATE live_sessions s SET last_seq = s.last_seq + 1 FROM answer a WHERE s.id = a.session_id
        RETURNING s.id, s.last_seq)
      INSERT INTO live_events (session_id, seq, event_id, type, actor_id, payload, at)
      SELECT c.id, c.last_seq, i.event_id, 'tokens', NULL,
        jsonb_build_object('turn', i.turn, 'offset', a."offset", 'text', i.text), ${at}::timestamptz
      FROM counter c JOIN answer a ON a.session_id = c.id JOIN input i ON i.session_id = c.id
      RETURNING session_id, seq, (payload->>'offset')::int AS "offset", event_id`),
  );
  const stored = new Map(rows.map((r) => [r.session_id, r]));
  return runs.map((run, i) => {
    const row = stored.get(run.sessionId);
    if (!row) return none(run);
    const text = texts[i]!;
    const view: LiveEventView<'tokens'> = { seq: row.seq, id: row.event_id, type: 'tokens', actorId: null, payload: { turn: run.turn, offset: row.offset, text }, at };
    return run.texts.map((_, i): Appended => ({ seq: row.seq, events: i === 0 ? [view as LiveEventView] : [], duplicate: false }));
  });
}
