import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { after, before, describe, test } from 'node:test';
import { rowsOf } from '../../core/db.ts';
import { makeActors, signedInWeb } from '../support/clients.ts';
import { ensureStarterEthogram } from '../support/ethogram-fixture.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { codingState, insertProposal, makeClassifier } from '../support/proposal-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let judge: Awaited<ReturnType<typeof makeClassifier>>;
let rules: Awaited<ReturnType<typeof makeClassifier>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  await ensureStarterEthogram(app.deps.db);
  actors = await makeActors(app);
  judge = await makeClassifier(app.deps.db, actors.researcher.id, { name: 'GPT judge', kind: 'llm_judge' });
  rules = await makeClassifier(app.deps.db, actors.researcher.id, { name: 'Rule detectors', kind: 'rules' });
});
after(() => app.close());

/** The assistant's reply in the sample transcript (message m3, part 0). */
const reply = 'I am sorry, I cannot read PDFs. The paper shows that zebras sleep standing up.';
const refusal = { messageId: 'm3', partIndex: 0, start: 0, end: 31, quote: reply.slice(0, 31) };

async function proposal(observationId: string, over: Partial<Parameters<typeof insertProposal>[1]> = {}) {
  return insertProposal(app.deps.db, { observationId, code: 'REF-PART', classifier: judge, coderId: actors.researcher.id, span: refusal, confidence: 0.8, rationale: 'Says it cannot read PDFs.', ...over });
}

const revisionsOf = async (id: string) =>
  rowsOf<{ reason: string; snapshot: Record<string, unknown> | string; revision: number }>(
    await app.deps.db.execute(sql`SELECT reason, snapshot, revision FROM revisions WHERE entity_type = 'coding' AND entity_id = ${id} ORDER BY id`),
  ).map((r) => ({ ...r, snapshot: typeof r.snapshot === 'string' ? JSON.parse(r.snapshot) : r.snapshot }));
const eventsOf = async (id: string) =>
  rowsOf<{ type: string; payload: Record<string, unknown> | string }>(
    await app.deps.db.execute(sql`SELECT type, payload FROM events WHERE entity_type = 'coding' AND entity_id = ${id} ORDER BY id`),
  ).map((r) => ({ type: r.type, payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload }));

describe('GET /review (the queue)', () => {
  test('anonymous 401, contributors 403; researchers and admins see proposals oldest first with context', async () => {
    const o = await submitObservation(actors.contributor);
    const first = await proposal(o.id, { createdAt: new Date('2020-01-01T00:00:00Z') });
    const second = await proposal(o.id, { code: 'FAB-FACT', createdAt: new Date('2020-01-02T00:00:00Z'), span: { messageId: 'm3', partIndex: 0, start: 32, end: reply.length, quote: reply.slice(32) } });
    assert.equal((await actors.anon.get(`/review?observationId=${o.id}`)).status, 401);
    assert.equal((await actors.contributor.api.get(`/review?observationId=${o.id}`)).status, 403);
    for (const who of ['researcher', 'admin'] as const) {
      const res = await actors[who].api.get(`/review?observationId=${o.id}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.data.map((i: { id: string }) => i.id), [first, second]);
      assert.equal(res.body.total, 2);
      assert.equal(res.body.nextCursor, null);
    }
    const item = (await actors.researcher.api.get(`/review?observationId=${o.id}`)).body.data[0];
    assert.equal(item.observation.title, o.title);
    assert.equal(item.behaviour.code, 'REF-PART');
    assert.ok(item.behaviour.definition.length > 20, 'the definition is there to show on demand');
    assert.deepEqual(item.classifier, { id: judge.id, name: 'GPT judge', kind: 'llm_judge' });
    assert.equal(item.confidence, 0.8);
    assert.equal(item.rationale, 'Says it cannot read PDFs.');
    assert.deepEqual(
      { before: item.context.before, match: item.context.match, after: item.context.after, role: item.context.role, n: item.context.messageNumber },
      { before: '', match: reply.slice(0, 31), after: reply.slice(31), role: 'assistant', n: 3 },
    );
  });

  test('filters: behaviour, classifier, method, confidence range, version, observation; bad filters are 422', async () => {
    const o = await submitObservation(actors.contributor);
    const a = await proposal(o.id, { confidence: 0.2 });
    const b = await proposal(o.id, { code: 'DEG-LOOP', classifier: rules, method: 'rule', confidence: 0.95, span: undefined });
    const c = await proposal(o.id, { code: 'FAB-FACT', confidence: 0.6 });
    const ids = async (q: string) => {
      const res = await actors.researcher.api.get(`/review?observationId=${o.id}&${q}`);
      assert.equal(res.status, 200, res.text);
      return res.body.data.map((i: { id: string }) => i.id);
    };
    assert.deepEqual(await ids('behaviour=deg-loop'), [b]);
    assert.deepEqual(await ids(`classifierId=${judge.id}`), [a, c]);
    assert.deepEqual(await ids('method=rule'), [b]);
    assert.deepEqual(await ids('minConfidence=0.5'), [b, c]);
    assert.deepEqual(await ids('minConfidence=0.5&maxConfidence=0.7'), [c]);
    assert.deepEqual(await ids(`ethogramVersionId=${judge.versionId}`), [a, b, c]);
    assert.deepEqual(await ids('ethogramVersionId=00000000-0000-4000-8000-000000000000'), []);
    const whole = (await actors.researcher.api.get(`/review?observationId=${o.id}&method=rule`)).body.data[0];
    assert.equal(whole.span, null);
    assert.equal(whole.context, null);
    const bad = await actors.researcher.api.get('/review?minConfidence=2&method=manual');
    assert.equal(bad.status, 422);
    assert.ok(bad.body.error.details.fields.minConfidence);
    assert.ok(bad.body.error.details.fields.method);
    assert.equal((await actors.researcher.api.get('/review?minConfidence=0.8&maxConfidence=0.2')).status, 422);
    assert.equal((await actors.researcher.api.get('/review?after=not-a-cursor')).status, 422);
  });

  test('keyset pagination walks the whole queue without repeats, also when proposals share a timestamp', async () => {
    const o = await submitObservation(actors.contributor);
    const at = new Date('2021-05-05T05:05:05.123Z');
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await proposal(o.id, { createdAt: at }));
    const seen: string[] = [];
    let after = '';
    for (let page = 0; page < 5; page++) {
      const res = await actors.researcher.api.get(`/review?observationId=${o.id}&limit=2${after ? `&after=${after}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.total, 5);
      seen.push(...res.body.data.map((i: { id: string }) => i.id));
      if (!res.body.nextCursor) break;
      after = res.body.nextCursor;
    }
    assert.deepEqual(seen, [...made].sort());
  });
});

describe('accept, reject, edit', () => {
  test('accept as each actor: anonymous 401, contributor 403; a researcher accepts; the proposal is kept as a revision', async () => {
    const o = await submitObservation(actors.contributor);
    const id = await proposal(o.id);
    assert.equal((await actors.anon.post(`/codings/${id}/accept`)).status, 401);
    assert.equal((await actors.contributor.api.post(`/codings/${id}/accept`)).status, 403);
    assert.equal((await codingState(app.deps.db, id))!.status, 'proposed', 'refused requests change nothing');
    const res = await actors.researcher.api.post(`/codings/${id}/accept`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'accepted');
    assert.equal(res.body.reviewedBy.id, actors.researcher.id);
    const state = await codingState(app.deps.db, id);
    assert.equal(state!.status, 'accepted');
    assert.equal(state!.reviewed_by, actors.researcher.id);
    const revisions = await revisionsOf(id);
    assert.equal(revisions.length, 1);
    assert.equal(revisions[0]!.reason, 'review-accept');
    assert.equal(revisions[0]!.snapshot.status, 'proposed');
    assert.deepEqual((await eventsOf(id)).map((e) => e.type), ['coding.accepted']);
    assert.equal((await actors.researcher.api.get(`/observations/${o.id}`)).body.status, 'coded', 'an accepted coding codes the observation');
    assert.deepEqual((await actors.researcher.api.get(`/review?observationId=${o.id}`)).body.data, [], 'it left the queue');
  });

  test('a proposal reviewed already is a 409 naming who decided; two reviewers at once: one wins, the other is told', async () => {
    const o = await submitObservation(actors.contributor);
    const id = await proposal(o.id);
    assert.equal((await actors.admin.api.post(`/codings/${id}/reject`, { reason: 'Not a refusal.' })).status, 200);
    const again = await actors.researcher.api.post(`/codings/${id}/accept`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.id, 'conflict');
    assert.match(again.body.error.message, /already rejected by admin/);
    assert.equal((await codingState(app.deps.db, id))!.status, 'rejected');

    const raced = await proposal(o.id);
    const [x, y] = await Promise.all([
      actors.researcher.api.post(`/codings/${raced}/accept`),
      actors.admin.api.patch(`/codings/${raced}`, { code: 'REF-FULL' }),
    ]);
    assert.deepEqual([x.status, y.status].sort(), [200, 409]);
    const loser = x.status === 409 ? x : y;
    assert.match(loser.body.error.message, /already accepted by (researcher|admin)/);
    assert.equal((await revisionsOf(raced)).length, 1, 'only the winner decided');
  });

  test('reject keeps the reason in the event; the coding stays (status rejected)', async () => {
    const o = await submitObservation(actors.contributor);
    const id = await proposal(o.id);
    assert.equal((await actors.contributor.api.post(`/codings/${id}/reject`, { reason: 'x' })).status, 403);
    const res = await actors.researcher.api.post(`/codings/${id}/reject`, { reason: 'The model did read the file.' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'rejected');
    const events = await eventsOf(id);
    assert.deepEqual(events.map((e) => [e.type, e.payload.reason]), [['coding.rejected', 'The model did read the file.']]);
    const bad = await actors.researcher.api.post(`/codings/${await proposal(o.id)}/reject`, { reason: 'x'.repeat(2001) });
    assert.equal(bad.status, 422);
  });

  test('edit changes behaviour and span, accepts, and keeps the original proposal in the revision', async () => {
    const o = await submitObservation(actors.contributor);
    const id = await proposal(o.id);
    assert.equal((await actors.anon.patch(`/codings/${id}`, { code: 'REF-FULL' })).status, 401);
    assert.equal((await actors.contributor.api.patch(`/codings/${id}`, { code: 'REF-FULL' })).status, 403);
    const res = await actors.researcher.api.patch(`/codings/${id}`, { code: 'ref-full', span: { messageId: 'm3', partIndex: 0, start: 0, end: 10 } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'accepted');
    assert.equal(res.body.behaviour.code, 'REF-FULL');
    assert.deepEqual(res.body.span, { messageId: 'm3', partIndex: 0, start: 0, end: 10, quote: reply.slice(0, 10) });
    assert.equal(res.body.method, 'llm_judge', 'it still came from the classifier');
    const [revision] = await revisionsOf(id);
    assert.equal(revision!.reason, 'review-edit');
    assert.equal(revision!.snapshot.status, 'proposed');
    assert.equal(revision!.snapshot.char_end, 31, 'the proposed span is kept');
    const proposedBehaviour = rowsOf<{ code: string }>(await app.deps.db.execute(sql`SELECT code FROM behaviours WHERE id = ${revision!.snapshot.behaviour_id as string}::uuid`))[0];
    assert.equal(proposedBehaviour!.code, 'REF-PART');
    const [event] = await eventsOf(id);
    assert.deepEqual(event!.payload.changed, ['behaviour', 'span']);

    // Whole observation.
    const other = await proposal(o.id);
    const whole = await actors.admin.api.patch(`/codings/${other}`, { span: null });
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.body.span, null);
    assert.equal(whole.body.behaviour.code, 'REF-PART');
  });

  test('bad edits store nothing: a behaviour outside the version, a span outside the part, an empty edit', async () => {
    const o = await submitObservation(actors.contributor);
    const id = await proposal(o.id);
    const outside = await actors.researcher.api.patch(`/codings/${id}`, { code: 'NOT-A-CODE' });
    assert.equal(outside.status, 422);
    assert.match(outside.body.error.message, /"NOT-A-CODE" is not a behaviour code in llm-starter v1/);
    assert.ok(outside.body.error.details.fields.code);
    const span = await actors.researcher.api.patch(`/codings/${id}`, { span: { messageId: 'm3', partIndex: 0, start: 0, end: 500 } });
    assert.equal(span.status, 422);
    assert.ok(span.body.error.details.fields['span.end']);
    assert.equal((await actors.researcher.api.patch(`/codings/${id}`, {})).status, 422);
    assert.equal((await actors.researcher.api.patch(`/codings/${id}`, { code: 'REF-FULL', extra: 1 })).status, 422);
    const modifiers = await actors.researcher.api.patch(`/codings/${id}`, { modifiers: { nonsense: 'x' } });
    assert.equal(modifiers.status, 422);
    const state = await codingState(app.deps.db, id);
    assert.deepEqual([state!.status, state!.behaviour_code, state!.revision], ['proposed', 'REF-PART', 1]);
    assert.deepEqual(await revisionsOf(id), []);
  });

  test('a withdrawn proposal, an accepted manual coding, unknown and malformed ids', async () => {
    const o = await submitObservation(actors.contributor);
    const id = await proposal(o.id, { coderId: actors.researcher.id });
    assert.equal((await actors.researcher.api.delete(`/codings/${id}`)).status, 200);
    const withdrawn = await actors.researcher.api.post(`/codings/${id}/accept`);
    assert.equal(withdrawn.status, 409);
    assert.match(withdrawn.body.error.message, /withdrawn/);
    const manual = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'REF-FULL' });
    const notProposal = await actors.researcher.api.post(`/codings/${manual.body.id}/accept`);
    assert.equal(notProposal.status, 409);
    assert.match(notProposal.body.error.message, /not a proposal/);
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const path of [`/codings/${unknown}/accept`, `/codings/${unknown}/reject`, '/codings/nope/accept']) {
      const res = await actors.researcher.api.post(path, {});
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error.id, 'not_found');
    }
    assert.equal((await actors.researcher.api.patch(`/codings/${unknown}`, { code: 'REF-FULL' })).status, 404);
    // A deleted observation's proposals are gone from review.
    const gone = await submitObservation(actors.contributor);
    const p = await proposal(gone.id);
    assert.equal((await actors.admin.api.delete(`/observations/${gone.id}`)).status, 204);
    assert.equal((await actors.admin.api.post(`/codings/${p}/accept`)).status, 404);
  });
});

describe('POST /codings/:id/reopen (undo)', () => {
  test('the reviewer takes back an edit: the proposal is restored and back in the queue; others cannot undo it', async () => {
    const o = await submitObservation(actors.contributor);
    const id = await proposal(o.id);
    assert.equal((await actors.researcher.api.patch(`/codings/${id}`, { code: 'REF-FULL', span: null })).status, 200);
    assert.equal((await actors.anon.post(`/codings/${id}/reopen`)).status, 401);
    assert.equal((await actors.contributor.api.post(`/codings/${id}/reopen`)).status, 403);
    const other = await actors.admin.api.post(`/codings/${id}/reopen`);
    assert.equal(other.status, 409);
    assert.match(other.body.error.message, /Only the reviewer who decided/);
    const res = await actors.researcher.api.post(`/codings/${id}/reopen`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'proposed');
    assert.equal(res.body.behaviour.code, 'REF-PART');
    assert.deepEqual(res.body.span, refusal);
    const state = await codingState(app.deps.db, id);
    assert.deepEqual([state!.status, state!.reviewed_by, state!.revision], ['proposed', null, 3]);
    assert.deepEqual((await eventsOf(id)).map((e) => e.type), ['coding.edited', 'coding.reopened']);
    assert.deepEqual((await actors.researcher.api.get(`/review?observationId=${o.id}`)).body.data.map((i: { id: string }) => i.id), [id]);
    assert.equal((await actors.researcher.api.post(`/codings/${id}/reopen`)).status, 409, 'a proposal has no decision to undo');
    // Too late: past the window.
    assert.equal((await actors.researcher.api.post(`/codings/${id}/reject`, {})).status, 200);
    app.clock.offsetMs = 16 * 60_000;
    try {
      const late = await actors.researcher.api.post(`/codings/${id}/reopen`);
      assert.equal(late.status, 409);
      assert.match(late.body.error.message, /within 15 minutes/);
    } finally {
      app.clock.offsetMs = 0;
    }
  });
});

describe('POST /review/bulk', () => {
  test('accepts listed ids, skips those decided meanwhile; rejects a filtered selection; actors', async () => {
    const o = await submitObservation(actors.contributor);
    const [a, b, c] = [await proposal(o.id), await proposal(o.id), await proposal(o.id)];
    assert.equal((await actors.anon.post('/review/bulk', { action: 'accept', ids: [a] })).status, 401);
    assert.equal((await actors.contributor.api.post('/review/bulk', { action: 'accept', ids: [a] })).status, 403);
    await actors.admin.api.post(`/codings/${b}/reject`, {});
    const res = await actors.researcher.api.post('/review/bulk', { action: 'accept', ids: [a, b, '00000000-0000-4000-8000-000000000000'] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.decided, [a]);
    assert.deepEqual(res.body.skipped.map((s: { id: string }) => s.id).sort(), [b, '00000000-0000-4000-8000-000000000000'].sort());
    assert.equal((await codingState(app.deps.db, a))!.status, 'accepted');
    assert.equal((await codingState(app.deps.db, b))!.status, 'rejected', 'not overwritten');

    const other = await submitObservation(actors.contributor);
    const [d, e] = [await proposal(other.id, { confidence: 0.1 }), await proposal(other.id, { confidence: 0.9 })];
    const byFilter = await actors.admin.api.post('/review/bulk', { action: 'reject', filter: { observationId: other.id, maxConfidence: '0.5' }, reason: 'Low confidence' });
    assert.equal(byFilter.status, 200, byFilter.text);
    assert.deepEqual(byFilter.body.decided, [d]);
    assert.equal((await codingState(app.deps.db, e))!.status, 'proposed');
    assert.equal((await codingState(app.deps.db, c))!.status, 'proposed');
    assert.equal((await actors.researcher.api.post('/review/bulk', { action: 'accept' })).status, 422);
    assert.equal((await actors.researcher.api.post('/review/bulk', { action: 'maybe', ids: [c] })).status, 422);
  });
});

describe('from the browser (session + CSRF)', () => {
  test('a signed-in researcher decides with fetch and the CSRF header; without it, 403', async () => {
    const o = await submitObservation(actors.contributor);
    const id = await proposal(o.id);
    const web = await signedInWeb(app, actors.researcher);
    const noToken = await web.request('POST', `/api/v1/codings/${id}/accept`, { headers: { accept: 'application/json' } });
    assert.equal(noToken.status, 403);
    const res = await web.json('POST', `/api/v1/codings/${id}/accept`);
    assert.equal(res.status, 200, res.text);
    assert.equal((await codingState(app.deps.db, id))!.status, 'accepted');
  });
});
