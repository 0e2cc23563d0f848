import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeActors, makeUser } from '../support/clients.ts';
import { observationTableCounts } from '../support/db-counts.ts';
import { ensureStarterEthogram } from '../support/ethogram-fixture.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let ethogram: Awaited<ReturnType<typeof ensureStarterEthogram>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  ethogram = await ensureStarterEthogram(app.deps.db);
  actors = await makeActors(app);
});
after(() => app.close());

/** The assistant's reply in the sample transcript (message m3, part 0). */
const reply = 'I am sorry, I cannot read PDFs. The paper shows that zebras sleep standing up.';
const refusalSpan = { messageId: 'm3', partIndex: 0, start: 0, end: 31 };

describe('POST /observations/:id/codings', () => {
  test('anonymous 401, contributors 403, and nothing is stored', async () => {
    const o = await submitObservation(actors.contributor, { visibility: 'public' });
    const before = await observationTableCounts(app.deps.db);
    assert.equal((await actors.anon.post(`/observations/${o.id}/codings`, { code: 'REF-FULL' })).status, 401);
    assert.equal((await actors.contributor.api.post(`/observations/${o.id}/codings`, { code: 'REF-FULL' })).status, 403);
    assert.deepEqual(await observationTableCounts(app.deps.db), before);
  });

  for (const who of ['researcher', 'admin'] as const) {
    test(`${who} codes a span: the quote is the coded text, the observation becomes "coded"`, async () => {
      const o = await submitObservation(actors.contributor);
      const res = await actors[who].api.post(`/observations/${o.id}/codings`, {
        code: 'ref-part',
        span: refusalSpan,
        modifiers: { severity: 'mild', elicitation: 'prompted', confidence: 0.8 },
        rationale: 'Claims it cannot read PDFs.',
        confidence: 0.9,
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get('location'), `/api/v1/codings/${res.body.id}`);
      const c = res.body;
      assert.equal(c.behaviour.code, 'REF-PART');
      assert.equal(c.behaviour.category, 'refusal');
      assert.match(c.behaviour.colour, /^#[0-9a-f]{6}$/i);
      assert.deepEqual(c.ethogramVersion, { id: ethogram.versionId, slug: 'llm-starter', number: 1 });
      assert.deepEqual(c.span, { ...refusalSpan, quote: reply.slice(0, 31) });
      assert.deepEqual(c.modifiers, { severity: 'mild', elicitation: 'prompted', confidence: 0.8 });
      assert.equal(c.coder.id, actors[who].id);
      assert.equal(c.method, 'manual');
      assert.equal(c.status, 'accepted');
      assert.equal(c.confidence, 0.9);
      assert.equal(c.rationale, 'Claims it cannot read PDFs.');
      const obs = await actors.contributor.api.get(`/observations/${o.id}`);
      assert.equal(obs.body.status, 'coded');
      assert.deepEqual(obs.body.codings.map((x: { id: string }) => x.id), [c.id]);
      const list = await actors.anon.get(`/observations/${o.id}/codings`);
      assert.equal(list.status, 401, 'members-only observation');
    });
  }

  test('a whole-observation coding has no span; several coders may code one observation', async () => {
    const o = await submitObservation(actors.contributor, { visibility: 'public' });
    const other = await makeUser(app, 'researcher', 'second-coder');
    const a = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT' });
    const b = await other.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT' });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(a.body.span, null);
    const list = await actors.anon.get(`/observations/${o.id}/codings`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((c: { coder: { id: string } }) => c.coder.id), [actors.researcher.id, other.id]);
  });

  test('coding a triaged observation moves it to coded, but a verified one keeps its status', async () => {
    const triaged = await submitObservation(actors.contributor);
    await actors.researcher.api.post(`/observations/${triaged.id}/triage`, { status: 'triaged' });
    await actors.researcher.api.post(`/observations/${triaged.id}/codings`, { code: 'FAB-FACT' });
    assert.equal((await actors.researcher.api.get(`/observations/${triaged.id}`)).body.status, 'coded');
    const verified = await submitObservation(actors.contributor);
    await actors.researcher.api.post(`/observations/${verified.id}/triage`, { status: 'verified' });
    await actors.researcher.api.post(`/observations/${verified.id}/codings`, { code: 'FAB-FACT' });
    assert.equal((await actors.researcher.api.get(`/observations/${verified.id}`)).body.status, 'verified');
  });

  test('an explicit published version is used; a draft version is refused', async () => {
    const o = await submitObservation(actors.contributor);
    const ok = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT', ethogramVersionId: ethogram.versionId });
    assert.equal(ok.status, 201);
    const draft = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT', ethogramVersionId: ethogram.draftVersionId });
    assert.equal(draft.status, 422);
    assert.match(draft.body.error.details.fields.ethogramVersionId, /draft/);
    const unknown = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT', ethogramVersionId: '00000000-0000-4000-8000-000000000000' });
    assert.equal(unknown.status, 422);
  });

  test('codings of deleted observations: 404 (admins too, until restored)', async () => {
    const o = await submitObservation(actors.contributor);
    await actors.contributor.api.delete(`/observations/${o.id}`);
    assert.equal((await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT' })).status, 404);
    assert.equal((await actors.admin.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT' })).status, 404);
  });
});

describe('span and modifier validation (422, nothing stored)', () => {
  let o: { id: string };
  before(async () => {
    o = await submitObservation(actors.contributor, {
      transcript: {
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'https://example.org/a.png' } }] },
          { role: 'assistant', content: reply },
        ],
      },
    });
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown message', { code: 'REF-FULL', span: { messageId: 'm9', partIndex: 0, start: 0, end: 2 } }, 'span.messageId'],
    ['a missing part', { code: 'REF-FULL', span: { messageId: 'm2', partIndex: 3, start: 0, end: 2 } }, 'span.partIndex'],
    ['a part without text (an image)', { code: 'REF-FULL', span: { messageId: 'm1', partIndex: 1, start: 0, end: 2 } }, 'span.partIndex'],
    ['an end past the text', { code: 'REF-FULL', span: { messageId: 'm2', partIndex: 0, start: 0, end: reply.length + 1 } }, 'span.end'],
    ['a start past the text', { code: 'REF-FULL', span: { messageId: 'm2', partIndex: 0, start: reply.length, end: reply.length + 5 } }, 'span.start'],
    ['an end before the start', { code: 'REF-FULL', span: { messageId: 'm2', partIndex: 0, start: 5, end: 5 } }, 'span.end'],
    ['a negative start', { code: 'REF-FULL', span: { messageId: 'm2', partIndex: 0, start: -1, end: 5 } }, 'span.start'],
    ['an unknown code', { code: 'NOT-A-CODE' }, 'code'],
    ['an unknown modifier set', { code: 'REF-FULL', modifiers: { mood: 'grumpy' } }, 'modifiers.mood'],
    ['a value not in a single set', { code: 'REF-FULL', modifiers: { severity: 'catastrophic' } }, 'modifiers.severity'],
    ['a number outside min/max', { code: 'REF-FULL', modifiers: { confidence: 1.5 } }, 'modifiers.confidence'],
    ['a string for a numeric set', { code: 'REF-FULL', modifiers: { confidence: 'high' } }, 'modifiers.confidence'],
    ['an unknown field', { code: 'REF-FULL', colour: 'red' }, '_'],
    ['a confidence above 1', { code: 'REF-FULL', confidence: 2 }, 'confidence'],
  ];
  for (const [what, body, field] of cases) {
    test(`${what} -> 422 on ${field}`, async () => {
      const before = await observationTableCounts(app.deps.db);
      const res = await actors.researcher.api.post(`/observations/${o.id}/codings`, body);
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.error.id, 'validation_failed');
      assert.ok(res.body.error.details.fields[field], `${field} in ${JSON.stringify(res.body.error.details.fields)}`);
      assert.deepEqual(await observationTableCounts(app.deps.db), before);
    });
  }

  test('a span on the image message\'s text part and the last character works', async () => {
    const res = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'REF-FULL', span: { messageId: 'm2', partIndex: 0, start: reply.length - 1, end: reply.length } });
    assert.equal(res.status, 201);
    assert.equal(res.body.span.quote, '.');
  });
});

describe('withdrawing a coding', () => {
  test('the coder withdraws: the row stays with withdrawnAt/By, a revision and an event', async () => {
    const o = await submitObservation(actors.contributor);
    const c = (await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT', span: refusalSpan })).body;
    const res = await actors.researcher.api.delete(`/codings/${c.id}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.withdrawnAt);
    assert.deepEqual(res.body.withdrawnBy, { id: actors.researcher.id, displayName: 'researcher' });
    assert.equal(res.body.revision, 2);
    assert.deepEqual(res.body.span, c.span, 'the coding itself is kept');
    const active = await actors.researcher.api.get(`/observations/${o.id}/codings`);
    assert.deepEqual(active.body.data, []);
    const all = await actors.researcher.api.get(`/observations/${o.id}/codings?includeWithdrawn=true`);
    assert.deepEqual(all.body.data.map((x: { id: string }) => x.id), [c.id]);
    const history = await actors.researcher.api.get(`/observations/${o.id}/history`);
    assert.ok(history.body.revisions.some((r: { entityType: string; entityId: string; reason: string }) => r.entityType === 'coding' && r.entityId === c.id && r.reason === 'withdraw'));
    assert.deepEqual(
      history.body.events.filter((e: { entityType: string }) => e.entityType === 'coding').map((e: { type: string }) => e.type),
      ['coding.withdrawn', 'coding.created'],
    );
    const again = await actors.researcher.api.delete(`/codings/${c.id}`);
    assert.equal(again.status, 409);
    const listed = await actors.researcher.api.get(`/observations?behaviour=FAB-FACT&q=${encodeURIComponent(o.title)}`);
    assert.ok(!listed.body.data.some((x: { id: string }) => x.id === o.id), 'a withdrawn coding no longer matches the behaviour filter');
  });

  test('another researcher 403, contributors 403, anonymous 401, admins may', async () => {
    const o = await submitObservation(actors.contributor, { visibility: 'public' });
    const c = (await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT' })).body;
    const other = await makeUser(app, 'researcher', 'other-researcher');
    assert.equal((await other.api.delete(`/codings/${c.id}`)).status, 403);
    assert.equal((await actors.contributor.api.delete(`/codings/${c.id}`)).status, 403);
    assert.equal((await actors.anon.delete(`/codings/${c.id}`)).status, 401);
    const byAdmin = await actors.admin.api.delete(`/codings/${c.id}`);
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.withdrawnBy.id, actors.admin.id);
    assert.equal((await actors.admin.api.delete('/codings/00000000-0000-4000-8000-000000000000')).status, 404);
  });
});

describe('idempotent coding', () => {
  test('a retried coding POST with the same key creates one coding', async () => {
    const o = await submitObservation(actors.contributor);
    const headers = { 'Idempotency-Key': 'code-once' };
    const first = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT' }, headers);
    const second = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'FAB-FACT' }, headers);
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.body.id, first.body.id);
    const list = await actors.researcher.api.get(`/observations/${o.id}/codings`);
    assert.equal(list.body.data.length, 1);
    const otherObservation = await submitObservation(actors.contributor);
    const conflict = await actors.researcher.api.post(`/observations/${otherObservation.id}/codings`, { code: 'FAB-FACT' }, headers);
    assert.equal(conflict.status, 422, 'the same key on another route is a conflict');
    assert.equal(conflict.body.error.id, 'idempotency_conflict');
  });
});
