import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';
import { AppError, conflict, notFound } from '../core/errors.ts';
import type { ClientEvent, LiveEventView, StoredEventType, StoredPayloads } from './live-events.ts';
import { can, type Action, type LiveSessionRef } from '../core/policy.ts';
import type { UserActor } from '../accounts/actor.ts';
import type { LiveRole, LiveSessionStatus } from './live.schema.ts';
import { modifierProblem, type SessionEthogram, type SessionEthograms } from './session-ethogram.ts';
import { appendTokenRuns, type TokenRun } from './token-append.ts';

/** What the log is asked to append: a participant's event, or one the server makes (tokens, presence...). */
export type LogItem =
  | { kind: 'client'; actor: UserActor; event: ClientEvent }
  | { kind: 'server'; type: 'tokens'; turn: number; text: string }
  | { kind: 'server'; type: Exclude<StoredEventType, 'tokens'>; actorId: string | null; payload: StoredPayloads[Exclude<StoredEventType, 'tokens'>] };

/**
 * The outcome of one item: the stored events it produced (in order) and the sequence number of its main one.
 * `duplicate`: a client event with this id was already stored; `events` is then empty and `seq` is the first
 * time's. A token for an answer that is no longer streaming (stopped, or the session ended) is dropped: no events.
 */
export interface Appended { seq: number | null; events: LiveEventView[]; duplicate: boolean }

/** An item waiting for its session's turn at the writer, with the caller's promise to settle. */
interface Entry { item: LogItem; resolve: (appended: Appended) => void; reject: (error: unknown) => void }
interface SessionQueue { pending: Entry[]; busy: boolean }
type TokenItem = Extract<LogItem, { type: 'tokens' }>;

const MAX_BATCH = 200;
/**
 * The shared token write starts at most this often. People see the model's text from its previews (sent as each
 * token is queued here, see LiveRuntime), so the stored events need not keep the model's pace: a round every
 * 100 ms stores about five tokens a session in one event, and the database commits and the room's messages fall
 * with it (on the benchmark: PostgreSQL's CPU halved, the stored events' broadcasts a fifth). A code made on
 * previewed text does not wait for the round: it joins the tokens in front of it in its session's own batch. A
 * lone token after a quiet spell is written at once.
 */
const TOKEN_ROUND_EVERY_MS = 100;

/**
 * The single writer of session logs. Items for one session are applied in arrival order under the session's row
 * lock, so every process serving the session sees one numbering (1, 2, 3... with no gaps) and the same decisions
 * (a state's second press stops it; a code's position is inside the answer so far).
 *
 * Batching, without timers: while a session's batch is being written, its new items wait and go in its next
 * batch. A batch holding people's events is one transaction of its own. A batch that is only the model's tokens
 * for one answer (nearly every batch while models stream) joins the token write that all streaming sessions
 * share: one statement for every such session at once (`token-append.ts`), so twenty streaming sessions cost the
 * database one commit per round, not twenty, and consecutive tokens of one answer are stored as one event.
 */
export class LiveLog {
  private readonly db: Db;
  private readonly ethograms: SessionEthograms;
  private readonly now: () => Date;
  private readonly queues = new Map<string, SessionQueue>();
  private tokenWriteInFlight = false;
  private tokenRoundStartedAt = 0;
  private tokenRoundTimer: NodeJS.Timeout | null = null;
  private readonly versionOf = new Map<string, string>();

  constructor(
    db: Db,
    ethograms: SessionEthograms,
    now: () => Date,
  ) {
    this.db = db;
    this.ethograms = ethograms;
    this.now = now;
  }

  /** The session's ethogram version (fixed when the session opens), cached with the version's behaviours. */
  private async ethogramOf(sessionId: string): Promise<SessionEthogram> {
    let versionId = this.versionOf.get(sessionId);
    if (!versionId) {
      const row = rowsOf<{ ethogram_version_id: string }>(await this.db.execute(sql`SELECT ethogram_version_id FROM live_sessions WHERE id = ${sessionId}::uuid`))[0];
      if (!row) throw notFound('That live session');
      versionId = row.ethogram_version_id;
      this.versionOf.set(sessionId, versionId);
    }
    return this.ethograms.get(versionId);
  }

  /** Applies the item; resolves after commit with what was stored, or rejects with an AppError saying why not. */
  append(sessionId: string, item: LogItem): Promise<Appended> {
    return new Promise<Appended>((resolve, reject) => {
      let queue = this.queues.get(sessionId);
      if (!queue) {
        queue = { pending: [], busy: false };
        this.queues.set(sessionId, queue);
      }
      queue.pending.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Starts every batch that can start now: each idle session's transaction, and one shared token write. */
  private pump(): void {
    const tokenRuns: Array<{ sessionId: string; queue: SessionQueue; entries: Entry[] }> = [];
    for (const [sessionId, queue] of this.queues) {
      if (queue.busy) continue;
      if (queue.pending.length === 0) {
        this.queues.delete(sessionId);
        continue;
      }
      const onlyTokens = isOneAnswersTokens(queue.pending, MAX_BATCH);
      if (onlyTokens && (this.tokenWriteInFlight || this.tokenRoundTimer)) continue; // it joins the next shared write
      if (onlyTokens) {
        const wait = this.tokenRoundStartedAt + TOKEN_ROUND_EVERY_MS - Date.now();
        if (wait > 0) {
          this.tokenRoundTimer = setTimeout(() => {
            this.tokenRoundTimer = null;
            this.pump();
          }, wait);
          continue;
        }
      }
      const entries = queue.pending.splice(0, MAX_BATCH);
      queue.busy = true;
      if (onlyTokens) {
        tokenRuns.push({ sessionId, queue, entries });
        continue;
      }
      void this.writeSession(sessionId, entries).finally(() => {
        queue.busy = false;
        this.pump();
      });
    }
    if (tokenRuns.length === 0) return;
    this.tokenWriteInFlight = true;
    this.tokenRoundStartedAt = Date.now();
    void this.writeTokens(tokenRuns).finally(() => {
      this.tokenWriteInFlight = false;
      for (const run of tokenRuns) run.queue.busy = false;
      this.pump();
    });
  }

  private async writeTokens(runs: Array<{ sessionId: string; entries: Entry[] }>): Promise<void> {
    const asRun = (r: { sessionId: string; entries: Entry[] }): TokenRun => {
      const items = r.entries.map((e) => e.item as TokenItem);
      return { sessionId: r.sessionId, turn: items[0]!.turn, texts: items.map((i) => i.text) };
    };
    try {
      const results = await appendTokenRuns(this.db, runs.map(asRun), this.now());
      runs.forEach((r, i) => r.entries.forEach((e, j) => e.resolve(results[i]![j]!)));
    } catch (error) {
      if (runs.length === 1) {
        for (const e of runs[0]!.entries) e.reject(error);
        return;
      }
      // A shared write that fails is retried session by session, so one session's trouble stays its own.
      await Promise.all(
        runs.map(async (r) => {
          try {
            const [results] = await appendTokenRuns(this.db, [asRun(r)], this.now());
            r.entries.forEach((e, j) => e.resolve(results![j]!));
          } catch (own) {
            for (const e of r.entries) e.reject(own);
          }
        }),
      );
    }
  }

  /**
   * One session's transaction. An item the log refuses (an AppError: not allowed, a position past the answer...)
   * is refused alone and the rest of the batch is stored; a database failure fails the batch, whose items are then
   * written one by one, in order, so each caller gets its own outcome.
   */
  private async writeSession(sessionId: string, entries: Entry[]): Promise<void> {
    const attempt = async (batch: Entry[]) => {
      // Read before the transaction: on PGlite (one connection) a query on the root handle inside it would wait
      // for the transaction to end, forever.
      const ethogram = await this.ethogramOf(sessionId);
      const items = batch.map((e) => e.item);
      // Optimistic first: read, decide, then one guarded statement (see applyBatch). If another writer moved the
      // session on in between, the batch is decided again under the session's row lock, which always succeeds.
      const outcomes =
        (await applyBatch(this.db, sessionId, items, ethogram, this.now(), false)) ??
        (await inTransaction(this.db, async (tx) => {
          const underLock = await applyBatch(tx, sessionId, items, ethogram, this.now(), true);
          if (!underLock) throw new Error('The live session moved on while its row was locked.');
          return underLock;
        }));
      outcomes.forEach((o, i) => (o instanceof AppError ? batch[i]!.reject(o) : batch[i]!.resolve(o)));
    };
    try {
      await attempt(entries);
    } catch (error) {
      if (entries.length === 1 || error instanceof AppError) {
        for (const e of entries) e.reject(error);
        return;
      }
      for (const e of entries) {
        try {
          await attempt([e]);
        } catch (own) {
          e.reject(own);
        }
      }
    }
  }
}

/** Whether the first `limit` entries are all tokens of one answer (the shared token write's case). */
function isOneAnswersTokens(entries: Entry[], limit: number): boolean {
  const first = entries[0]?.item;
  if (!first || first.kind !== 'server' || first.type !== 'tokens') return false;
  for (let i = 1; i < Math.min(entries.length, limit); i++) {
    const item = entries[i]!.item;
    if (item.kind !== 'server' || item.type !== 'tokens' || item.turn !== first.turn) return false;
  }
  return true;
}

interface TurnState { status: string; length: number }

/** The session's state as the batch's checks need it, loaded under the lock and updated as items apply. */
interface State {
  status: LiveSessionStatus;
  createdBy: string;
  ethogram: SessionEthogram;
  participants: Map<string, LiveRole>;
  turns: Map<number, TurnState>;
  open: Map<string, string>; // `${coderId} ${code}` -> start event id
  seen: Map<string, number>; // stored client event ids -> seq
  answers: Map<number, string>; // the stored answers of the turns this batch's spans quote from
}

/**
 * Applies the batch's items in order; an item refused by the rules comes back as its AppError in its place (every
 * refusal is decided before the item changes anything, so the others are unaffected).
 *
 * Two round trips, however many items: one statement reads what the checks need, the items are decided here, and
 * one statement writes everything (the events, the answers, the open states, the session's counter), guarded by
 * the counter it read: if another writer (another process, a participant change) stored anything in between, the
 * guard fails, nothing is written, and this returns null so the caller can decide the batch again under the row
 * lock (`locked`: called in a transaction, it takes `FOR UPDATE` first, and the guard then always holds). With no
 * transaction held open across round trips, a batch takes a fraction of the time, and the ones queued behind it
 * (people's codes, waiting for their acknowledgement) wait that much less.
 */
async function applyBatch(db: Db, sessionId: string, items: LogItem[], ethogram: SessionEthogram, now: Date, locked: boolean): Promise<Array<Appended | AppError> | null> {
  const clientIds = items.flatMap((i) => (i.kind === 'client' ? [i.event.id] : []));
  // The answers spans quote from, read now rather than one statement per span.
  const spanTurns = [...new Set(items.flatMap((i) => (i.kind === 'client' && i.event.type === 'code' && i.event.span ? [i.event.span.turn] : [])))];
  // Under the lock: the lock first, then everything the checks read, in a second statement (under READ COMMITTED
  // a statement that waited for the lock still reads other tables as of its start, so reads in the locking
  // statement could miss what the previous holder, another process, committed). Unlocked, one statement's
  // snapshot is consistent, and the guard catches anything committed after it. The reads: the session's row, the
  // turns, and for people's events who the participants are, which states are open and which of these ids are
  // stored (retries).
  if (locked && rowsOf(await db.execute(sql`SELECT 1 FROM live_sessions WHERE id = ${sessionId}::uuid FOR UPDATE`)).length === 0) throw notFound('That live session');
  const people = clientIds.length > 0;
  const session = rowsOf<{
    status: LiveSessionStatus;
    last_seq: number;
    created_by: string;
    turns: Array<[number, string, number]>;
    participants: Array<[string, LiveRole]> | null;
    open: Array<[string, string, string]> | null;
    seen: Array<[string, number]> | null;
    answers: Array<[number, string]> | null;
  }>(
    await db.execute(sql`SELECT s.status, s.last_seq, s.created_by,
        (SELECT coalesce(json_agg(json_build_array(t.turn, t.status, t.answer_length)), '[]'::json) FROM live_turns t WHERE t.session_id = s.id) AS turns,
        ${people ? sql`(SELECT coalesce(json_agg(json_build_array(p.user_id, p.role)), '[]'::json) FROM live_participants p WHERE p.session_id = s.id AND p.removed_at IS NULL)` : sql`NULL::json`} AS participants,
        ${people ? sql`(SELECT coalesce(json_agg(json_build_array(o.coder_id, o.behaviour_code, o.start_event_id)), '[]'::json) FROM live_open_states o WHERE o.session_id = s.id)` : sql`NULL::json`} AS open,
        ${people ? sql`(SELECT coalesce(json_agg(json_build_array(e.event_id, e.seq)), '[]'::json) FROM live_events e WHERE e.session_id = s.id AND e.event_id = ANY(${toPgArray(clientIds)}::text[]))` : sql`NULL::json`} AS seen,
        ${spanTurns.length > 0 ? sql`(SELECT json_agg(json_build_array(t.turn, t.answer)) FROM live_turns t WHERE t.session_id = s.id AND t.turn = ANY(${`{${spanTurns.join(',')}}`}::int[]))` : sql`NULL::json`} AS answers
      FROM live_sessions s WHERE s.id = ${sessionId}::uuid`),
  )[0];
  if (!session) throw notFound('That live session');
  const state: State = {
    status: session.status,
    createdBy: session.created_by,
    ethogram,
    participants: new Map(session.participants ?? []),
    turns: new Map(session.turns.map(([turn, status, length]) => [turn, { status, length }])),
    open: new Map((session.open ?? []).map(([coderId, code, startEventId]) => [`${coderId} ${code}`, startEventId])),
    seen: new Map(session.seen ?? []),
    answers: new Map(session.answers ?? []),
  };
  const openBefore = new Map(state.open);
  const statusBefore = new Map([...state.turns].map(([turn, t]) => [turn, t.status]));

  let seq = session.last_seq;
  const at = now.toISOString();
  const stored: LiveEventView[] = [];
  const store = <T extends StoredEventType>(id: string, type: T, actorId: string | null, payload: StoredPayloads[T]): LiveEventView<T> => {
    const view = { seq: ++seq, id, type, actorId, payload, at } as LiveEventView<T>;
    stored.push(view as LiveEventView);
    return view;
  };
  const appendsToAnswer = new Map<number, string>();
  const prompts = new Map<number, { text: string; by: string }>();
  const ctx: ApplyCtx = { db, sessionId, state, store, stored, prompts, appendsToAnswer };

  const results: Array<Appended | AppError> = [];
  for (const item of items) {
    if (item.kind === 'client') {
      const first = state.seen.get(item.event.id);
      if (first !== undefined) {
        results.push({ seq: first, events: [], duplicate: true });
        continue;
      }
      const before = stored.length;
      try {
        await applyClientEvent(ctx, item.actor, item.event);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        results.push(error);
        continue;
      }
      const events = stored.slice(before);
      const main = events.find((e) => e.id === item.event.id) ?? events[events.length - 1]!;
      state.seen.set(item.event.id, main.seq);
      results.push({ seq: main.seq, events, duplicate: false });
    } else if (item.type === 'tokens') {
      results.push(applyTokens(ctx, item.turn, item.text));
    } else {
      const before = stored.length;
      applyServerEvent(ctx, item.type, item.actorId, item.payload);
      const events = stored.slice(before);
      results.push({ seq: events[0]?.seq ?? null, events, duplicate: false });
    }
  }
  if (stored.length === 0) return results;

  // One statement writes the batch, each part only if the guard moved the counter from what was read.
  const guarded = sql`EXISTS (SELECT 1 FROM guard)`;
  const changes = [
    sql`guard AS (UPDATE live_sessions SET last_seq = ${seq}, status = ${state.status},
      ended_at = CASE WHEN ${state.status} <> 'open' AND ended_at IS NULL THEN ${at}::timestamptz ELSE ended_at END
      WHERE id = ${sessionId}::uuid AND last_seq = ${session.last_seq} RETURNING 1)`,
  ];
  // The turns as they end the batch: new ones inserted whole, the others updated once (a statement's parts all see
  // the rows as they were before it, so one row must not be changed by two of them).
  for (const [turn, t] of state.turns) {
    const text = appendsToAnswer.get(turn) ?? '';
    const prompt = prompts.get(turn);
    if (prompt) {
      changes.push(sql`INSERT INTO live_turns (session_id, turn, prompt, answer, answer_length, status, prompted_by)
        SELECT ${sessionId}::uuid, ${turn}::int, ${prompt.text}::text, ${text}::text, ${text.length}::int, ${t.status}::text, ${prompt.by}::uuid WHERE ${guarded}`);
    } else if (text !== '' || t.status !== statusBefore.get(turn)) {
      changes.push(sql`UPDATE live_turns SET answer = answer || ${text}, answer_length = answer_length + ${text.length}, status = ${t.status}
        ${text !== '' ? sql`, updated_at = ${at}::timestamptz` : sql``}
        WHERE session_id = ${sessionId}::uuid AND turn = ${turn} AND ${guarded}`);
    }
  }
  // The open states as they end the batch, against those read.
  const closed = [...openBefore.keys()].filter((key) => !state.open.has(key));
  const opened = [...state.open].filter(([key, start]) => openBefore.get(key) !== start);
  const coderAndCode = (key: string) => key.split(' ') as [string, string];
  if (closed.length > 0) {
    const keys = closed.map(coderAndCode).map(([coderId, code]) => sql`(${coderId}::uuid, ${code})`);
    changes.push(sql`DELETE FROM live_open_states WHERE session_id = ${sessionId}::uuid AND (coder_id, behaviour_code) IN (${sql.join(keys, sql`, `)}) AND ${guarded}`);
  }
  if (opened.length > 0) {
    const rows = opened.map(([key, start]) => {
      const [coderId, code] = coderAndCode(key);
      return sql`(${sessionId}::uuid, ${coderId}::uuid, ${code}::text, ${start}::text)`;
    });
    changes.push(sql`INSERT INTO live_open_states (session_id, coder_id, behaviour_code, start_event_id)
      SELECT * FROM (VALUES ${sql.join(rows, sql`, `)}) AS v WHERE ${guarded}
      ON CONFLICT (session_id, coder_id, behaviour_code) DO UPDATE SET start_event_id = EXCLUDED.start_event_id`);
  }
  const values = stored.map(
    (e) => sql`(${sessionId}::uuid, ${e.seq}::int, ${e.id}::text, ${e.type}::text, ${e.actorId}::uuid, ${JSON.stringify(e.payload)}::jsonb, ${at}::timestamptz)`,
  );
  changes.push(sql`INSERT INTO live_events (session_id, seq, event_id, type, actor_id, payload, at)
    SELECT * FROM (VALUES ${sql.join(values, sql`, `)}) AS v WHERE ${guarded}`);
  const named = changes.map((c, i) => (i === 0 ? c : sql`${sql.raw(`change_${i}`)} AS (${c})`));
  const wrote = rowsOf<{ n: number }>(await db.execute(sql`WITH ${sql.join(named, sql`, `)} SELECT count(*)::int AS n FROM guard`))[0]!.n;
  return wrote === 1 ? results : null;
}

interface ApplyCtx {
  db: Db;
  sessionId: string;
  state: State;
  store: <T extends StoredEventType>(id: string, type: T, actorId: string | null, payload: StoredPayloads[T]) => LiveEventView<T>;
  stored: LiveEventView[];
  /** The turns this batch creates (by prompting): their prompt and who sent it. */
  prompts: Map<number, { text: string; by: string }>;
  appendsToAnswer: Map<number, string>;
}

function applyTokens(ctx: ApplyCtx, turn: number, text: string): Appended {
  const t = ctx.state.turns.get(turn);
  if (!t || t.status !== 'streaming' || text === '') return { seq: null, events: [], duplicate: false };
  const offset = t.length;
  t.length += text.length;
  ctx.appendsToAnswer.set(turn, (ctx.appendsToAnswer.get(turn) ?? '') + text);
  // Consecutive tokens of one answer within a batch become one event: the same text at the same offsets.
  const last = ctx.stored[ctx.stored.length - 1] as LiveEventView<'tokens'> | undefined;
  if (last?.type === 'tokens' && last.payload.turn === turn && last.payload.offset + last.payload.text.length === offset) {
    last.payload.text += text;
    return { seq: last.seq, events: [], duplicate: false };
  }
  const view = ctx.store(randomUUID(), 'tokens', null, { turn, offset, text });
  return { seq: view.seq, events: [view], duplicate: false };
}

const refused: Record<string, string> = {
  'live.prompt': 'Only the driver prompts the model',
  'live.code': 'Only observers code',
  'live.comment': 'Only participants comment',
  'live.end': 'Only the session\'s owner or its driver ends it',
};

function check(ctx: ApplyCtx, actor: UserActor, action: Extract<Action, `live.${string}`>): void {
  const { state } = ctx;
  const role = state.participants.get(actor.id) ?? null;
  const ref = { createdBy: state.createdBy, role, status: state.status };
  if ((can as (a: UserActor, action: Action, r: LiveSessionRef) => boolean)(actor, action, ref)) return;
  if (state.status !== 'open') throw conflict('This session has ended: it takes no more events.');
  if (role === null) throw new AppError('forbidden', 'You are not a participant of this session.');
  throw new AppError('forbidden', `${refused[action] ?? 'Your role does not allow that'}; your role here is ${role}.`);
}

function streamingTurn(state: State): number | null {
  for (const [turn, t] of state.turns) if (t.status === 'streaming') return turn;
  return null;
}

async function applyClientEvent(ctx: ApplyCtx, actor: UserActor, event: ClientEvent): Promise<void> {
  const { state, store } = ctx;
  switch (event.type) {
    case 'prompt': {
      check(ctx, actor, 'live.prompt');
      if (streamingTurn(state) !== null) throw conflict('The model is still answering: wait for it, or stop it first.');
      const turn = state.turns.size;
      state.turns.set(turn, { status: 'streaming', length: 0 });
      ctx.prompts.set(turn, { text: event.text, by: actor.id });
      store(event.id, 'prompt', actor.id, { turn, text: event.text });
      return;
    }
    case 'stop': {
      check(ctx, actor, 'live.prompt');
      const turn = streamingTurn(state);
      if (turn === null) throw conflict('The model is not answering: there is nothing to stop.');
      store(event.id, 'stop', actor.id, { turn });
      // The stop ends the answer in the log at once, whichever process streams it (or none: the process that did
      // may have died); tokens still in flight from the stream are dropped.
      endAnswer(ctx, turn, { status: 'stopped', finishReason: null, modelVersion: null, usage: null, error: null });
      return;
    }
    case 'comment':
      check(ctx, actor, 'live.comment');
      store(event.id, 'comment', actor.id, { text: event.text });
      return;
    case 'code':
      check(ctx, actor, 'live.code');
      return applyCode(ctx, actor, event);
    case 'undo':
      check(ctx, actor, 'live.code');
      return applyUndo(ctx, actor, event);
    case 'end': {
      check(ctx, actor, 'live.end');
      const closedStates: StoredPayloads['session.ended']['closedStates'] = [];
      const streaming = streamingTurn(state);
      if (streaming !== null) endAnswer(ctx, streaming, { status: 'stopped', finishReason: null, modelVersion: null, usage: null, error: null });
      const last = lastPosition(state);
      for (const [key, startEventId] of state.open) {
        const [coderId, behaviourCode] = key.split(' ') as [string, string];
        const behaviour = state.ethogram.behaviours.get(behaviourCode);
        const stop = store(`${event.id}-close-${closedStates.length + 1}`, 'code', coderId, {
          kind: 'state_stop', behaviourCode, behaviourId: behaviour?.id ?? '', at: last, span: null, modifiers: {}, rationale: 'closed by the session\'s end', startEventId, autoClosed: true,
        });
        closedStates.push({ coderId, behaviourCode, startEventId, stopEventId: stop.id });
      }
      state.open.clear();
      state.status = 'ended';
      store(event.id, 'session.ended', actor.id, { closedStates });
      return;
    }
  }
}

/** Where the conversation is now: the end of the last answer so far. */
function lastPosition(state: State): { turn: number; offset: number } {
  const turn = state.turns.size - 1;
  return turn < 0 ? { turn: 0, offset: 0 } : { turn, offset: state.turns.get(turn)!.length };
}

function checkPosition(state: State, turn: number, offset: number, what: string): void {
  const t = state.turns.get(turn);
  if (!t) throw new AppError('validation_failed', `${what}: turn ${turn} does not exist yet (this session has ${state.turns.size} turn${state.turns.size === 1 ? '' : 's'}).`);
  if (offset > t.length) {
    // While the answer streams, text a client was shown may not be stored yet when its code reaches another server
    // process than the one streaming (previews go out before the text commits there): the runtime tries again.
    const details = t.status === 'streaming' ? { [ANSWER_NOT_STORED_YET]: true } : undefined;
    throw new AppError('validation_failed', `${what}: offset ${offset} is past the answer so far (${t.length} characters in turn ${turn}).`, details);
  }
}

/** Marks a position refused only because the answer's text so far is not all stored yet (see checkPosition). */
export const ANSWER_NOT_STORED_YET = 'answerNotStoredYet';
export const isAnswerNotStoredYet = (error: unknown) => error instanceof AppError && error.details?.[ANSWER_NOT_STORED_YET] === true;

async function applyCode(ctx: ApplyCtx, actor: UserActor, event: Extract<ClientEvent, { type: 'code' }>): Promise<void> {
  const { state, store } = ctx;
  const behaviour = state.ethogram.behaviours.get(event.behaviourCode);
  if (!behaviour) {
    throw new AppError('validation_failed', `"${event.behaviourCode}" is not a behaviour of this session's ethogram version.`, { fields: { behaviourCode: 'not in the session\'s ethogram' } });
  }
  const problem = modifierProblem(state.ethogram, behaviour, event.modifiers);
  if (problem) throw new AppError('validation_failed', `Modifiers: ${problem}.`, { fields: { modifiers: problem } });
  checkPosition(state, event.at.turn, event.at.offset, 'The code\'s position');
  const common = { behaviourCode: behaviour.code, behaviourId: behaviour.id, at: event.at, modifiers: event.modifiers, rationale: event.rationale, autoClosed: false };
  if (event.span) {
    const { turn, start, end } = event.span;
    checkPosition(state, turn, end, 'The selected span');
    const answer = state.answers.get(turn) ?? '';
    const pending = ctx.appendsToAnswer.get(turn) ?? '';
    const quote = (answer + pending).slice(start, end);
    store(event.id, 'code', actor.id, { ...common, kind: 'span', span: { turn, start, end, quote }, startEventId: null });
    return;
  }
  if (behaviour.kind === 'event') {
    store(event.id, 'code', actor.id, { ...common, kind: 'point', span: null, startEventId: null });
    return;
  }
  const key = `${actor.id} ${behaviour.code}`;
  const startEventId = state.open.get(key);
  if (startEventId) {
    state.open.delete(key);
    store(event.id, 'code', actor.id, { ...common, kind: 'state_stop', span: null, startEventId });
  } else {
    state.open.set(key, event.id);
    store(event.id, 'code', actor.id, { ...common, kind: 'state_start', span: null, startEventId: null });
  }
}

async function applyUndo(ctx: ApplyCtx, actor: UserActor, event: Extract<ClientEvent, { type: 'undo' }>): Promise<void> {
  const { state, store, db, sessionId } = ctx;
  const inBatch = ctx.stored.find((e) => e.id === event.target);
  const target =
    inBatch ??
    rowsOf<LiveEventView>(
      await db.execute(sql`SELECT seq, event_id AS id, type, actor_id AS "actorId", payload FROM live_events WHERE session_id = ${sessionId}::uuid AND event_id = ${event.target}`),
    )[0];
  if (!target || target.type !== 'code') throw notFound('The code to undo');
  if (target.actorId !== actor.id) throw new AppError('forbidden', 'You can undo only your own codes.');
  const undone =
    ctx.stored.some((e) => e.type === 'undo' && (e.payload as StoredPayloads['undo']).target === event.target) ||
    rowsOf(await db.execute(sql`SELECT 1 FROM live_events WHERE session_id = ${sessionId}::uuid AND type = 'undo' AND payload->>'target' = ${event.target}`)).length > 0;
  if (undone) throw conflict('That code has already been undone.');
  const code = target.payload as StoredPayloads['code'];
  const key = `${actor.id} ${code.behaviourCode}`;
  // Undoing a state's start withdraws the whole state (its stop, if any, goes with it); undoing its stop opens it again.
  if (code.kind === 'state_start' && state.open.get(key) === target.id) {
    state.open.delete(key);
  } else if (code.kind === 'state_stop' && code.startEventId) {
    if (state.open.has(key)) throw conflict(`${code.behaviourCode} is running again already: stop it before undoing the earlier stop.`);
    state.open.set(key, code.startEventId);
  }
  store(event.id, 'undo', actor.id, { target: event.target });
}

type AnswerEnd = Omit<StoredPayloads['answer.ended'], 'turn' | 'length'>;

function endAnswer(ctx: ApplyCtx, turn: number, end: AnswerEnd): void {
  const t = ctx.state.turns.get(turn)!;
  t.status = end.status;
  ctx.store(randomUUID(), 'answer.ended', null, { turn, length: t.length, ...end });
}

function applyServerEvent<T extends Exclude<StoredEventType, 'tokens'>>(ctx: ApplyCtx, type: T, actorId: string | null, payload: StoredPayloads[T]): void {
  if (type === 'answer.ended') {
    const p = payload as StoredPayloads['answer.ended'];
    // The session's end (or a stop that already ended it) has closed this answer: nothing more to record.
    if (ctx.state.turns.get(p.turn)?.status !== 'streaming') return;
    endAnswer(ctx, p.turn, { status: p.status, finishReason: p.finishReason, modelVersion: p.modelVersion, usage: p.usage, error: p.error });
    return;
  }
  if (type === 'answer.started') {
    if (ctx.state.turns.get((payload as StoredPayloads['answer.started']).turn)?.status !== 'streaming') return;
  }
  if (type === 'adjudicated' || type === 'session.filed') {
    ctx.state.status = type === 'session.filed' ? 'filed' : ctx.state.status;
  }
  ctx.store(randomUUID(), type, actorId, payload);
}

function toPgArray(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * Appends one server event inside the caller's transaction (a command that changes rows and logs it atomically:
 * participants, adjudication, filing). It takes the same session row lock as the batched writer, so numbering
 * stays gapless across both. Publish the returned event after the transaction commits.
 */
export async function appendInTransaction<T extends StoredEventType>(tx: Db, sessionId: string, type: T, actorId: string | null, payload: StoredPayloads[T], at: Date): Promise<LiveEventView<T>> {
  const row = rowsOf<{ last_seq: number }>(await tx.execute(sql`SELECT last_seq FROM live_sessions WHERE id = ${sessionId}::uuid FOR UPDATE`))[0];
  if (!row) throw notFound('That live session');
  const seq = row.last_seq + 1;
  const id = randomUUID();
  const iso = at.toISOString();
  await tx.execute(sql`INSERT INTO live_events (session_id, seq, event_id, type, actor_id, payload, at)
    VALUES (${sessionId}::uuid, ${seq}, ${id}, ${type}, ${actorId}::uuid, ${JSON.stringify(payload)}::jsonb, ${iso}::timestamptz)`);
  await tx.execute(sql`UPDATE live_sessions SET last_seq = ${seq}${type === 'session.filed' ? sql`, status = 'filed'` : sql``} WHERE id = ${sessionId}::uuid`);
  return { seq, id, type, actorId, payload, at: iso };
}
