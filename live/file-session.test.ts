import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { UserActor } from '../accounts/actor.ts';
import type { Ctx } from '../core/context.ts';
import { rowsOf, type Db } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { transcriptSearchText } from '../observations/observation-text.ts';
import { fingerprint } from '../observations/similar/minhash.ts';
import type { Transcript } from '../observations/transcript.schema.ts';
import { ensureStarterEthogram } from '../test/support/ethogram-fixture.ts';
import { makeActors, makeUser, type TestUser } from '../test/support/clients.ts';
import { startTestApp, type TestApp } from '../test/support/test-app.ts';
import { adjudicateLiveSession } from './adjudicate-session.command.ts';
import { createLiveSession } from './create-session.command.ts';
import { fileLiveSession, filedCodingStatus, normaliseModifiers } from './file-session.command.ts';
import type { ClientEvent, LiveEventView } from './live-events.ts';
import { LiveLog } from './live-log.ts';
import { SessionEthograms } from './session-ethogram.ts';
import { loadSessionEvents, loadSessionSummary } from './session-summary.queries.ts';

const ANSWER_0 = 'Cats are great. They purr.'; // 26 characters
const ANSWER_1 = 'Dogs bark loudly.'; // 17 characters

const actorOf = (u: TestUser): UserActor => ({ kind: 'user', id: u.id, email: u.email, displayName: u.displayName, role: u.role, via: 'system' });

/** Expects the promise to fail with an AppError of this id, and returns its message and details. */
async function refused(work: Promise<unknown>, id: string): Promise<AppError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.id, id, err.message);
    return err;
  }
  assert.fail(`expected ${id}, but it succeeded`);
}

describe('filing a live session', () => {
  let app: TestApp;
  let db: Db;
  let log: LiveLog;
  let versionId: string;
  let owner: TestUser;
  let obsA: TestUser;
  let obsB: TestUser;
  let contributor: TestUser;
  let admin: TestUser;
  const ctxOf = (u: TestUser, database: Db = db): Ctx => ({ db: database, actor: actorOf(u), now: () => new Date() });

  before(async () => {
    app = await startTestApp({ loadStarter: false });
    db = app.deps.db;
    versionId = (await ensureStarterEthogram(db)).versionId;
    const actors = await makeActors(app);
    admin = actors.admin;
    contributor = actors.contributor;
    owner = await makeUser(app, 'researcher', 'owner');
    obsA = await makeUser(app, 'researcher', 'ann');
    obsB = await makeUser(app, 'researcher', 'bob');
    const ethograms = new SessionEthograms(db);
    // Loaded before any append: LiveLog loads a version it has not cached from inside its transaction, through the
    // root handle it was given, and on PGlite (one connection) that query would wait for the transaction forever.
    await ethograms.get(versionId);
    log = new LiveLog(db, ethograms, () => new Date());
  });
  after(async () => {
    await app?.close();
  });

  /** A session owned (and driven) by `owner`, with Ann, Bob and the contributor as observers. */
  async function newSession(title: string): Promise<string> {
    const { id } = await createLiveSession(ctxOf(owner), {
      title,
      ethogramVersionId: versionId,
      target: { provider: 'openai-compatible', model: 'm', baseUrl: 'http://127.0.0.1:9/v1', systemPrompt: 'Be brief.', temperature: 0.2 },
      blind: false,
    });
    for (const u of [obsA, obsB, contributor]) {
      await db.execute(sql`INSERT INTO live_participants (session_id, user_id, role, added_by) VALUES (${id}::uuid, ${u.id}::uuid, 'observer', ${owner.id}::uuid)`);
    }
    return id;
  }

  let eventCounter = 0;
  const nextId = (prefix: string) => `${prefix}-${String(++eventCounter).padStart(6, '0')}`;

  async function send(sessionId: string, who: TestUser, event: Record<string, unknown>, id = nextId(String(event.type))): Promise<string> {
    await log.append(sessionId, { kind: 'client', actor: actorOf(who), event: { sessionId, id, ...event } as ClientEvent });
    return id;
  }

  async function turn(sessionId: string, turnNo: number, prompt: string, chunks: string[]): Promise<void> {
    await send(sessionId, owner, { type: 'prompt', text: prompt });
    for (const text of chunks) await log.append(sessionId, { kind: 'server', type: 'tokens', turn: turnNo, text });
    const length = chunks.join('').length;
    await log.append(sessionId, {
      kind: 'server', type: 'answer.ended', actorId: null,
      payload: { turn: turnNo, status: 'complete', length, finishReason: 'stop', modelVersion: 'm-2025-01', usage: null, error: null },
    });
  }

  const code = (sessionId: string, who: TestUser, behaviourCode: string, at: { turn: number; offset: number }, extra: Record<string, unknown> = {}) =>
    send(sessionId, who, { type: 'code', behaviourCode, at, modifiers: {}, rationale: '', ...extra });

  /**
   * The scenario: two turns; Ann codes a point (with a numeric modifier) and a state; Bob a span, a state left
   * open (closed by the end, crossing into turn 1) and a point he undoes; the contributor a point.
   */
  async function codedSession(title: string) {
    const id = await newSession(title);
    await turn(id, 0, 'Tell me about cats.', ['Cats are ', 'great. ', 'They purr.']);
    const annPoint = await code(id, obsA, 'SYC-FLATTER', { turn: 0, offset: 14 }, { modifiers: { confidence: '0.8' }, rationale: 'gushing' });
    const annState = await code(id, obsA, 'PER-DRIFT', { turn: 0, offset: 5 });
    await code(id, obsA, 'PER-DRIFT', { turn: 0, offset: 14 });
    const bobSpan = await code(id, obsB, 'REF-OVER', { turn: 0, offset: 26 }, { span: { turn: 0, start: 16, end: 26 }, modifiers: { severity: 'mild' }, rationale: 'overdone' });
    const bobState = await code(id, obsB, 'DEG-LOOP', { turn: 0, offset: 20 });
    const contributorPoint = await code(id, contributor, 'SYC-FLATTER', { turn: 0, offset: 14 });
    await turn(id, 1, 'And dogs?', [ANSWER_1]);
    const bobUndone = await code(id, obsB, 'FAB-FACT', { turn: 1, offset: 3 });
    await send(id, obsB, { type: 'undo', target: bobUndone });
    return { id, annPoint, annState, bobSpan, bobState, bobUndone, contributorPoint };
  }

  async function end(sessionId: string): Promise<string> {
    return send(sessionId, owner, { type: 'end' }, nextId('end'));
  }

  test('an open session can be neither adjudicated nor filed', async () => {
    const { id, annPoint } = await codedSession('Still open');
    const notYet = await refused(fileLiveSession(ctxOf(owner), id), 'conflict');
    assert.match(notYet.message, /end the session first/i);
    const notYetAdj = await refused(adjudicateLiveSession(ctxOf(owner), id, { decisions: [{ eventId: annPoint, decision: 'accept' }] }), 'conflict');
    assert.match(notYetAdj.message, /end the session first/i);
    const row = rowsOf<{ status: string; observation_id: string | null }>(await db.execute(sql`SELECT status, observation_id FROM live_sessions WHERE id = ${id}::uuid`))[0]!;
    assert.deepEqual(row, { status: 'open', observation_id: null });
  });

  test('session -> codes -> end -> adjudicate -> file: one observation with attributed live codings', async () => {
    const s = await codedSession('Cats and dogs');
    const endId = await end(s.id);

    // Adjudication: only the owner (or an admin), only codes, and a later decision overrides an earlier one.
    const notOwner = await refused(adjudicateLiveSession(ctxOf(contributor), s.id, { decisions: [{ eventId: s.bobSpan, decision: 'reject' }] }), 'forbidden');
    assert.match(notOwner.message, /owner or an admin/);
    const bad = await refused(
      adjudicateLiveSession(ctxOf(owner), s.id, {
        decisions: [
          { eventId: 'no-such-event-id', decision: 'accept' },
          { eventId: `${endId}-close-1`, decision: 'accept' },
          { eventId: s.bobUndone, decision: 'reject' },
          { eventId: `${s.id}-opened`, decision: 'accept' },
          { eventId: s.annPoint, decision: 'accept' },
        ],
      }),
      'validation_failed',
    );
    const fields = bad.details?.fields ?? {};
    assert.match(fields['decisions.0.eventId']!, /not an event of this session/);
    assert.match(fields['decisions.1.eventId']!, new RegExp(`stop of a state.*"${s.bobState}"`));
    assert.match(fields['decisions.2.eventId']!, /undone/);
    assert.match(fields['decisions.3.eventId']!, /session\.opened event, not a code/);
    assert.equal(fields['decisions.4.eventId'], undefined, 'a good decision is not blamed');

    await adjudicateLiveSession(ctxOf(owner), s.id, { decisions: [{ eventId: s.annPoint, decision: 'reject' }] });
    const adjudicated = await adjudicateLiveSession(ctxOf(owner), s.id, {
      decisions: [
        { eventId: s.annPoint, decision: 'accept' },
        { eventId: s.bobSpan, decision: 'reject' },
      ],
    });
    assert.equal(adjudicated.events.length, 1);
    assert.equal(adjudicated.events[0]!.type, 'adjudicated');

    // Filing: owner or admin only.
    const notYours = await refused(fileLiveSession(ctxOf(contributor), s.id), 'forbidden');
    assert.match(notYours.message, /owner or an admin/);
    const logBefore = await loadSessionEvents(db, s.id);
    const filed = await fileLiveSession(ctxOf(owner), s.id);
    assert.equal(filed.events.length, 1);
    assert.equal(filed.events[0]!.type, 'session.filed');
    assert.equal(filed.codings, 6);

    // The observation.
    const obs = rowsOf<{
      title: string; surprise: string; status: string; visibility: string; provider: string; model: string; model_version: string | null;
      provenance: Record<string, any>; observed_at: string | Date; submitted_by: string; raw_payload: string; raw_sha256: string;
      transcript: Transcript; tags: string[]; search_pending: boolean; minhash: number[] | null;
    }>(await db.execute(sql`SELECT title, surprise, status, visibility, provider, model, model_version, provenance, observed_at, submitted_by,
        raw_payload, raw_sha256, transcript, tags, search_pending, minhash FROM observations WHERE id = ${filed.observationId}::uuid`))[0];
    assert.ok(obs, 'the observation exists');
    const session = rowsOf<{ created_at: string | Date; status: string; observation_id: string }>(
      await db.execute(sql`SELECT created_at, status, observation_id FROM live_sessions WHERE id = ${s.id}::uuid`),
    )[0]!;
    assert.equal(obs.title, 'Cats and dogs');
    assert.match(obs.surprise, /live session "Cats and dogs"/);
    assert.equal(obs.status, 'coded');
    assert.equal(obs.visibility, 'members');
    assert.deepEqual([obs.provider, obs.model, obs.model_version], ['openai-compatible', 'm', 'm-2025-01']);
    assert.equal(obs.submitted_by, owner.id);
    assert.equal(new Date(obs.observed_at).toISOString(), new Date(session.created_at).toISOString());
    assert.deepEqual(obs.tags, ['live-session']);
    // Fingerprinted for near-duplicate detection by the search indexer, with its transcript's search text, as
    // every recorded observation is.
    await app.drainSearchIndex();
    const printed = rowsOf<{ minhash: number[] | null; search_pending: boolean }>(
      await db.execute(sql`SELECT minhash, search_pending FROM observations WHERE id = ${filed.observationId}::uuid`),
    )[0]!;
    assert.equal(printed.search_pending, false);
    assert.deepEqual(printed.minhash?.map(Number), fingerprint(transcriptSearchText(obs.transcript))!.signature);
    assert.equal(obs.provenance.capture, 'live-session');
    assert.equal(obs.provenance.sessionId, s.id);
    assert.equal(obs.provenance.systemPromptSha256, createHash('sha256').update('Be brief.').digest('hex'));
    assert.deepEqual(obs.provenance.sampling, { maxTokens: 1024, temperature: 0.2 });
    assert.equal(obs.provenance.endpoint, 'http://127.0.0.1:9/v1');
    assert.equal(obs.raw_sha256, createHash('sha256').update(obs.raw_payload).digest('hex'));
    const raw = JSON.parse(obs.raw_payload) as LiveEventView[];
    assert.deepEqual(raw.map((e) => e.seq), logBefore.map((e) => e.seq), 'the raw payload is the log as it stood when filed');
    assert.deepEqual(
      obs.transcript.messages.map((m) => [m.id, m.role, m.parts[0]!.type === 'text' ? m.parts[0]!.text : null]),
      [
        ['system', 'system', 'Be brief.'],
        ['turn-0-user', 'user', 'Tell me about cats.'],
        ['turn-0-assistant', 'assistant', ANSWER_0],
        ['turn-1-user', 'user', 'And dogs?'],
        ['turn-1-assistant', 'assistant', ANSWER_1],
      ],
    );

    // The codings: one per surviving code (Bob's open state split over two turns), each by its own coder.
    const codings = rowsOf<{
      code: string; coder_id: string; method: string; status: string; message_id: string | null; part_index: number | null;
      char_start: number | null; char_end: number | null; quote: string | null; modifiers: Record<string, unknown>; rationale: string;
      ethogram_version_id: string; reviewed_by: string | null; provenance: Record<string, any>;
    }>(await db.execute(sql`SELECT b.code, c.coder_id, c.method, c.status, c.message_id, c.part_index, c.char_start, c.char_end, c.quote,
        c.modifiers, c.rationale, c.ethogram_version_id, c.reviewed_by, c.provenance
      FROM codings c JOIN behaviours b ON b.id = c.behaviour_id WHERE c.observation_id = ${filed.observationId}::uuid
      ORDER BY b.code, c.coder_id, c.message_id, c.char_start`));
    assert.ok(codings.every((c) => c.method === 'live' && c.ethogram_version_id === versionId && c.part_index === 0));
    const summary = codings.map((c) => [c.code, c.coder_id, c.message_id, c.char_start, c.char_end, c.quote, c.status]);
    const expected = [
      ['DEG-LOOP', obsB.id, 'turn-0-assistant', 20, 26, ' purr.', 'accepted'],
      ['DEG-LOOP', obsB.id, 'turn-1-assistant', 0, 17, ANSWER_1, 'accepted'],
      ['PER-DRIFT', obsA.id, 'turn-0-assistant', 5, 14, 'are great', 'accepted'],
      ['REF-OVER', obsB.id, 'turn-0-assistant', 16, 26, 'They purr.', 'rejected'],
      ['SYC-FLATTER', obsA.id, 'turn-0-assistant', 13, 14, 't', 'accepted'],
      ['SYC-FLATTER', contributor.id, 'turn-0-assistant', 13, 14, 't', 'proposed'],
    ].sort((a, b) => `${a[0]} ${a[1]} ${a[2]}`.localeCompare(`${b[0]} ${b[1]} ${b[2]}`));
    assert.deepEqual(
      [...summary].sort((a, b) => `${a[0]} ${a[1]} ${a[2]}`.localeCompare(`${b[0]} ${b[1]} ${b[2]}`)),
      expected,
    );
    const annPoint = codings.find((c) => c.code === 'SYC-FLATTER' && c.coder_id === obsA.id)!;
    assert.deepEqual(annPoint.modifiers, { confidence: 0.8 }, 'a numeric modifier is stored as a number');
    assert.equal(annPoint.rationale, 'gushing');
    assert.equal(annPoint.reviewed_by, owner.id, 'adjudicated: reviewed by the owner');
    assert.deepEqual(annPoint.provenance.at, { turn: 0, offset: 14 }, 'the exact press is kept');
    const bobSpan = codings.find((c) => c.code === 'REF-OVER')!;
    assert.deepEqual([bobSpan.modifiers, bobSpan.rationale, bobSpan.reviewed_by], [{ severity: 'mild' }, 'overdone', owner.id]);
    const loop = codings.filter((c) => c.code === 'DEG-LOOP');
    assert.ok(loop.every((c) => c.provenance.startEventId === s.bobState && c.provenance.autoClosed === true && c.provenance.parts === 2));
    assert.equal(codings.find((c) => c.code === 'PER-DRIFT')!.reviewed_by, null, 'not adjudicated');
    assert.ok(!codings.some((c) => c.code === 'FAB-FACT'), 'an undone code is not filed');

    // The session, its log and the domain events.
    assert.deepEqual([session.status, session.observation_id], ['filed', filed.observationId]);
    const last = (await loadSessionEvents(db, s.id)).at(-1)!;
    assert.equal(last.type, 'session.filed');
    assert.deepEqual(last.payload, { observationId: filed.observationId });
    const events = rowsOf<{ type: string }>(
      await db.execute(sql`SELECT type FROM events WHERE (entity_id = ${s.id} AND type = 'live.filed') OR (entity_id = ${filed.observationId} AND type = 'observation.recorded')`),
    );
    assert.deepEqual(events.map((e) => e.type).sort(), ['live.filed', 'observation.recorded']);

    // Findable by the transcript's words once the search indexer has run, like every observation.
    await app.drainSearchIndex();
    const found = rowsOf<{ id: string }>(await db.execute(sql`SELECT id FROM observations WHERE search @@ plainto_tsquery('english', 'dogs bark loudly')`));
    assert.ok(found.some((r) => r.id === filed.observationId), 'found by words of the answers');

    // Filing twice is refused, naming the observation; adjudicating a filed session too.
    const twice = await refused(fileLiveSession(ctxOf(owner), s.id), 'conflict');
    assert.match(twice.message, new RegExp(filed.observationId));
    assert.equal(twice.details?.observationId, filed.observationId);
    await refused(adjudicateLiveSession(ctxOf(owner), s.id, { decisions: [{ eventId: s.annPoint, decision: 'reject' }] }), 'conflict');
    const count = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM observations WHERE provenance->>'sessionId' = ${s.id}`))[0]!.n;
    assert.equal(count, 1);

    // The summary reads it all back.
    const view = await loadSessionSummary(db, s.id);
    assert.equal(view.session.status, 'filed');
    assert.equal(view.observationId, filed.observationId);
    assert.equal(view.session.owner.displayName, 'owner');
    assert.deepEqual(view.participants.map((p) => [p.displayName, p.role]).sort(), [['ann', 'observer'], ['bob', 'observer'], ['contributor', 'observer'], ['owner', 'driver']]);
    assert.deepEqual(view.agreement.observers, [obsA.id, obsB.id, contributor.id]);
    assert.deepEqual(
      view.decisions.map((d) => [d.eventId, d.decision]),
      [[s.annPoint, 'accept'], [s.bobSpan, 'reject']],
    );
    assert.equal(view.record.states.length, 2);
    assert.equal(view.names[obsB.id], 'bob');
    assert.ok(view.behaviours.some((b) => b.code === 'DEG-LOOP' && b.kind === 'state'));
  });

  test('an admin may file a session that is not theirs', async () => {
    const s = await codedSession('Filed by an admin');
    await end(s.id);
    const filed = await fileLiveSession(ctxOf(admin), s.id);
    const row = rowsOf<{ submitted_by: string }>(await db.execute(sql`SELECT submitted_by FROM observations WHERE id = ${filed.observationId}::uuid`))[0]!;
    assert.equal(row.submitted_by, owner.id, 'submitted by the session owner, whoever files');
  });

  test('a failure anywhere writes nothing', async () => {
    const s = await codedSession('Fails at the last step');
    await end(s.id);
    const before = await counts(s.id);
    // The session.filed event is the last write but one: make it fail, after the observation and codings are in.
    const seen: string[] = [];
    const broken = failingOn(db, /INSERT INTO live_events/i, seen);
    await assert.rejects(fileLiveSession(ctxOf(owner, broken), s.id), /injected failure/);
    assert.ok(seen.some((q) => /INSERT INTO observations/i.test(q)), 'the observation had been written when it failed');
    assert.deepEqual(await counts(s.id), before);
    const row = rowsOf<{ status: string; observation_id: string | null }>(await db.execute(sql`SELECT status, observation_id FROM live_sessions WHERE id = ${s.id}::uuid`))[0]!;
    assert.deepEqual(row, { status: 'ended', observation_id: null });
    // Nothing half-done stands in the way of filing it properly.
    const filed = await fileLiveSession(ctxOf(owner), s.id);
    assert.ok(filed.observationId);
  });

  async function counts(sessionId: string) {
    return rowsOf<{ observations: number; codings: number; events: number; log: number }>(
      await db.execute(sql`SELECT
        (SELECT count(*)::int FROM observations) AS observations,
        (SELECT count(*)::int FROM codings) AS codings,
        (SELECT count(*)::int FROM events) AS events,
        (SELECT count(*)::int FROM live_events WHERE session_id = ${sessionId}::uuid) AS log`),
    )[0]!;
  }
});

/**
 * The database handle with one kind of statement failing (matched on its SQL text), inside transactions and
 * savepoints too; `seen` collects the SQL of every raw statement run through it.
 */
function failingOn(db: Db, pattern: RegExp, seen: string[]): Db {
  const dialect = new PgDialect();
  const wrap = (target: Db): Db =>
    new Proxy(target, {
      get(t, prop) {
        if (prop === 'execute') {
          return (query: SQL) => {
            const text = dialect.sqlToQuery(query).sql;
            seen.push(text);
            if (pattern.test(text)) return Promise.reject(new Error('injected failure'));
            return t.execute(query);
          };
        }
        if (prop === 'transaction') {
          return (work: (tx: Db) => Promise<unknown>, config?: Parameters<Db['transaction']>[1]) =>
            t.transaction((tx) => work(wrap(tx as unknown as Db)), config);
        }
        const value: unknown = Reflect.get(t, prop, t);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  return wrap(db);
}

describe('filedCodingStatus', () => {
  test('adjudication decides; otherwise only researchers in an open (not blind) session are accepted', () => {
    assert.equal(filedCodingStatus('reject', { blind: false, coderIsResearcher: true }), 'rejected');
    assert.equal(filedCodingStatus('accept', { blind: true, coderIsResearcher: false }), 'accepted');
    assert.equal(filedCodingStatus(undefined, { blind: false, coderIsResearcher: true }), 'accepted');
    assert.equal(filedCodingStatus(undefined, { blind: true, coderIsResearcher: true }), 'proposed');
    assert.equal(filedCodingStatus(undefined, { blind: false, coderIsResearcher: false }), 'proposed');
  });
});

describe('normaliseModifiers', () => {
  test('stores multi values as lists and numeric values as numbers, as the coding form does', () => {
    const sets = new Map([
      ['channels', { key: 'channels', name: 'Channels', type: 'multi' as const, values: ['text', 'tool'] }],
      ['confidence', { key: 'confidence', name: 'Confidence', type: 'numeric' as const, min: 0, max: 1 }],
      ['severity', { key: 'severity', name: 'Severity', type: 'single' as const, values: ['mild'] }],
    ]);
    assert.deepEqual(normaliseModifiers({ channels: 'tool', confidence: '0.25', severity: 'mild' }, sets), { channels: ['tool'], confidence: 0.25, severity: 'mild' });
  });
});
