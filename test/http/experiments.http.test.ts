import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { io as connect } from 'socket.io-client';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { inspectModelFolder, writeRandomGpt2 } from '../../experiments/index.ts';
import { closeLoadedModels } from '../../experiments/loaded-models.ts';
import { waitForJobStatus } from '../../observations/classify/jobs/classify-test-support.ts';
import { makeActors } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { holdModel } from '../support/hold-model.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/** Experiments over HTTP: the model registry, creating and running experiments as jobs, results, links, refusals. */
let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
const root = mkdtempSync(path.join(tmpdir(), 'menagerie-experiments-http-'));
const tiny = path.join(root, 'tiny');
const SHAPE = { nLayers: 2, dModel: 16, nHeads: 2, dVocab: 300, nCtx: 64 };
let modelId = '';

before(async () => {
  writeRandomGpt2(tiny, SHAPE, 11);
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
});
after(async () => {
  await app.close();
  await closeLoadedModels();
  rmSync(root, { recursive: true, force: true });
});

const count = async (table: string) => rowsOf<{ n: number }>(await app.deps.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`)))[0]!.n;

test('registering a model folder: admins only; the folder is checked and hashed; bad folders are refused with the reason and nothing is stored', async () => {
  const body = { path: tiny, name: 'Tiny GPT-2' };
  assert.equal((await actors.anon.post('/models', body)).status, 401);
  assert.equal((await actors.researcher.api.post('/models', body)).status, 403);

  const broken = path.join(root, 'broken');
  cpSync(tiny, broken, { recursive: true });
  rmSync(path.join(broken, 'model.safetensors'));
  const refused = await actors.admin.api.post('/models', { path: broken, name: 'Broken' });
  assert.equal(refused.status, 422, refused.text);
  assert.match(refused.body.error.details.fields.path, /no weights/);
  const relative = await actors.admin.api.post('/models', { path: 'models/tiny', name: 'Relative' });
  assert.equal(relative.status, 422);
  assert.match(relative.body.error.details.fields.path, /absolute path/);
  assert.equal(await count('models'), 0, 'nothing stored for refused folders');

  const res = await actors.admin.api.post('/models', body);
  assert.equal(res.status, 201, res.text);
  modelId = res.body.id;
  assert.equal(res.headers.get('location'), `/api/v1/models/${modelId}`);
  assert.equal(res.body.weightsSha256, (await inspectModelFolder(tiny)).weightsSha256);
  assert.equal(res.body.architecture, 'GPT2LMHeadModel');
  assert.equal(res.body.shape.nLayers, 2);
  assert.equal(res.body.status, 'ready');

  const again = await actors.admin.api.post('/models', { path: tiny, name: 'Another name' });
  assert.equal(again.status, 409);
  assert.match(again.body.error.message, /already registered as “Tiny GPT-2”/);
  assert.equal((await actors.admin.api.post('/models', { path: broken, name: 'tiny gpt-2' })).status, 409, 'names are unique whatever the case');

  assert.equal((await actors.anon.get('/models')).status, 401);
  const listed = await actors.contributor.api.get('/models');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.items.map((m: { name: string }) => m.name), ['Tiny GPT-2']);
});

test('a researcher creates an experiment from an observation; its first run completes and stores a reproducible result', async () => {
  const observation = await submitObservation(actors.contributor, { transcript: { messages: [{ role: 'user', content: 'Say hello' }, { role: 'assistant', content: 'Hello world' }] } });
  const body = {
    title: 'Where does "world" come from?',
    hypothesis: 'A head in layer 1 attends from " world" back to "Hello".',
    modelId,
    technique: 'attention',
    params: { prompt: 'Hello world' },
    observationIds: [observation.id],
    seed: 42,
  };
  assert.equal((await actors.contributor.api.post('/experiments', body)).status, 403);
  const res = await actors.researcher.api.post('/experiments', body);
  assert.equal(res.status, 201, res.text);
  const id = res.body.id;
  assert.deepEqual(res.body.observations.map((o: { id: string }) => o.id), [observation.id]);
  assert.equal(res.body.runs.length, 1);
  const run = res.body.runs[0];
  assert.equal(run.number, 1);
  const job = await waitForJobStatus(actors.researcher.api, run.job.id, ['completed', 'failed']);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));

  const done = await actors.contributor.api.get(`/experiments/${id}/runs/1`);
  assert.equal(done.status, 200, 'anyone signed in reads experiments');
  const doc = done.body.result;
  assert.equal(doc.technique, 'attention');
  assert.equal(doc.model.weightsSha256, (await inspectModelFolder(tiny)).weightsSha256);
  assert.equal(doc.model.dir, tiny);
  assert.equal(done.body.model.weightsSha256, doc.model.weightsSha256);
  assert.equal(typeof doc.engineVersion, 'string');
  assert.equal(done.body.engineVersion, doc.engineVersion);
  assert.equal(done.body.schemaVersion, doc.schemaVersion);
  assert.equal(doc.params.prompt, 'Hello world');
  assert.equal(doc.result.layers.length, SHAPE.nLayers);
  const pattern = doc.result.layers[0].heads[0].pattern as number[][];
  assert.equal(pattern.length, doc.result.tokens.length);
  for (const row of pattern) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4, 'attention rows sum to 1');

  const download = await actors.researcher.api.get(`/experiments/${id}/runs/1/result.json`);
  assert.equal(download.status, 200);
  assert.match(download.headers.get('content-disposition') ?? '', /attachment; filename="?experiment-[0-9a-f]{8}-run-1\.json"?/);
  assert.deepEqual(JSON.parse(download.text), doc);

  // A re-run is a new result beside the old one, which does not change.
  const rerun = await actors.researcher.api.post(`/experiments/${id}/runs`, { params: { prompt: 'Hello there world' } });
  assert.equal(rerun.status, 201, rerun.text);
  assert.equal(rerun.body.number, 2);
  assert.equal((await waitForJobStatus(actors.researcher.api, rerun.body.job.id, ['completed', 'failed'])).status, 'completed');
  const both = await actors.researcher.api.get(`/experiments/${id}`);
  assert.deepEqual(both.body.runs.map((r: { number: number; status: string }) => [r.number, r.status]), [[2, 'completed'], [1, 'completed']]);
  assert.deepEqual((await actors.researcher.api.get(`/experiments/${id}/runs/1`)).body.result, doc, 'run 1 unchanged');
  assert.notDeepEqual((await actors.researcher.api.get(`/experiments/${id}/runs/2`)).body.result.result.tokens, doc.result.tokens);

  // Lists filter by model, technique, status, linked observation and behaviour.
  const byTechnique = await actors.contributor.api.get('/experiments?technique=attention');
  assert.deepEqual(byTechnique.body.items.map((e: { id: string }) => e.id), [id]);
  assert.equal(byTechnique.body.items[0].latestRun.status, 'completed');
  assert.equal((await actors.contributor.api.get('/experiments?technique=logit-lens')).body.items.length, 0);
  assert.equal((await actors.contributor.api.get(`/experiments?observation=${observation.id}`)).body.items.length, 1);
  assert.equal((await actors.contributor.api.get(`/experiments?model=${modelId}&status=failed`)).body.items.length, 0);
  assert.equal((await actors.contributor.api.get('/experiments?behaviour=REF-FULL')).body.items.length, 0, 'the observation carries no code yet');
  const coded = await actors.researcher.api.post(`/observations/${observation.id}/codings`, { code: 'REF-FULL', rationale: 'test' });
  assert.equal(coded.status, 201, coded.text);
  assert.deepEqual((await actors.contributor.api.get('/experiments?behaviour=ref-full')).body.items.map((e: { id: string }) => e.id), [id]);
  assert.equal((await actors.anon.get('/experiments')).status, 401);
});

test('bad input: parameters outside the schema, an unknown technique, a prompt longer than the context, unknown observations; nothing is stored', async () => {
  const before = { experiments: await count('experiments'), jobs: await count('jobs') };
  const base = { title: 'Bad', hypothesis: 'h', modelId, technique: 'attention', params: { prompt: 'Hello' } };
  const badParams = await actors.researcher.api.post('/experiments', { ...base, params: { prompt: 'Hello', layers: [-3] } });
  assert.equal(badParams.status, 422, badParams.text);
  assert.ok(Object.keys(badParams.body.error.details.fields).some((k) => k.startsWith('params.layers')), JSON.stringify(badParams.body.error.details.fields));
  const noSuchHead = await actors.researcher.api.post('/experiments', { ...base, technique: 'ablation', params: { prompt: 'Hello', heads: [{ layer: 1, head: 5 }] } });
  assert.equal(noSuchHead.status, 422, noSuchHead.text);
  assert.match(noSuchHead.body.error.details.fields['params.heads.0.head'], /head 5 does not exist: the model has 2/);
  const unknown = await actors.researcher.api.post('/experiments', { ...base, technique: 'mind-reading' });
  assert.equal(unknown.status, 422);
  assert.match(unknown.body.error.details.fields.technique, /logit-lens/);
  const long = await actors.researcher.api.post('/experiments', { ...base, params: { prompt: Array.from({ length: 80 }, (_, i) => `w${i}`).join(' ') } });
  assert.equal(long.status, 422, long.text);
  assert.match(long.body.error.details.fields['params.prompt'], /takes at most 64/);
  const ghost = await actors.researcher.api.post('/experiments', { ...base, observationIds: ['00000000-0000-4000-8000-000000000000'] });
  assert.equal(ghost.status, 422);
  assert.match(ghost.body.error.details.fields.observationIds, /not found/);
  const noModel = await actors.researcher.api.post('/experiments', { ...base, modelId: '00000000-0000-4000-8000-000000000000' });
  assert.equal(noModel.status, 422);
  assert.deepEqual({ experiments: await count('experiments'), jobs: await count('jobs') }, before);
});

test('cancelling a finished run is refused with its state', async () => {
  const created = await actors.researcher.api.post('/experiments', { title: 'Lens', hypothesis: 'h', modelId, technique: 'logit-lens', params: { prompt: 'Hello world' } });
  assert.equal(created.status, 201, created.text);
  const jobId = created.body.runs[0].job.id;
  await waitForJobStatus(actors.researcher.api, jobId, ['completed']);
  const late = await actors.researcher.api.post(`/jobs/${jobId}/cancel`, {});
  assert.equal(late.status, 409, late.text);
  assert.match(late.body.error.message, /completed/);
});

test('a model folder whose weights changed: the run fails with the reason, the model is marked changed, old results stay, new experiments are refused', async () => {
  const copy = path.join(root, 'copy');
  cpSync(tiny, copy, { recursive: true });
  const reg = await actors.admin.api.post('/models', { path: copy, name: 'Copy' });
  assert.equal(reg.status, 201, reg.text);
  const first = await actors.researcher.api.post('/experiments', { title: 'Before', hypothesis: 'h', modelId: reg.body.id, technique: 'logit-lens', params: { prompt: 'Hello' } });
  assert.equal((await waitForJobStatus(actors.researcher.api, first.body.runs[0].job.id, ['completed', 'failed'])).status, 'completed');

  const file = path.join(copy, 'model.safetensors');
  const bytes = readFileSync(file);
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x55;
  writeFileSync(file, bytes);
  await closeLoadedModels(); // a worker that had it loaded would reload it for the next run anyway when another model ran between

  const rerun = await actors.researcher.api.post(`/experiments/${first.body.id}/runs`, {});
  assert.equal(rerun.status, 201, rerun.text);
  const failed = await waitForJobStatus(actors.researcher.api, rerun.body.job.id, ['completed', 'failed']);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error.id, 'model_changed');
  assert.match(failed.error.message, /changed since the model was registered/);
  const model = await actors.researcher.api.get(`/models/${reg.body.id}`);
  assert.equal(model.body.status, 'changed');
  assert.match(model.body.statusReason, /sha256/);
  assert.equal((await actors.researcher.api.get(`/experiments/${first.body.id}/runs/1`)).body.status, 'completed', 'the old result stays');
  const refused = await actors.researcher.api.post('/experiments', { title: 'After', hypothesis: 'h', modelId: reg.body.id, technique: 'logit-lens', params: { prompt: 'Hello' } });
  assert.equal(refused.status, 409);
  assert.match(refused.body.error.message, /Copy is changed/);

  // The folder disappears: an admin's check says so.
  rmSync(copy, { recursive: true });
  const check = await actors.admin.api.post(`/models/${reg.body.id}/check`, {});
  assert.equal(check.status, 200);
  assert.equal(check.body.status, 'missing');
  assert.equal((await actors.researcher.api.post(`/models/${reg.body.id}/check`, {})).status, 403);
});

test('links: researchers link and unlink observations; contributors cannot', async () => {
  const o = await submitObservation(actors.contributor, {});
  const created = await actors.researcher.api.post('/experiments', { title: 'Links', hypothesis: 'h', modelId, technique: 'logit-lens', params: { prompt: 'Hi' }, run: false });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.runs.length, 0, 'run: false queues nothing');
  const id = created.body.id;
  assert.equal((await actors.contributor.api.post(`/experiments/${id}/observations`, { observationId: o.id })).status, 403);
  const linked = await actors.researcher.api.post(`/experiments/${id}/observations`, { observationId: o.id });
  assert.equal(linked.status, 201, linked.text);
  assert.deepEqual(linked.body.observations.map((x: { id: string }) => x.id), [o.id]);
  assert.equal((await actors.researcher.api.post(`/experiments/${id}/observations`, { observationId: '00000000-0000-4000-8000-000000000000' })).status, 404);
  assert.equal((await actors.researcher.api.delete(`/experiments/${id}/observations/${o.id}`)).status, 204);
  assert.equal((await actors.researcher.api.delete(`/experiments/${id}/observations/${o.id}`)).status, 404);
});

test('anyone who may read an experiment may follow its runs (the job over the socket and GET /jobs/:id); controlling them stays with researchers', async () => {
  const created = await actors.researcher.api.post('/experiments', { title: 'Followed', hypothesis: 'h', modelId, technique: 'logit-lens', params: { prompt: 'Hi' } });
  assert.equal(created.status, 201, created.text);
  const jobId = created.body.runs[0].job.id;
  assert.equal((await actors.contributor.api.get(`/jobs/${jobId}`)).status, 200);
  const socket = connect(app.url, { transports: ['websocket'], auth: { token: actors.contributor.token }, reconnection: false });
  try {
    const ack = await new Promise<{ ok?: boolean; job?: { id: string }; error?: { id: string } }>((resolve) => socket.emit('job:join', { jobId }, resolve));
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal(ack.job?.id, jobId);
  } finally {
    socket.close();
  }
  assert.equal((await actors.contributor.api.post(`/jobs/${jobId}/cancel`, {})).status, 403);
  assert.equal((await actors.contributor.api.get('/jobs')).status, 403, 'the job list stays researchers\' business');
  await waitForJobStatus(actors.researcher.api, jobId, ['completed', 'failed']);
});

test('a run cancelled while it waits for the model is cancelled and stores no result; it can be run again', async () => {
  // Hold the model (the worker's runs take turns on it) until the run has been seen waiting.
  const hold = await holdModel(tiny);
  const created = await actors.researcher.api.post('/experiments', { title: 'Cancelled', hypothesis: 'h', modelId, technique: 'attention', params: { prompt: 'Hello' } });
  assert.equal(created.status, 201, created.text);
  const jobId = created.body.runs[0].job.id;
  await waitForJobStatus(actors.researcher.api, jobId, ['running']);
  const cancel = await actors.researcher.api.post(`/jobs/${jobId}/cancel`, {});
  assert.equal(cancel.status, 200, cancel.text);
  await hold.release();
  const ended = await waitForJobStatus(actors.researcher.api, jobId, ['cancelled', 'completed', 'failed']);
  assert.equal(ended.status, 'cancelled');
  const run = await actors.researcher.api.get(`/experiments/${created.body.id}/runs/1`);
  assert.equal(run.body.status, 'cancelled');
  assert.equal(run.body.result, undefined, 'no result stored');
  assert.equal(run.body.resultUrl, null);
  const again = await actors.researcher.api.post(`/experiments/${created.body.id}/runs`, {});
  assert.equal(again.status, 201);
  assert.equal((await waitForJobStatus(actors.researcher.api, again.body.job.id, ['completed', 'failed'])).status, 'completed');
});
