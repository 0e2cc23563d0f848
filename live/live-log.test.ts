import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { UserActor } from '../accounts/actor.ts';
import { rowsOf, type Db } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { ensureStarterEthogram } from '../test/support/ethogram-fixture.ts';
import { makeActors, makeUser, type TestUser } from '../test/support/clients.ts';
import { startTestApp, type TestApp } from '../test/support/test-app.ts';
import { createLiveSession } from './create-session.command.ts';
import type { Appended } from './live-log.ts';
import { isAnswerNotStoredYet, LiveLog } from './live-log.ts';
import { LiveRuntime } from './live-runtime.ts';
import type { ClientEvent } from './live-events.ts';
import { SessionEthograms } from './session-ethogram.ts';

const actorOf = (u: TestUser): UserActor => ({ kind: 'user', id: u.id, email: u.email, displayName: u.displayName, role: u.role, via: 'system' });

/**
 * The log's writer on a real database: many sessions' tokens share one statement per round, people's events take
 * their own transactions, and whatever the interleaving, each session's log is numbered 1, 2, 3... in arrival
 * order, the stored answer is the model's text, and a refused event is refused alone.
 */
describe('the live log writer', () => {
  let app: TestApp;
  let db: Db;
  let ethograms: SessionEthograms;
  let versionId: string;
  let owner: TestUser;
  let observer: TestUser;
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}-${String(++counter).padStart(6, '0')}`;

  before(async () => {
    app = await startTestApp({ loadStarter: false });
    db = app.deps.db;
    versionId = (await ensureStarterEthogram(db)).versionId;
    await makeActors(app); // the first account is the admin; these are researchers
    owner = await makeUser(app, 'researcher', 'owner');
    observer = await makeUser(app, 'researcher', 'observer');
    ethograms = new SessionEthograms(db);
    // Loaded before any append: on PGlite (one connection) the writer cannot load it from inside its transaction.
    await ethograms.get(versionId);
  });
  after(async () => {
    await app?.close();
  });

  async function streamingSession(log: LiveLog, title: string): Promise<string> {
    const { id } = await createLiveSession(
      { db, actor: actorOf(owner), now: () => new Date() },
      { title, ethogramVersionId: versionId, target: { provider: 'openai-compatible', model: 'm', baseUrl: 'http://127.0.0.1:9/v1', systemPrompt: '', temperature: 0 }, blind: false },
    );
    await db.execute(sql`INSERT INTO live_participants (session_id, user_id, role, added_by) VALUES (${id}::uuid, ${observer.id}::uuid, 'observer', ${owner.id}::uuid)`);
    await client(log, id, owner, { type: 'prompt', text: 'Go on.' });
    return id;
  }

  const client = (log: LiveLog, sessionId: string, who: TestUser, event: Record<string, unknown>, id = nextId(String(event.type))) =>
    log.append(sessionId, { kind: 'client', actor: actorOf(who), event: { sessionId, id, ...event } as ClientEvent });
  const tokens = (log: LiveLog, sessionId: string, text: string) => log.append(sessionId, { kind: 'server', type: 'tokens', turn: 0, text });
  const code = (log: LiveLog, sessionId: string, offset: number, id?: string) =>
    client(log, sessionId, observer, { type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 0, offset }, modifiers: {}, rationale: '' }, id);

  async function logOf(sessionId: string) {
    return rowsOf<{ seq: number; type: string; event_id: string; payload: Record<string, unknown> }>(
      await db.execute(sql`SELECT seq, type, event_id, payload FROM live_events WHERE session_id = ${sessionId}::uuid ORDER BY seq`),
    );
  }
  async function answerOf(sessionId: string) {
    return rowsOf<{ answer: string; answer_length: number }>(await db.execute(sql`SELECT answer, answer_length FROM live_turns WHERE session_id = ${sessionId}::uuid AND turn = 0`))[0]!;
  }

  /** Checks the session's log: gapless, each tokens event at the offset where the previous text ended, the answer whole. */
  async function assertWholeLog(sessionId: string, expected: string) {
    const events = await logOf(sessionId);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'numbered 1, 2, 3... with no gaps');
    let text = '';
    for (const e of events.filter((x) => x.type === 'tokens')) {
      assert.equal(e.payload.offset, text.length, `tokens event ${e.seq} starts where the text so far ends`);
      text += e.payload.text as string;
    }
    assert.equal(text, expected, 'the tokens events spell the model\'s answer');
    const answer = await answerOf(sessionId);
    assert.equal(answer.answer, expected);
    assert.equal(answer.answer_length, expected.length, 'lengths in UTF-16 code units, as the clients count');
    return events;
  }

  test('tokens of many sessions streaming at once are stored in order, merged, in fewer statements than tokens', async () => {
    const log = new LiveLog(db, ethograms, () => new Date());
    const sessions = await Promise.all(Array.from({ length: 6 }, (_, i) => streamingSession(log, `stream ${i}`)));
    // Non-ASCII text on purpose: offsets count UTF-16 code units, like the browser's.
    const pieces = (i: number) => Array.from({ length: 40 }, (_, k) => `s${i}·t${k}${k % 7 === 0 ? ' 🐈' : ''} `);
    const appends: Array<Promise<Appended>> = [];
    for (let k = 0; k < 40; k++) for (let i = 0; i < sessions.length; i++) appends.push(tokens(log, sessions[i]!, pieces(i)[k]!));
    const results = await Promise.all(appends);
    assert.ok(results.every((r) => r.seq !== null && !r.duplicate), 'every token stored');
    const published = results.flatMap((r) => r.events);
    for (let i = 0; i < sessions.length; i++) {
      const events = await assertWholeLog(sessions[i]!, pieces(i).join(''));
      const tokenEvents = events.filter((e) => e.type === 'tokens');
      assert.ok(tokenEvents.length < 40, `tokens arriving during a write are merged into one event (${tokenEvents.length} events for 40 tokens)`);
      // What the writer hands back for publishing is exactly what it stored.
      const mine = published.filter((e) => tokenEvents.some((t) => t.event_id === e.id));
      assert.deepEqual(mine.map((e) => e.seq), tokenEvents.map((e) => e.seq));
    }
  });

  test('a code after tokens is applied after them, and a refused code is refused alone', async () => {
    const log = new LiveLog(db, ethograms, () => new Date());
    const id = await streamingSession(log, 'mixed');
    const first = tokens(log, id, 'Hello there, ');
    const afterFirst = code(log, id, 13); // valid only once the first tokens are in
    const second = tokens(log, id, 'what a question!');
    const tooFar = code(log, id, 500); // past the answer: refused, and only it
    const comment = client(log, id, observer, { type: 'comment', text: 'fine so far' });
    const [a, b, c, d, e] = await Promise.allSettled([first, afterFirst, second, tooFar, comment]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'fulfilled', b.status === 'rejected' ? String(b.reason) : '');
    assert.equal(c.status, 'fulfilled');
    assert.equal(d.status, 'rejected');
    assert.ok(d.status === 'rejected' && d.reason instanceof AppError && d.reason.id === 'validation_failed', 'a position past the answer is a validation error');
    assert.match((d as PromiseRejectedResult).reason.message, /past the answer so far/);
    assert.equal(e.status, 'fulfilled', 'the comment in the same batch is stored');
    const events = await assertWholeLog(id, 'Hello there, what a question!');
    assert.deepEqual(
      events.map((x) => x.type).slice(-5),
      ['prompt', 'tokens', 'code', 'tokens', 'comment'],
      'stored in arrival order',
    );
  });

  test('two writers (two processes) on one session: one numbering, no lost event, no deadlock', async () => {
    const streamer = new LiveLog(db, ethograms, () => new Date());
    const coder = new LiveLog(db, ethograms, () => new Date());
    const ids = await Promise.all([0, 1, 2].map((i) => streamingSession(streamer, `two writers ${i}`)));
    const texts = Array.from({ length: 30 }, (_, k) => `w${k} `);
    const work: Array<Promise<Appended>> = [];
    const codeIds: string[] = [];
    for (let k = 0; k < texts.length; k++) {
      for (const id of ids) work.push(tokens(streamer, id, texts[k]!));
      if (k % 5 === 0) {
        for (const id of ids) {
          const eventId = nextId('code');
          codeIds.push(eventId);
          work.push(code(coder, id, 0, eventId));
        }
      }
    }
    await Promise.all(work);
    for (const id of ids) {
      const events = await assertWholeLog(id, texts.join(''));
      assert.equal(events.filter((e) => e.type === 'code').length, 6, 'every code stored once');
    }
    // A retry of every code through the other writer is recognised and stored nothing.
    const retries = await Promise.all(ids.flatMap((id, i) => codeIds.filter((_, j) => j % 3 === i).map((eventId) => code(streamer, id, 0, eventId))));
    assert.ok(retries.every((r) => r.duplicate && r.events.length === 0));
  });

  test('a code on previewed text another process has not stored yet waits for it; past a finished answer it is refused at once', async () => {
    const streamer = new LiveLog(db, ethograms, () => new Date());
    const published: string[] = [];
    const runtime = new LiveRuntime({ db, now: () => new Date(), env: {}, publish: (_, events) => published.push(...events.map((e) => e.type)), broadcastStop: () => {} });
    await runtime.ethograms.get(versionId);
    try {
      const id = await streamingSession(streamer, 'previewed elsewhere');
      const event = { sessionId: id, id: nextId('code'), type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 0, offset: 13 }, modifiers: {}, rationale: '' } as ClientEvent;
      // Alone, the log refuses the position and marks it as only not stored yet (the answer streams).
      const refused = await runtime.log.append(id, { kind: 'client', actor: actorOf(observer), event: { ...event, id: nextId('code') } as ClientEvent }).catch((e: unknown) => e);
      assert.ok(isAnswerNotStoredYet(refused), String(refused));
      // Through the runtime it is tried again, and stored once the streaming process has stored the text.
      const submitted = runtime.submit(actorOf(observer), event);
      await new Promise((resolve) => setTimeout(resolve, 80));
      await tokens(streamer, id, 'Hello there, ');
      const appended = await submitted;
      assert.equal(appended.duplicate, false);
      assert.deepEqual(published, ['code']);
      const events = await assertWholeLog(id, 'Hello there, ');
      assert.deepEqual(events.map((e) => e.type).slice(-2), ['tokens', 'code'], 'stored after the text it refers to');

      // Once the answer has ended, a position past it is a plain refusal, without the wait.
      await client(streamer, id, owner, { type: 'stop' });
      const started = Date.now();
      const late = await runtime.submit(actorOf(observer), { ...event, id: nextId('code'), at: { turn: 0, offset: 40 } } as ClientEvent).catch((e: unknown) => e);
      assert.ok(late instanceof AppError && !isAnswerNotStoredYet(late), String(late));
      assert.match((late as AppError).message, /past the answer so far/);
      assert.ok(Date.now() - started < 500, 'refused without waiting');
    } finally {
      await runtime.close();
    }
  });

  test('a write that fails stores nothing of its batch, whose events are then written one by one', async () => {
    const log = new LiveLog(db, ethograms, () => new Date());
    const id = await streamingSession(log, 'failing write');
    await db.execute(sql.raw(`CREATE FUNCTION test_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.payload->>'text' = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$`));
    await db.execute(sql.raw('CREATE TRIGGER test_refuse_boom BEFORE INSERT ON live_events FOR EACH ROW EXECUTE FUNCTION test_refuse_boom()'));
    try {
      const comment = (text: string) => client(log, id, observer, { type: 'comment', text });
      // The first starts a batch at once; the other three wait for it and are written as the next batch, which fails.
      const results = await Promise.allSettled([comment('first'), comment('fine'), comment('boom'), comment('also fine')]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      const reason = (results[2] as PromiseRejectedResult).reason as Error;
      assert.match(String((reason.cause as Error | undefined)?.message ?? reason.message), /boom refused/, 'the database\'s own error');
      const events = await logOf(id);
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'numbered with no gaps: the failed batch left nothing');
      assert.deepEqual(events.filter((e) => e.type === 'comment').map((e) => e.payload.text), ['first', 'fine', 'also fine']);
    } finally {
      await db.execute(sql.raw('DROP TRIGGER test_refuse_boom ON live_events'));
      await db.execute(sql.raw('DROP FUNCTION test_refuse_boom()'));
    }
  });

  test('people\'s events take two statements and no open transaction; a batch overtaken in between is decided again under the lock', async () => {
    const other = new LiveLog(db, ethograms, () => new Date()); // another process's writer
    const dialect = new PgDialect();
    const statements: string[] = [];
    let overtake: (() => Promise<unknown>) | null = null;
    // This writer's database handle: it records the statements (in transactions too), and can let the other
    // writer in just before the batch's guarded write.
    const racing = (target: Db): Db =>
      new Proxy(target, {
        get(t, prop) {
          if (prop === 'transaction') {
            return (work: (tx: Db) => Promise<unknown>, config?: Parameters<Db['transaction']>[1]) => t.transaction((tx) => work(racing(tx as unknown as Db)), config);
          }
          if (prop === 'execute') {
            return async (query: SQL) => {
              const text = dialect.sqlToQuery(query).sql;
              statements.push(text);
              if (overtake && /^WITH guard AS/.test(text)) {
                const run = overtake;
                overtake = null;
                await run();
              }
              return t.execute(query);
            };
          }
          const value: unknown = Reflect.get(t, prop, t);
          return typeof value === 'function' ? value.bind(t) : value;
        },
      }) as Db;
    const log = new LiveLog(racing(db), ethograms, () => new Date());
    const id = await streamingSession(other, 'overtaken');
    await tokens(other, id, 'Some text to code.');
    const press = (writer: LiveLog, offset: number, eventId?: string) =>
      client(writer, id, observer, { type: 'code', behaviourCode: 'LNG-SWITCH', at: { turn: 0, offset }, modifiers: {}, rationale: '' }, eventId);

    await log.append(id, { kind: 'client', actor: actorOf(observer), event: { sessionId: id, id: nextId('comment'), type: 'comment', text: 'warming the cache' } as ClientEvent });
    statements.length = 0;
    const started = await press(log, 3);
    assert.equal(statements.length, 2, `one read and one write:\n${statements.join('\n')}`);
    assert.doesNotMatch(statements.join('\n'), /FOR UPDATE/, 'no row lock held across round trips');

    // The other writer stops the state after this one has read the session and before it writes: this writer's
    // next press, decided on what it read, would stop the state again; decided again, it starts a new one.
    overtake = () => press(other, 4);
    const mineId = nextId('press');
    const mine = await press(log, 5, mineId);
    assert.equal(overtake, null, 'the other writer went in between');
    assert.ok(statements.some((text) => /FOR UPDATE/.test(text)), 'decided again under the lock');
    const events = await logOf(id);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'numbered 1, 2, 3... with no gaps');
    const codes = events.filter((e) => e.type === 'code');
    assert.deepEqual(codes.map((e) => e.payload.kind), ['state_start', 'state_stop', 'state_start']);
    assert.equal(codes[0]!.seq, started.seq);
    assert.equal(codes[2]!.event_id, mineId);
    assert.equal(codes[2]!.seq, mine.seq);
    const open = rowsOf<{ start_event_id: string }>(await db.execute(sql`SELECT start_event_id FROM live_open_states WHERE session_id = ${id}::uuid`));
    assert.deepEqual(open.map((o) => o.start_event_id), [mineId], 'the state this writer started is the one open');
  });

  test('tokens for an answer that was stopped are dropped, not stored', async () => {
    const log = new LiveLog(db, ethograms, () => new Date());
    const id = await streamingSession(log, 'stopped');
    await tokens(log, id, 'Before the stop. ');
    await client(log, id, owner, { type: 'stop' });
    const late = await tokens(log, id, 'After the stop.');
    assert.deepEqual(late, { seq: null, events: [], duplicate: false });
    const events = await assertWholeLog(id, 'Before the stop. ');
    assert.deepEqual(events.map((e) => e.type).slice(-4), ['prompt', 'tokens', 'stop', 'answer.ended']);
  });
});
