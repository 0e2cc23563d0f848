import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { defaultPublishedVersion } from '../../ethograms/behaviour.queries.ts';
import type { LiveEventView } from '../../live/live-events.ts';
import type { ReaderSummary } from '../../live/reader-summary.queries.ts';
import { makeActors, makeUser, type TestUser } from '../support/clients.ts';
import { startFakeChatServer, type FakeChatServer } from '../support/fake-chat-server.ts';
import { joined, openLiveSession, promptAndWait, standardSession, STANDARD_TOKENS, type LiveClient } from '../support/live-clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * The end-of-session JSON API: GET /live-sessions/:id/summary, POST .../adjudication, POST .../file, as each
 * actor (anonymous, someone not in the session, a viewer, an observer, a contributor, the owner, an admin),
 * and the blind rule (nobody sees others' codes while a blind session is open).
 */

let app: TestApp;
let model: FakeChatServer;
let actors: Awaited<ReturnType<typeof makeActors>>;
let owner: TestUser;
let ann: TestUser;
let bob: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let versionId: string;
const clients: LiveClient[] = [];

before(async () => {
  model = await startFakeChatServer({ delayMs: 1, tokens: STANDARD_TOKENS });
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  owner = actors.researcher;
  ann = await makeUser(app, 'researcher', 'ann');
  bob = await makeUser(app, 'researcher', 'bob');
  viewer = actors.contributor;
  outsider = await makeUser(app, 'researcher', 'outsider');
  versionId = (await defaultPublishedVersion(app.deps.db))!.id;
});
after(async () => {
  for (const c of clients) c.close();
  await app.close();
  await model.close();
});

const people = () => ({ owner, ann, bob, viewer });
const summaryOf = async (user: TestUser, id: string) => {
  const res = await user.api.get(`/live-sessions/${id}/summary`);
  assert.equal(res.status, 200, res.text);
  return res.body as ReaderSummary;
};

describe('reading the summary', () => {
  let id: string;
  let codes: Awaited<ReturnType<typeof standardSession>>['codes'];
  before(async () => {
    ({ id, codes } = await standardSession(app.url, people(), { versionId, baseUrl: model.openaiBaseUrl }));
  });

  test('anonymous callers get 401, people outside the session 403, an unknown session 404', async () => {
    const anon = await actors.anon.get(`/live-sessions/${id}/summary`);
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error.id, 'unauthenticated');
    const stranger = await outsider.api.get(`/live-sessions/${id}/summary`);
    assert.equal(stranger.status, 403);
    assert.equal(stranger.body.error.id, 'forbidden');
    assert.ok(!stranger.text.includes(codes.annSpan), 'a refusal carries nothing of the session');
    assert.equal((await owner.api.get(`/live-sessions/${randomUUID()}/summary`)).status, 404);
    assert.equal((await owner.api.get('/live-sessions/not-an-id/summary')).status, 404);
  });

  test('after the end a participant reads every observer\'s codes, the closed state, the comments and the figures', async () => {
    const s = await summaryOf(viewer, id);
    assert.equal(s.session.status, 'ended');
    assert.equal(s.othersCodesHidden, false);
    assert.deepEqual(s.record.coders, [ann.id, bob.id]);
    assert.deepEqual(s.record.points.map((p) => [p.coderId, p.behaviourCode, p.offset]), [[ann.id, 'SYC-FLATTER', 10], [bob.id, 'SYC-FLATTER', 12]]);
    assert.deepEqual(s.record.spans.map((p) => [p.eventId, p.start, p.end]), [[codes.annSpan, 27, 44], [codes.bobSpan, 0, 15]]);
    assert.equal(s.record.states.length, 1);
    assert.equal(s.record.states[0]!.startEventId, codes.annState);
    assert.equal(s.record.states[0]!.autoClosed, true, 'the end closed the running state');
    assert.equal(s.record.comments.length, 1);
    assert.equal(s.names[ann.id], 'ann');

    const byCode = new Map(s.agreement.behaviours.map((b) => [b.behaviourCode, b]));
    assert.equal(s.agreement.segments.length, 3);
    assert.equal(byCode.get('SYC-FLATTER')!.fleissKappa.value, 1);
    assert.equal(byCode.get('SYC-FLATTER')!.percentAgreement.value, 1);
    assert.ok(Math.abs(byCode.get('FAB-FACT')!.fleissKappa.value! - -0.5) < 1e-9, JSON.stringify(byCode.get('FAB-FACT')!.fleissKappa));
    assert.deepEqual(byCode.get('LNG-SWITCH')!.marked, { [ann.id]: 2, [bob.id]: 0 });
    assert.ok(Math.abs(s.agreement.pooled.percentAgreement.value! - 5 / 9) < 1e-9);
    const pair = s.agreement.pointMatching.pairs[0]!;
    assert.deepEqual([pair.coderA, pair.coderB, pair.pooled.matched, pair.pooled.onlyA, pair.pooled.onlyB], [ann.id, bob.id, 1, 0, 0]);

    // The owner and an admin outside the session read the same.
    assert.deepEqual((await summaryOf(owner, id)).record.spans.length, 2);
    assert.deepEqual((await summaryOf(actors.admin, id)).record.states.length, 1);
  });
});

describe('a blind session while it is open', () => {
  test('each reader sees only their own codes (no id, behaviour or figure of anyone else\'s), and everything once it ends', async () => {
    const id = await openLiveSession(owner, {
      versionId, baseUrl: model.openaiBaseUrl, blind: true, title: 'Blind probe',
      people: [[ann, 'observer'], [bob, 'observer'], [viewer, 'viewer']],
    });
    const driver = await joined(app.url, owner, id);
    const annClient = await joined(app.url, ann, id);
    const bobClient = await joined(app.url, bob, id);
    clients.push(driver, annClient, bobClient);
    await promptAndWait(driver, id, 'Tell me about pets');
    const annCode = await annClient.sendOk({ sessionId: id, type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 0, offset: 10 } });
    const bobCode = await bobClient.sendOk({ sessionId: id, type: 'code', behaviourCode: 'DEG-GLITCH', at: { turn: 0, offset: 20 } });

    const asAnn = await ann.api.get(`/live-sessions/${id}/summary`);
    assert.equal(asAnn.status, 200, asAnn.text);
    assert.equal(asAnn.body.othersCodesHidden, true);
    assert.deepEqual(asAnn.body.record.points.map((p: { eventId: string }) => p.eventId), [annCode]);
    assert.deepEqual(asAnn.body.record.coders, [ann.id]);
    assert.ok(!asAnn.text.includes(bobCode), 'Bob\'s code id does not leak');
    // The ethogram's behaviour list names DEG-GLITCH; no code of it may appear.
    assert.ok(!asAnn.text.includes('"behaviourCode":"DEG-GLITCH"'), 'Bob\'s behaviour does not leak');
    assert.equal(asAnn.body.agreement.pooled.fleissKappa.value, null, 'no figures from codes Ann cannot see');

    const asBob = await summaryOf(bob, id);
    assert.deepEqual(asBob.record.points.map((p) => p.eventId), [bobCode]);
    const asOwner = await owner.api.get(`/live-sessions/${id}/summary`);
    assert.equal(asOwner.body.record.points.length, 0);
    assert.ok(!asOwner.text.includes(annCode) && !asOwner.text.includes(bobCode));
    const asAdmin = await actors.admin.api.get(`/live-sessions/${id}/summary`);
    assert.equal(asAdmin.body.record.points.length, 0);

    assert.equal((await owner.api.post(`/live-sessions/${id}/end`)).status, 200);
    const after = await summaryOf(ann, id);
    assert.equal(after.othersCodesHidden, false);
    assert.deepEqual(after.record.points.map((p) => p.eventId).sort(), [annCode, bobCode].sort());
  });
});

describe('adjudicating and filing', () => {
  test('refused while open; only the owner or an admin adjudicates; decisions are stored and reach the room', async () => {
    const open = await standardSession(app.url, people(), { versionId, baseUrl: model.openaiBaseUrl, end: false, title: 'Still open' });
    const early = await owner.api.post(`/live-sessions/${open.id}/adjudication`, { decisions: [{ eventId: open.codes.annSpan, decision: 'reject' }] });
    assert.equal(early.status, 409);
    assert.match(early.body.error.message, /End the session first/);
    const fileEarly = await owner.api.post(`/live-sessions/${open.id}/file`);
    assert.equal(fileEarly.status, 409);

    const { id, codes } = await standardSession(app.url, people(), { versionId, baseUrl: model.openaiBaseUrl, title: 'To adjudicate' });
    const watcher = await joined(app.url, viewer, id);
    clients.push(watcher);
    const body = { decisions: [{ eventId: codes.annSpan, decision: 'reject' }, { eventId: codes.bobPoint, decision: 'accept' }] };
    assert.equal((await actors.anon.post(`/live-sessions/${id}/adjudication`, body)).status, 401);
    for (const who of [ann, viewer, outsider]) {
      const res = await who.api.post(`/live-sessions/${id}/adjudication`, body);
      assert.equal(res.status, 403, `${who.displayName}: ${res.text}`);
    }
    const bad = await owner.api.post(`/live-sessions/${id}/adjudication`, { decisions: [{ eventId: 'no-such-event-1', decision: 'accept' }] });
    assert.equal(bad.status, 422);
    assert.ok(bad.body.error.details.fields['decisions.0.eventId']);
    const malformed = await owner.api.post(`/live-sessions/${id}/adjudication`, { decisions: [{ eventId: codes.annSpan, decision: 'maybe' }] });
    assert.equal(malformed.status, 422);

    const res = await owner.api.post(`/live-sessions/${id}/adjudication`, body);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.decisions, body.decisions);
    assert.equal(typeof res.body.lastSeq, 'number');
    await watcher.until((es) => es.some((e) => e.type === 'adjudicated'), 'the decisions to reach the room');
    const event = watcher.events.find((e) => e.type === 'adjudicated') as LiveEventView<'adjudicated'>;
    assert.equal(event.seq, res.body.lastSeq);

    const s = await summaryOf(owner, id);
    assert.deepEqual(s.decisions.map((d) => [d.eventId, d.decision, d.by]), [[codes.annSpan, 'reject', owner.id], [codes.bobPoint, 'accept', owner.id]]);

    // An admin outside the session may adjudicate too; a later decision replaces the earlier one.
    const byAdmin = await actors.admin.api.post(`/live-sessions/${id}/adjudication`, { decisions: [{ eventId: codes.annSpan, decision: 'accept' }] });
    assert.equal(byAdmin.status, 200, byAdmin.text);
    assert.equal((await summaryOf(owner, id)).decisions.find((d) => d.eventId === codes.annSpan)!.decision, 'accept');
    await owner.api.post(`/live-sessions/${id}/adjudication`, { decisions: [{ eventId: codes.annSpan, decision: 'reject' }] });
  });

  test('the owner files once (201, the observation with every code as a live coding); observers and contributors cannot; twice is 409', async () => {
    const { id, codes } = await standardSession(app.url, people(), { versionId, baseUrl: model.openaiBaseUrl, title: 'To file' });
    const watcher = await joined(app.url, viewer, id);
    clients.push(watcher);
    assert.equal((await owner.api.post(`/live-sessions/${id}/adjudication`, { decisions: [{ eventId: codes.annSpan, decision: 'reject' }] })).status, 200);

    assert.equal((await actors.anon.post(`/live-sessions/${id}/file`)).status, 401);
    for (const who of [ann, bob, viewer, outsider]) {
      const res = await who.api.post(`/live-sessions/${id}/file`);
      assert.equal(res.status, 403, `${who.displayName} (${who.role}): ${res.text}`);
      assert.equal(res.body.error.id, 'forbidden');
    }
    const filed = await owner.api.post(`/live-sessions/${id}/file`);
    assert.equal(filed.status, 201, filed.text);
    const observationId: string = filed.body.observationId;
    assert.match(observationId, /^[0-9a-f-]{36}$/);
    assert.equal(filed.body.codings, 5);
    assert.equal(filed.headers.get('location'), `/api/v1/observations/${observationId}`);
    await watcher.until((es) => es.some((e) => e.type === 'session.filed'), 'the filing to reach the room');

    const observation = await owner.api.get(`/observations/${observationId}`);
    assert.equal(observation.status, 200, observation.text);
    assert.equal(observation.body.title, 'To file');
    const rows = rowsOf<{ coder_id: string; method: string; status: string; provenance: { eventId?: string; startEventId?: string } }>(
      await app.deps.db.execute(sql`SELECT coder_id, method, status, provenance FROM codings WHERE observation_id = ${observationId}::uuid`),
    );
    assert.equal(rows.length, 5);
    assert.ok(rows.every((r) => r.method === 'live'));
    assert.deepEqual([...new Set(rows.map((r) => r.coder_id))].sort(), [ann.id, bob.id].sort());
    const rejected = rows.filter((r) => r.status === 'rejected');
    assert.deepEqual(rejected.map((r) => r.provenance.eventId), [codes.annSpan]);

    const again = await owner.api.post(`/live-sessions/${id}/file`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.details.observationId, observationId);
    const late = await owner.api.post(`/live-sessions/${id}/adjudication`, { decisions: [{ eventId: codes.bobSpan, decision: 'reject' }] });
    assert.equal(late.status, 409);
    const s = await summaryOf(viewer, id);
    assert.equal(s.session.status, 'filed');
    assert.equal(s.observationId, observationId);
  });

  test('a contributor who owns nothing cannot file even as the session\'s observer; an admin can file a session they are not in', async () => {
    const contributorObserver = await makeUser(app, 'contributor', 'carl');
    const id = await openLiveSession(owner, { versionId, baseUrl: model.openaiBaseUrl, title: 'Admin files', people: [[contributorObserver, 'observer']] });
    const driver = await joined(app.url, owner, id);
    const carl = await joined(app.url, contributorObserver, id);
    clients.push(driver, carl);
    await promptAndWait(driver, id, 'Hello');
    await carl.sendOk({ sessionId: id, type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 0, offset: 3 } });
    assert.equal((await owner.api.post(`/live-sessions/${id}/end`)).status, 200);
    const refused = await contributorObserver.api.post(`/live-sessions/${id}/file`);
    assert.equal(refused.status, 403);
    const filed = await actors.admin.api.post(`/live-sessions/${id}/file`);
    assert.equal(filed.status, 201, filed.text);
    const status = rowsOf<{ status: string }>(await app.deps.db.execute(sql`SELECT status FROM codings WHERE observation_id = ${filed.body.observationId}::uuid`));
    assert.deepEqual(status.map((r) => r.status), ['proposed'], 'a contributor\'s undecided code is filed as a proposal');
  });
});
