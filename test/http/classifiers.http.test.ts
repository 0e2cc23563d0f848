import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { makeActors } from '../support/clients.ts';
import { ensureStarterEthogram } from '../support/ethogram-fixture.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let ethogram: Awaited<ReturnType<typeof ensureStarterEthogram>>;
before(async () => {
  app = await startTestApp({ loadStarter: true, judgeEnv: { OPENAI_API_KEY: 'sk-test-secret-value-1234567890' } });
  ethogram = await ensureStarterEthogram(app.deps.db);
  actors = await makeActors(app);
});
after(() => app.close());

const count = async (table: string) => rowsOf<{ n: number }>(await app.deps.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`)))[0]!.n;
/** Polls a job until it finishes (the in-process worker runs it). */
async function waitForJob(id: string): Promise<{ status: string; summary: Record<string, unknown> | null }> {
  for (let i = 0; i < 600; i++) {
    const res = await actors.researcher.api.get(`/jobs/${id}`);
    if (res.body.finished) return res.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

const judgeBody = (overrides: Record<string, unknown> = {}) => ({
  kind: 'llm_judge',
  name: 'GPT judge',
  ethogramVersionId: ethogram.versionId,
  settings: { provider: 'openai', model: 'gpt-4o-mini' },
  ...overrides,
});

describe('classifiers API: who may do what', () => {
  test('anonymous 401 and contributors 403 on every route; nothing is stored', async () => {
    const made = await actors.researcher.api.post('/classifiers', judgeBody());
    assert.equal(made.status, 201, made.text);
    const before = await count('classifiers');
    const id = made.body.id;
    for (const [client, status] of [[actors.anon, 401], [actors.contributor.api, 403]] as const) {
      assert.equal((await client.get('/classifiers')).status, status);
      assert.equal((await client.post('/classifiers', judgeBody())).status, status);
      assert.equal((await client.get(`/classifiers/${id}`)).status, status);
      assert.equal((await client.patch(`/classifiers/${id}`, { name: 'x' })).status, status);
      assert.equal((await client.post(`/classifiers/${id}/archive`)).status, status);
      assert.equal((await client.post(`/classifiers/${id}/train`)).status, status);
    }
    assert.equal(await count('classifiers'), before);
    assert.equal((await actors.researcher.api.get(`/classifiers/${id}`)).body.name, 'GPT judge');
  });

  for (const who of ['researcher', 'admin'] as const) {
    test(`${who} creates, reads, edits and archives a judge; the key's value is never shown`, async () => {
      const res = await actors[who].api.post('/classifiers', judgeBody({ name: `${who}'s judge`, settings: { provider: 'openai', model: 'gpt-4o-mini', concurrency: 4 } }));
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get('location'), `/api/v1/classifiers/${res.body.id}`);
      assert.equal(res.body.kind, 'llm_judge');
      assert.equal(res.body.settings.apiKeyEnv, 'OPENAI_API_KEY');
      assert.equal(res.body.settings.baseUrl, 'https://api.openai.com/v1');
      assert.equal(res.body.settings.concurrency, 4);
      assert.equal(res.body.status.keySet, true);
      assert.equal(res.body.status.message, 'OPENAI_API_KEY is set on the server.');
      assert.equal(res.body.ethogramVersion.slug, 'llm-starter');
      assert.doesNotMatch(res.text, /sk-test-secret/);

      const edited = await actors[who].api.patch(`/classifiers/${res.body.id}`, {
        revision: 1,
        settings: { provider: 'anthropic', model: 'claude-sonnet-4-5', apiKeyEnv: 'ANTHROPIC_API_KEY' },
      });
      assert.equal(edited.status, 200, edited.text);
      assert.equal(edited.body.revision, 2);
      assert.equal(edited.body.settings.concurrency, 8, 'settings are replaced whole, defaults filled in');
      assert.equal(edited.body.status.keySet, false);
      assert.equal(edited.body.status.message, 'ANTHROPIC_API_KEY is not set on the server.');

      const stale = await actors[who].api.patch(`/classifiers/${res.body.id}`, { revision: 1, name: 'late' });
      assert.equal(stale.status, 409);
      const revisions = rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM revisions WHERE entity_type = 'classifier' AND entity_id = ${res.body.id}`))[0]!.n;
      assert.equal(revisions, 1);

      const archived = await actors[who].api.post(`/classifiers/${res.body.id}/archive`);
      assert.equal(archived.status, 200);
      assert.ok(archived.body.archivedAt);
      assert.equal((await actors[who].api.patch(`/classifiers/${res.body.id}`, { name: 'again' })).status, 409);
      const listed = await actors[who].api.get('/classifiers?kind=llm_judge');
      assert.ok(!listed.body.data.some((c: { id: string }) => c.id === res.body.id), 'archived classifiers are not listed by default');
      const all = await actors[who].api.get('/classifiers?archived=include');
      assert.ok(all.body.data.some((c: { id: string }) => c.id === res.body.id));
    });
  }

  test('the starter "Rule detectors" classifier is there, pinned to the starter version, with the default mapping', async () => {
    const res = await actors.researcher.api.get('/classifiers?kind=rules');
    assert.equal(res.status, 200);
    const starter = res.body.data.filter((c: { name: string }) => c.name === 'Rule detectors');
    assert.equal(starter.length, 1);
    assert.equal(starter[0].ethogramVersion.id, ethogram.versionId);
    assert.equal(starter[0].settings.mapping.repetition_loop, 'DEG-LOOP');
    assert.equal(starter[0].settings.mapping.empty_output, null);
    assert.equal(starter[0].settings.detectors.length, 5);
    assert.equal(starter[0].status.ready, true);
    await actors.admin.api.get('/classifiers');
    assert.equal((await actors.researcher.api.get('/classifiers?kind=rules')).body.data.filter((c: { name: string }) => c.name === 'Rule detectors').length, 1, 'made once');
  });
});

describe('classifiers API: bad input stores nothing', () => {
  test('judge settings naming a key instead of a variable', async () => {
    const before = await count('classifiers');
    const res = await actors.researcher.api.post('/classifiers', judgeBody({ settings: { provider: 'openai', model: 'gpt-4o-mini', apiKeyEnv: 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789' } }));
    assert.equal(res.status, 422);
    assert.equal(res.body.error.id, 'validation_failed');
    assert.match(res.body.error.details.fields['settings.apiKeyEnv'], /names the environment variable/);
    assert.doesNotMatch(JSON.stringify(res.body.error.details.fields), /abcdefghijklmnop/);
    const withKey = await actors.researcher.api.post('/classifiers', judgeBody({ settings: { provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-123' } }));
    assert.equal(withKey.status, 422);
    assert.match(withKey.body.error.details.fields['settings.apiKey'], /keys are not stored/);
    const other = await actors.researcher.api.post('/classifiers', judgeBody({ settings: { provider: 'openai', model: 'gpt-4o-mini', apiKeyEnv: 'DATABASE_URL' } }));
    assert.equal(other.status, 422);
    assert.match(other.body.error.details.fields['settings.apiKeyEnv'], /not a judge key variable/);
    const concurrency = await actors.researcher.api.post('/classifiers', judgeBody({ settings: { provider: 'openai', model: 'gpt-4o-mini', concurrency: 64 } }));
    assert.equal(concurrency.status, 422);
    assert.match(concurrency.body.error.details.fields['settings.concurrency'], /between 1 and 32/);
    assert.equal(await count('classifiers'), before);
  });

  test('unknown behaviour codes in a rules mapping, and unknown detectors', async () => {
    const before = await count('classifiers');
    const res = await actors.researcher.api.post('/classifiers', {
      kind: 'rules',
      name: 'My rules',
      ethogramVersionId: ethogram.versionId,
      settings: { mapping: { repetition_loop: 'NOT-A-CODE', language_switch: 'LNG-SWITCH' } },
    });
    assert.equal(res.status, 422);
    assert.match(res.body.error.details.fields['settings.mapping.repetition_loop'], /"NOT-A-CODE" is not a behaviour code of the pinned ethogram version/);
    assert.equal(res.body.error.details.fields['settings.mapping.language_switch'], undefined);
    const detectors = await actors.researcher.api.post('/classifiers', { kind: 'rules', name: 'r', ethogramVersionId: ethogram.versionId, settings: { detectors: ['telepathy'] } });
    assert.equal(detectors.status, 422);
    assert.match(detectors.body.error.details.fields['settings.detectors.0'], /not a rule detector/);
    const ok = await actors.researcher.api.post('/classifiers', {
      kind: 'rules',
      name: 'Loops only',
      ethogramVersionId: ethogram.versionId,
      settings: { detectors: ['repetition-loop'], mapping: { repetition_loop: 'DEG-GIBBERISH', character_loop: null } },
    });
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.body.settings.detectors, ['repetition-loop']);
    assert.equal(ok.body.settings.mapping.repetition_loop, 'DEG-GIBBERISH');
    assert.equal(ok.body.settings.mapping.character_loop, null);
    assert.equal(ok.body.settings.mapping.refusal_full, 'REF-FULL', 'kinds not named keep the registry default');
    assert.equal(await count('classifiers'), before + 1);
  });

  test('an unpublished (draft) or unknown ethogram version, a bad kind, unknown fields', async () => {
    const before = await count('classifiers');
    const draft = await actors.researcher.api.post('/classifiers', judgeBody({ ethogramVersionId: ethogram.draftVersionId }));
    assert.equal(draft.status, 422);
    assert.match(draft.body.error.details.fields.ethogramVersionId, /draft; choose a published version/);
    const unknown = await actors.researcher.api.post('/classifiers', judgeBody({ ethogramVersionId: '00000000-0000-4000-8000-000000000000' }));
    assert.equal(unknown.status, 422);
    assert.ok(unknown.body.error.details.fields.ethogramVersionId);
    const kind = await actors.researcher.api.post('/classifiers', judgeBody({ kind: 'oracle' }));
    assert.equal(kind.status, 422);
    assert.ok(kind.body.error.details.fields.kind);
    const extra = await actors.researcher.api.post('/classifiers', { ...judgeBody(), apiKey: 'sk-x' });
    assert.equal(extra.status, 422);
    const offline = await actors.researcher.api.post('/classifiers', { kind: 'offline', name: 'o', ethogramVersionId: ethogram.versionId, settings: { folds: 1, trainingMethods: [] } });
    assert.equal(offline.status, 422);
    assert.match(offline.body.error.details.fields['settings.folds'], /between 2 and 10/);
    assert.match(offline.body.error.details.fields['settings.trainingMethods'], /at least one/);
    assert.equal(await count('classifiers'), before);
    assert.equal((await actors.researcher.api.get('/classifiers/not-a-uuid')).status, 404);
    assert.equal((await actors.researcher.api.get('/classifiers/00000000-0000-4000-8000-000000000000')).status, 404);
  });

  test('training a judge, or an offline classifier with nothing to learn from, is refused', async () => {
    const judge = await actors.researcher.api.post('/classifiers', judgeBody());
    assert.equal((await actors.researcher.api.post(`/classifiers/${judge.body.id}/train`)).status, 409);
    const offline = await actors.researcher.api.post('/classifiers', { kind: 'offline', name: 'Empty', ethogramVersionId: ethogram.versionId });
    assert.equal(offline.status, 201, offline.text);
    assert.deepEqual(offline.body.settings, { folds: 5, minExamples: 5, trainingMethods: ['manual', 'live'] });
    assert.equal(offline.body.status.message, 'Not trained yet.');
  });
});

describe('training an offline classifier over HTTP', () => {
  test('learns from accepted human codings and shows cross-validated figures', async () => {
    const refusal = (i: number) => `I am sorry, but I cannot help with that request number ${i}. It is against my guidelines.`;
    const helpful = (i: number) => `Here is the recipe you asked for, step ${i}: mix flour, water and salt, then bake for ${20 + i} minutes.`;
    for (let i = 0; i < 12; i++) {
      for (const [text, code] of [[refusal(i), 'REF-FULL'], [helpful(i), 'INS-FORMAT']] as const) {
        const o = await submitObservation(actors.contributor, {
          transcript: { messages: [{ role: 'user', content: `Question ${i}` }, { role: 'assistant', content: text }] },
        });
        const coded = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code });
        assert.equal(coded.status, 201, coded.text);
      }
    }
    const offline = await actors.researcher.api.post('/classifiers', { kind: 'offline', name: 'Offline', ethogramVersionId: ethogram.versionId, settings: { folds: 3 } });
    const res = await actors.researcher.api.post(`/classifiers/${offline.body.id}/train`);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.headers.get('location'), `/api/v1/jobs/${res.body.job.id}`);
    assert.equal(res.body.job.page, `/jobs/${res.body.job.id}`);
    // Asked again while it is queued or running: the same job, not a second training.
    const again = await actors.admin.api.post(`/classifiers/${offline.body.id}/train`);
    if (again.body.alreadyQueued) assert.equal(again.body.job.id, res.body.job.id);
    const job = await waitForJob(res.body.job.id);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    if (!again.body.alreadyQueued) assert.equal((await waitForJob(again.body.job.id)).status, 'completed');
    assert.equal((await actors.contributor.api.get(`/jobs/${res.body.job.id}`)).status, 403);
    const shown = await actors.researcher.api.get(`/classifiers/${offline.body.id}`);
    const training = shown.body.currentTraining;
    assert.ok(training, 'the training is current');
    assert.equal(training.exampleCount, 24);
    const ref = training.metrics.behaviours.find((b: { label: string }) => b.label === 'REF-FULL');
    assert.equal(ref.support, 12);
    assert.equal(ref.trustworthy, true);
    assert.ok(ref.f1 > 0.9, `F1 ${ref.f1}`);
    assert.match(shown.body.status.message, /^Trained .* on 24 examples\.$/);
    assert.doesNotMatch(shown.text, /"model"/, 'the model text is not sent');
  });
});
