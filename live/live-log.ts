import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';
import { AppError, conflict, notFound } from '../core/errors.ts';
import { WriteBatcher } from '../core/write-batcher.ts';
import type { ClientEvent, LiveEventView, StoredEventType, StoredPayloads } from './live-events.ts';
import { can, type Action, type LiveSessionRef } from '../core/policy.ts';
import type { UserActor } from '../accounts/actor.ts';
import type { LiveRole, LiveSessionStatus } from './live.schema.ts';
import { modifierProblem, type SessionEthogram, type SessionEthograms } from './session-ethogram.ts';

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

interface Slot { item: LogItem; result?: Appended }

/**
 * The single writer of session logs. Items for one session are applied in arrival order under the session's row
 * lock, so every process serving the session sees one numbering (1, 2, 3... with no gaps) and the same decisions
 * (a state's second press stops it; a code's position is inside the answer so far). Items that arrive while a
 * session's previous batch is being written go in its next batch (one transaction), so a model's tokens cost a
 * statement per batch, not per token, and consecutive tokens of one answer are stored as one event.
 */
export class LiveLog {
  private readonly batchers = new Map<string, WriteBatcher<Slot>>();
  private readonly versionOf = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly ethograms: SessionEthograms,
    private readonly now: () => Date,
  ) {}

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
  async append(sessionId: string, item: LogItem): Promise<Appended> {
    let batcher = this.batchers.get(sessionId);
    if (!batcher) {
      batcher = new WriteBatcher<Slot>((slots) => this.applyBatch(sessionId, slots), { maxBatch: 200, maxInFlight: 1 });
      this.batchers.set(sessionId, batcher);
    }
    const slot: Slot = { item };
    await batcher.write(slot);
    return slot.result!;
  }

  private async applyBatch(sessionId: string, slots: Slot[]): Promise<void> {
    const tokens = slots.map((s) => s.item).filter((i): i is Extract<LogItem, { type: 'tokens' }> => i.kind === 'server' && i.type === 'tokens');
    if (tokens.length === slots.length && tokens.every((t) => t.turn === tokens[0]!.turn)) {
      const results = await appendTokens(this.db, sessionId, tokens[0]!.turn, tokens.map((t) => t.text), this.now());
      slots.forEach((s, i) => (s.result = results[i]));
      return;
    }
    // Read before the transaction: on PGlite (one connection) a query on the root handle inside it would wait
    // for the transaction to end, forever.
    const ethogram = await this.ethogramOf(sessionId);
    const results = await inTransaction(this.db, (tx) => applyInTransaction(tx, sessionId, slots.map((s) => s.item), ethogram, this.now()));
    slots.forEach((s, i) => (s.result = results[i]));
  }
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
}

async function applyInTransaction(tx: Db, sessionId: string, items: LogItem[], ethogram: SessionEthogram, now: Date): Promise<Appended[]> {
  // The lock and the turns in one round trip: a batch of tokens costs three (this, the writes, the commit).
  const session = rowsOf<{ status: LiveSessionStatus; last_seq: number; created_by: string; turns: Array<[number, string, number]> }>(
    await tx.execute(sql`SELECT s.status, s.last_seq, s.created_by,
        (SELECT coalesce(json_agg(json_build_array(t.turn, t.status, t.answer_length)), '[]'::json) FROM live_turns t WHERE t.session_id = s.id) AS turns
      FROM live_sessions s WHERE s.id = ${sessionId}::uuid FOR UPDATE OF s`),
  )[0];
  if (!session) throw notFound('That live session');
  const clientIds = items.flatMap((i) => (i.kind === 'client' ? [i.event.id] : []));
  // One after another: a transaction is one connection, and node-postgres wants one query at a time on it.
  // A batch of the model's tokens needs only the turns; people's events need who they are and what is open.
  const none = { rows: [] };
  const participants = clientIds.length ? await tx.execute(sql`SELECT user_id, role FROM live_participants WHERE session_id = ${sessionId}::uuid AND removed_at IS NULL`) : none;
  const open = clientIds.length ? await tx.execute(sql`SELECT coder_id, behaviour_code, start_event_id FROM live_open_states WHERE session_id = ${sessionId}::uuid`) : none;
  const seen = clientIds.length
    ? await tx.execute(sql`SELECT event_id, seq FROM live_events WHERE session_id = ${sessionId}::uuid AND event_id = ANY(${toPgArray(clientIds)}::text[])`)
    : none;
  const state: State = {
    status: session.status,
    createdBy: session.created_by,
    ethogram,
    participants: new Map(rowsOf<{ user_id: string; role: LiveRole }>(participants).map((r) => [r.user_id, r.role])),
    turns: new Map(session.turns.map(([turn, status, length]) => [turn, { status, length }])),
    open: new Map(rowsOf<{ coder_id: string; behaviour_code: string; start_event_id: string }>(open).map((r) => [`${r.coder_id} ${r.behaviour_code}`, r.start_event_id])),
    seen: new Map(rowsOf<{ event_id: string; seq: number }>(seen).map((r) => [r.event_id, r.seq])),
  };

  let seq = session.last_seq;
  const at = now.toISOString();
  const stored: LiveEventView[] = [];
  const store = <T extends StoredEventType>(id: string, type: T, actorId: string | null, payload: StoredPayloads[T]): LiveEventView<T> => {
    const view = { seq: ++seq, id, type, actorId, payload, at } as LiveEventView<T>;
    stored.push(view as LiveEventView);
    return view;
  };
  const appendsToAnswer = new Map<number, string>();
  const writes: Array<() => Promise<unknown>> = [];
  const ctx: ApplyCtx = { tx, sessionId, state, store, stored, writes, appendsToAnswer };

  const results: Appended[] = [];
  for (const item of items) {
    if (item.kind === 'client') {
      const first = state.seen.get(item.event.id);
      if (first !== undefined) {
        results.push({ seq: first, events: [], duplicate: true });
        continue;
      }
      const before = stored.length;
      await applyClientEvent(ctx, item.actor, item.event);
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

  for (const write of writes) await write();
  // The answers, the events and the session's counter in one statement (data-modifying CTEs, one round trip).
  const changes = [...appendsToAnswer].map(
    ([turn, text]) => sql`UPDATE live_turns SET answer = answer || ${text}, answer_length = answer_length + ${text.length}, updated_at = ${at}::timestamptz
      WHERE session_id = ${sessionId}::uuid AND turn = ${turn}`,
  );
  const values = stored.map(
    (e) => sql`(${sessionId}::uuid, ${e.seq}, ${e.id}, ${e.type}, ${e.actorId}::uuid, ${JSON.stringify(e.payload)}::jsonb, ${at}::timestamptz)`,
  );
  changes.push(sql`INSERT INTO live_events (session_id, seq, event_id, type, actor_id, payload, at) VALUES ${sql.join(values, sql`, `)}`);
  changes.push(sql`UPDATE live_sessions SET last_seq = ${seq}, status = ${state.status},
      ended_at = CASE WHEN ${state.status} <> 'open' AND ended_at IS NULL THEN ${at}::timestamptz ELSE ended_at END
      WHERE id = ${sessionId}::uuid`);
  await tx.execute(sql`WITH ${sql.join(changes.map((c, i) => sql`${sql.raw(`change_${i}`)} AS (${c})`), sql`, `)} SELECT 1`);
  return results;
}

interface ApplyCtx {
  tx: Db;
  sessionId: string;
  state: State;
  store: <T extends StoredEventType>(id: string, type: T, actorId: string | null, payload: StoredPayloads[T]) => LiveEventView<T>;
  stored: LiveEventView[];
  /** Row writes besides the events and answers, run in order before the events are inserted. */
  writes: Array<() => Promise<unknown>>;
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
  const { state, store, sessionId, tx } = ctx;
  switch (event.type) {
    case 'prompt': {
      check(ctx, actor, 'live.prompt');
      if (streamingTurn(state) !== null) throw conflict('The model is still answering: wait for it, or stop it first.');
      const turn = state.turns.size;
      state.turns.set(turn, { status: 'streaming', length: 0 });
      ctx.writes.push(() =>
        tx.execute(sql`INSERT INTO live_turns (session_id, turn, prompt, status, prompted_by) VALUES (${sessionId}::uuid, ${turn}, ${event.text}, 'streaming', ${actor.id}::uuid)`),
      );
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
      ctx.writes.push(() => tx.execute(sql`DELETE FROM live_open_states WHERE session_id = ${sessionId}::uuid`));
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
  if (offset > t.length) throw new AppError('validation_failed', `${what}: offset ${offset} is past the answer so far (${t.length} characters in turn ${turn}).`);
}

async function applyCode(ctx: ApplyCtx, actor: UserActor, event: Extract<ClientEvent, { type: 'code' }>): Promise<void> {
  const { state, store, tx, sessionId } = ctx;
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
    const answer = rowsOf<{ answer: string }>(await tx.execute(sql`SELECT answer FROM live_turns WHERE session_id = ${sessionId}::uuid AND turn = ${turn}`))[0]?.answer ?? '';
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
    ctx.writes.push(() => tx.execute(sql`DELETE FROM live_open_states WHERE session_id = ${sessionId}::uuid AND coder_id = ${actor.id}::uuid AND behaviour_code = ${behaviour.code}`));
    store(event.id, 'code', actor.id, { ...common, kind: 'state_stop', span: null, startEventId });
  } else {
    state.open.set(key, event.id);
    ctx.writes.push(() =>
      tx.execute(sql`INSERT INTO live_open_states (session_id, coder_id, behaviour_code, start_event_id) VALUES (${sessionId}::uuid, ${actor.id}::uuid, ${behaviour.code}, ${event.id})`),
    );
    store(event.id, 'code', actor.id, { ...common, kind: 'state_start', span: null, startEventId: null });
  }
}

async function applyUndo(ctx: ApplyCtx, actor: UserActor, event: Extract<ClientEvent, { type: 'undo' }>): Promise<void> {
  const { state, store, tx, sessionId } = ctx;
  const inBatch = ctx.stored.find((e) => e.id === event.target);
  const target =
    inBatch ??
    rowsOf<LiveEventView>(
      await tx.execute(sql`SELECT seq, event_id AS id, type, actor_id AS "actorId", payload FROM live_events WHERE session_id = ${sessionId}::uuid AND event_id = ${event.target}`),
    )[0];
  if (!target || target.type !== 'code') throw notFound('The code to undo');
  if (target.actorId !== actor.id) throw new AppError('forbidden', 'You can undo only your own codes.');
  const undone =
    ctx.stored.some((e) => e.type === 'undo' && (e.payload as StoredPayloads['undo']).target === event.target) ||
    rowsOf(await tx.execute(sql`SELECT 1 FROM live_events WHERE session_id = ${sessionId}::uuid AND type = 'undo' AND payload->>'target' = ${event.target}`)).length > 0;
  if (undone) throw conflict('That code has already been undone.');
  const code = target.payload as StoredPayloads['code'];
  const key = `${actor.id} ${code.behaviourCode}`;
  // Undoing a state's start withdraws the whole state (its stop, if any, goes with it); undoing its stop opens it again.
  if (code.kind === 'state_start' && state.open.get(key) === target.id) {
    state.open.delete(key);
    ctx.writes.push(() => tx.execute(sql`DELETE FROM live_open_states WHERE session_id = ${sessionId}::uuid AND coder_id = ${actor.id}::uuid AND behaviour_code = ${code.behaviourCode}`));
  } else if (code.kind === 'state_stop' && code.startEventId) {
    if (state.open.has(key)) throw conflict(`${code.behaviourCode} is running again already: stop it before undoing the earlier stop.`);
    state.open.set(key, code.startEventId);
    const start = code.startEventId;
    ctx.writes.push(() =>
      tx.execute(sql`INSERT INTO live_open_states (session_id, coder_id, behaviour_code, start_event_id) VALUES (${sessionId}::uuid, ${actor.id}::uuid, ${code.behaviourCode}, ${start})`),
    );
  }
  store(event.id, 'undo', actor.id, { target: event.target });
}

type AnswerEnd = Omit<StoredPayloads['answer.ended'], 'turn' | 'length'>;

function endAnswer(ctx: ApplyCtx, turn: number, end: AnswerEnd): void {
  const t = ctx.state.turns.get(turn)!;
  t.status = end.status;
  ctx.writes.push(() => ctx.tx.execute(sql`UPDATE live_turns SET status = ${end.status} WHERE session_id = ${ctx.sessionId}::uuid AND turn = ${turn}`));
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

/**
 * The hot path: a batch that is only the model's tokens for one answer (nearly every batch while a model
 * streams) is one statement in one round trip, instead of a transaction of three. It appends the text to the
 * answer only if that answer is still streaming, takes the next sequence number only if it did (no gaps), and
 * stores the tokens as one event at the offset the answer had. The session row is locked by the statement's
 * lock, taken first as the transactional path takes it, so numbering stays in order with every other writer.
 */
async function appendTokens(db: Db, sessionId: string, turn: number, texts: string[], now: Date): Promise<Appended[]> {
  const text = texts.join('');
  const none = texts.map((): Appended => ({ seq: null, events: [], duplicate: false }));
  if (text === '') return none;
  const at = now.toISOString();
  const id = randomUUID();
  const row = rowsOf<{ seq: number; offset: number }>(
    // The session row is locked first (the answer's UPDATE waits on it), in the order every other writer locks.
    await db.execute(sql`WITH session AS (SELECT id FROM live_sessions WHERE id = ${sessionId}::uuid FOR UPDATE),
      answer AS (
        UPDATE live_turns SET answer = answer || ${text}, answer_length = answer_length + ${text.length}, updated_at = ${at}::timestamptz
        WHERE session_id = ${sessionId}::uuid AND turn = ${turn} AND status = 'streaming' AND EXISTS (SELECT 1 FROM session)
        RETURNING answer_length - ${text.length} AS "offset"),
      counter AS (
        UPDATE live_sessions SET last_seq = last_seq + 1 WHERE id = ${sessionId}::uuid AND EXISTS (SELECT 1 FROM answer)
        RETURNING last_seq)
      INSERT INTO live_events (session_id, seq, event_id, type, actor_id, payload, at)
      SELECT ${sessionId}::uuid, counter.last_seq, ${id}, 'tokens', NULL,
        jsonb_build_object('turn', ${turn}::int, 'offset', answer."offset", 'text', ${text}::text), ${at}::timestamptz
      FROM counter, answer
      RETURNING seq, (payload->>'offset')::int AS "offset"`),
  )[0];
  if (!row) return none;
  const view: LiveEventView<'tokens'> = { seq: row.seq, id, type: 'tokens', actorId: null, payload: { turn, offset: row.offset, text }, at };
  return texts.map((_, i): Appended => ({ seq: row.seq, events: i === 0 ? [view as LiveEventView] : [], duplicate: false }));
}
