import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { insertClassifier, jobCodings, waitForJobStatus } from '../../observations/classify/jobs/classify-test-support.ts';
import { makeActors } from '../support/clients.ts';
import { openaiFindings, startFakeJudge, type FakeJudge } from '../support/fake-judge-server.ts';
import { copyObservation, submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let judge: FakeJudge;
let actors: Awaited<ReturnType<typeof makeActors>>;
let rules: { id: string };
let slowJudge: { id: string };
let observationIds: string[];

const REFUSAL = "I can't help with that.";

before(async () => {
  judge = await startFakeJudge();
  app = await startTestApp({ loadStarter: true, judgeEnv: { OPENAI_API_KEY: 'sk-test', MENAGERIE_JUDGE_KEY_ORIGINS: judge.url } });
  actors = await makeActors(app);
  rules = await insertClassifier(app.deps.db, { kind: 'rules', settings: {}, createdBy: actors.researcher.id, name: 'Rules' });
  slowJudge = await insertClassifier(app.deps.db, {
    kind: 'llm_judge',
    settings: { provider: 'openai', model: 'gpt-4o-mini', baseUrl: judge.openaiBaseUrl, maxRetries: 0, concurrency: 1 },
    createdBy: actors.researcher.id,
    name: 'Slow judge',
  });
  judge.respondWith(() => ({ ...openaiFindings([]), delayMs: 150 }));
  observationIds = [];
  for (let i = 0; i < 3; i++) {
    const o = await submitObservation(actors.contributor, {
      transcript: { messages: [{ role: 'user', content: 'Write malware for me.' }, { role: 'assistant', content: REFUSAL }] },
    });
    observationIds.push(o.id);
  }
});
after(async () => {
  await app.close();
  await judge.close();
});

const jobCount = async () => rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM jobs`))[0]!.n;
const itemCount = async () => rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM classification_items`))[0]!.n;

test('POST /classification-jobs as each actor: anonymous 401, contributor 403, researcher and admin 201', async () => {
  const body = { classifierId: rules.id, observationIds };
  assert.equal((await actors.anon.post('/classification-jobs', body)).status, 401);
  const refused = await actors.contributor.api.post('/classification-jobs', body);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.id, 'forbidden');
  assert.equal((await actors.contributor.api.post('/classification-jobs', { classifierId: rules.id, observationIds: [observationIds[0]] })).status, 403, 'one observation needs classification.run');
  for (const who of [actors.researcher, actors.admin]) {
    const res = await who.api.post('/classification-jobs', body);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('location'), `/api/v1/jobs/${res.body.id}`);
    assert.equal(res.body.createdBy.id, who.id);
    const done = await waitForJobStatus(who.api, res.body.id, ['completed', 'failed']);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.equal(done.summary.proposals, 3);
    assert.deepEqual(done.summary.proposalsByBehaviour, { 'REF-FULL': 3 });
    const codings = await jobCodings(app.deps.db, res.body.id);
    assert.ok(codings.every((c) => c.method === 'rule' && c.status === 'proposed' && c.provenance.detector === 'stock-refusal' && c.quote === REFUSAL));
  }
});

test('bad input is a precise 4xx and stores nothing', async () => {
  const jobs = await jobCount();
  const items = await itemCount();
  const cases: [unknown, number, RegExp, string?][] = [
    [{}, 422, /classifierId/],
    [{ classifierId: rules.id }, 422, /either observationIds or filters/, 'observationIds'],
    [{ classifierId: rules.id, observationIds: [], filters: {} }, 422, /observationIds/],
    [{ classifierId: '00000000-0000-4000-8000-000000000000', observationIds }, 422, /no such classifier/i, 'classifierId'],
    [{ classifierId: rules.id, observationIds: [observationIds[0], '00000000-0000-4000-8000-0000000000aa'] }, 422, /do not exist/, 'observationIds'],
    [{ classifierId: rules.id, observationIds: ['not-an-id'] }, 422, /observationIds/],
    [{ classifierId: rules.id, observationIds, autoAccept: { minConfidence: 2 } }, 422, /minConfidence/],
    [{ classifierId: rules.id, filters: { q: 'zzzz-nothing-matches-this-zzzz' } }, 422, /match no observations/, 'filters'],
    [{ classifierId: rules.id, observationIds, surprise: true }, 422, /surprise/],
  ];
  for (const [body, status, message, field] of cases) {
    const res = await actors.researcher.api.post('/classification-jobs', body);
    assert.equal(res.status, status, `${JSON.stringify(body)} -> ${res.text}`);
    assert.match(res.body.error.message, message);
    if (field) assert.ok(res.body.error.details.fields[field], `field ${field} named in ${JSON.stringify(res.body.error.details)}`);
  }
  const archived = await insertClassifier(app.deps.db, { kind: 'rules', settings: {}, createdBy: actors.researcher.id, name: 'Old rules' });
  await app.deps.db.execute(sql`UPDATE classifiers SET archived_at = now() WHERE id = ${archived.id}::uuid`);
  const res = await actors.researcher.api.post('/classification-jobs', { classifierId: archived.id, observationIds });
  assert.equal(res.status, 409);
  assert.match(res.body.error.message, /archived/);
  assert.equal(await jobCount(), jobs, 'no job stored');
  assert.equal(await itemCount(), items, 'no items stored');
});

test('a filter scope is resolved to the observations it matches when the job is created', async () => {
  await app.drainSearchIndex();
  const res = await actors.researcher.api.post('/classification-jobs', { classifierId: rules.id, filters: { q: 'malware', page: '3', sort: 'created_desc' } });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(res.body.payload.scope, { kind: 'filter', count: 3, filters: { q: 'malware' } });
  await waitForJobStatus(actors.researcher.api, res.body.id, ['completed']);
});

test('a filter scope takes every match of a search, past the list\'s "300+" count', async () => {
  const seed = await submitObservation(actors.contributor, { title: 'Pangolin sighting' });
  await app.drainSearchIndex();
  await copyObservation(app.deps.db, seed.id, 310); // 311 matches, with distinct dates
  const res = await actors.researcher.api.post('/classification-jobs', { classifierId: rules.id, filters: { q: 'pangolin' } });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(res.body.payload.scope, { kind: 'filter', count: 311, filters: { q: 'pangolin' } });
  await waitForJobStatus(actors.researcher.api, res.body.id, ['completed']);
});

test('GET /jobs and /jobs/:id: researchers and admins read, contributors 403, anonymous 401, unknown 404', async () => {
  const list = await actors.researcher.api.get('/jobs?kind=classify&limit=5');
  assert.equal(list.status, 200);
  assert.ok(list.body.items.length >= 1 && list.body.items.length <= 5);
  assert.ok(list.body.items.every((j: any) => j.kind === 'classify'));
  const mine = await actors.admin.api.get('/jobs?mine=true');
  assert.ok(mine.body.items.every((j: any) => j.createdBy.id === actors.admin.id));
  assert.equal((await actors.researcher.api.get('/jobs?status=nope')).status, 422);
  const id = list.body.items[0].id;
  const one = await actors.admin.api.get(`/jobs/${id}`);
  assert.equal(one.status, 200);
  assert.equal(one.body.details.totals.total, one.body.progress.total);
  assert.equal((await actors.contributor.api.get('/jobs')).status, 403);
  assert.equal((await actors.contributor.api.get(`/jobs/${id}`)).status, 403);
  assert.equal((await actors.anon.get(`/jobs/${id}`)).status, 401);
  assert.equal((await actors.researcher.api.get('/jobs/00000000-0000-4000-8000-000000000000')).status, 404);
  assert.equal((await actors.researcher.api.get('/jobs/nope')).status, 404);
});

test('cancel, pause and resume a running job over the API; 409 once it is finished; only its creator or an admin', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) ids.push((await submitObservation(actors.researcher)).id);
  const res = await actors.researcher.api.post('/classification-jobs', { classifierId: slowJudge.id, observationIds: ids });
  assert.equal(res.status, 201);
  const id = res.body.id;
  await waitForJobStatus(actors.researcher.api, id, ['running']);
  assert.equal((await actors.contributor.api.post(`/jobs/${id}/pause`)).status, 403);
  assert.equal((await actors.anon.post(`/jobs/${id}/pause`)).status, 401);

  const paused = await actors.researcher.api.post(`/jobs/${id}/pause`);
  assert.equal(paused.status, 200);
  assert.equal(paused.body.status, 'paused');
  assert.equal(paused.body.runAfter, null);
  await new Promise((r) => setTimeout(r, 400));
  const held = (await actors.researcher.api.get(`/jobs/${id}`)).body;
  assert.equal(held.status, 'paused');
  assert.ok(held.progress.done < 12);
  const frozen = held.progress.done;
  await new Promise((r) => setTimeout(r, 400));
  assert.equal((await actors.researcher.api.get(`/jobs/${id}`)).body.progress.done, frozen, 'no progress while paused');

  const resumed = await actors.admin.api.post(`/jobs/${id}/resume`);
  assert.equal(resumed.status, 200, 'an admin may control anyone\'s job');
  assert.ok(['queued', 'running'].includes(resumed.body.status), resumed.body.status);
  await waitForJobStatus(actors.researcher.api, id, ['running']);
  assert.equal((await actors.researcher.api.post(`/jobs/${id}/resume`)).status, 409, 'only a paused job resumes');

  const cancelled = await actors.researcher.api.post(`/jobs/${id}/cancel`);
  assert.equal(cancelled.status, 200);
  assert.equal(cancelled.body.cancelRequested, true);
  const final = await waitForJobStatus(actors.researcher.api, id, ['cancelled']);
  assert.ok(final.progress.done < 12, 'stopped before the end');
  assert.equal(final.summary.done, final.progress.done);
  assert.equal(final.summary.pending, 12 - final.progress.done);
  for (const verb of ['cancel', 'pause', 'resume']) {
    const again = await actors.researcher.api.post(`/jobs/${id}/${verb}`);
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /already been cancelled/);
  }
});
