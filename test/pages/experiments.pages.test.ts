import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { writeRandomGpt2 } from '../../experiments/index.ts';
import { closeLoadedModels } from '../../experiments/loaded-models.ts';
import { waitForJobStatus } from '../../observations/classify/jobs/classify-test-support.ts';
import { makeActors, signedInWeb, WebClient } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * The experiment pages as each actor sees them: /models (admins register and check folders, with errors beside the
 * fields), the new-experiment form pre-filled from an observation (errors beside fields, input kept), the experiment
 * page with its runs and the selected run's picture, numbers and JSON, and the experiments panels on the
 * observation and behaviour pages.
 */
let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let adminWeb: WebClient;
let researcherWeb: WebClient;
let contributorWeb: WebClient;
const root = mkdtempSync(path.join(tmpdir(), 'menagerie-experiment-pages-'));
const tiny = path.join(root, 'tiny');
let observationId = '';

before(async () => {
  writeRandomGpt2(tiny, { nLayers: 2, dModel: 16, nHeads: 2, dVocab: 300, nCtx: 64 }, 3);
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  [adminWeb, researcherWeb, contributorWeb] = await Promise.all([signedInWeb(app, actors.admin), signedInWeb(app, actors.researcher), signedInWeb(app, actors.contributor)]);
  const o = await submitObservation(actors.contributor, {
    title: 'It <b>flattered</b> me',
    transcript: { messages: [{ role: 'user', content: 'Is my plan good?' }, { role: 'assistant', content: 'What a brilliant plan!' }] },
  });
  observationId = o.id;
});
after(async () => {
  await app.close();
  await closeLoadedModels();
  rmSync(root, { recursive: true, force: true });
});

function assertNoInlineCode(html: string): void {
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /src="\/assets\/app\.js"/, `inline script: ${tag}`);
  assert.ok(!/\sstyle=/i.test(html), 'no style attributes (the CSP refuses them)');
}

const count = async (table: string) => rowsOf<{ n: number }>(await app.deps.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`)))[0]!.n;

describe('/models', () => {
  test('anonymous visitors sign in first; contributors see the list without the form; admins register, and mistakes come back beside the fields', async () => {
    const anon = await new WebClient(app.url).get('/models');
    assert.equal(anon.status, 303);
    assert.match(anon.headers.get('location') ?? '', /^\/login/);
    const seen = await contributorWeb.get('/models');
    assert.equal(seen.status, 200);
    assert.doesNotMatch(seen.text, /Register a model folder/);
    assert.equal((await contributorWeb.form('/models', { path: tiny, name: 'Tiny' })).status, 403);

    const page = await adminWeb.get('/models');
    assert.match(page.text, /Register a model folder/);
    const bad = await adminWeb.form('/models', { path: path.join(root, 'nowhere'), name: 'Ghost' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="m-path-error">There is no model folder at/);
    assert.match(bad.text, /value="Ghost"/, 'the typed name is kept');
    assert.equal(await count('models'), 0);
    assert.equal((await adminWeb.form('/models', { path: tiny, name: 'Tiny', _csrf: 'wrong' })).status, 403, 'CSRF checked');

    const done = await adminWeb.form('/models', { path: tiny, name: 'Tiny' });
    assert.equal(done.status, 303, done.text.slice(0, 300));
    const list = await adminWeb.get('/models');
    assert.match(list.text, /<th scope="row">Tiny<\/th>/);
    assert.match(list.text, /GPT2LMHeadModel/);
    assert.match(list.text, /Check again/);
    assertNoInlineCode(list.text);
  });
});

describe('an experiment from an observation, through the pages', () => {
  let experimentUrl = '';

  test('the observation page offers a follow-up to researchers only; the form is pre-filled from the transcript', async () => {
    const asResearcher = await researcherWeb.get(`/observations/${observationId}`);
    assert.match(asResearcher.text, /No experiment follows this observation up yet/);
    assert.match(asResearcher.text, new RegExp(`href="/experiments/new\\?observation=${observationId}"`));
    const asContributor = await contributorWeb.get(`/observations/${observationId}`);
    assert.doesNotMatch(asContributor.text, /Follow it up with an experiment/);
    assert.equal((await contributorWeb.get(`/experiments/new?observation=${observationId}`)).status, 403);

    const form = await researcherWeb.get(`/experiments/new?observation=${observationId}&technique=attention`);
    assert.equal(form.status, 200);
    assert.match(form.text, /Following up <a href="\/observations\/[^"]+">It &lt;b&gt;flattered&lt;\/b&gt; me<\/a>/);
    assert.match(form.text, /&quot;prompt&quot;: &quot;User: Is my plan good\?\\nAssistant:&quot;/, 'the prompt comes from the transcript');
    assert.match(form.text, /<option value="attention" selected>/);
    assertNoInlineCode(form.text);
  });

  test('mistakes come back beside their fields with the input kept; nothing is stored', async () => {
    const before = await count('experiments');
    const modelId = rowsOf<{ id: string }>(await app.deps.db.execute(sql`SELECT id FROM models LIMIT 1`))[0]!.id;
    const bad = await researcherWeb.form('/experiments', { title: '', hypothesis: 'Heads copy the praise', modelId, technique: 'attention', params: '{"prompt": "Hi", "layers": [7]}', observationId, seed: '' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="x-title-error">give the experiment a short title/);
    assert.match(bad.text, /Heads copy the praise/);
    const notJson = await researcherWeb.form('/experiments', { title: 'T', hypothesis: 'h', modelId, technique: 'attention', params: '{prompt:', observationId, seed: '' });
    assert.equal(notJson.status, 422);
    assert.match(notJson.text, /<code>parameters<\/code>: not valid JSON/);
    assert.match(notJson.text, />\{prompt:<\/textarea>/, 'the typed parameters are kept');
    const outOfRange = await researcherWeb.form('/experiments', { title: 'T', hypothesis: 'h', modelId, technique: 'attention', params: '{"prompt": "Hi", "layers": [7]}', observationId, seed: '' });
    assert.equal(outOfRange.status, 422, outOfRange.text.slice(0, 500));
    assert.match(outOfRange.text, /<code>layers\.0<\/code>: layer 7 does not exist: the model has 2 \(0 to 1\)/);
    assert.equal(await count('experiments'), before);
  });

  test('creating runs it: the page shows the run, then its heatmap with numbers and the JSON download', async () => {
    const modelId = rowsOf<{ id: string }>(await app.deps.db.execute(sql`SELECT id FROM models LIMIT 1`))[0]!.id;
    const created = await researcherWeb.form('/experiments', {
      title: 'Praise heads',
      hypothesis: 'A head attends from the praise back to "plan".',
      modelId,
      technique: 'attention',
      params: '{"prompt": "User: Is my plan good?\\nAssistant:"}',
      observationId,
      seed: '7',
    });
    assert.equal(created.status, 303, created.text.slice(0, 500));
    experimentUrl = created.headers.get('location')!;
    assert.match(experimentUrl, /^\/experiments\/[0-9a-f-]{36}$/);
    const id = experimentUrl.split('/').pop()!;
    const jobId = rowsOf<{ job_id: string }>(await app.deps.db.execute(sql`SELECT job_id FROM experiment_runs WHERE experiment_id = ${id}::uuid`))[0]!.job_id;
    await waitForJobStatus(actors.researcher.api, jobId, ['completed', 'failed']);

    const page = await contributorWeb.get(experimentUrl);
    assert.equal(page.status, 200);
    assert.match(page.text, /A head attends from the praise back to &quot;plan&quot;\./);
    assert.match(page.text, /<a href="\/experiments\/[^"]+\?run&#x3D;1">#1<\/a>/);
    assert.match(page.text, /<svg[^>]*role="img"/, 'a picture');
    assert.match(page.text, /<table/, 'with its numbers');
    assert.match(page.text, new RegExp(`href="/api/v1/experiments/${id}/runs/1/result.json" download`));
    assert.match(page.text, /name="layer"/, 'a layer picker');
    assert.match(page.text, /href="\/observations\/[^"]+">It &lt;b&gt;flattered&lt;\/b&gt; me<\/a>/, 'the linked observation, escaped');
    assert.doesNotMatch(page.text, /Run again/, 'contributors cannot run it');
    assertNoInlineCode(page.text);

    const other = await contributorWeb.get(`${experimentUrl}?run=1&layer=1&head=1`);
    assert.equal(other.status, 200);
    assert.notEqual(other.text, page.text, 'another layer and head draw another heatmap');
    assert.equal((await contributorWeb.get(`${experimentUrl}?run=99&layer=banana`)).status, 200, 'a bad choice falls back to the latest run');

    // A re-run from the page.
    const asResearcher = await researcherWeb.get(experimentUrl);
    assert.match(asResearcher.text, /Run again/);
    const rerun = await researcherWeb.form(`${experimentUrl}/runs`, { params: '{"prompt": "Hello there"}' });
    assert.equal(rerun.status, 303);
    assert.equal(rerun.headers.get('location'), `${experimentUrl}?run=2`);
    const refused = await researcherWeb.form(`${experimentUrl}/runs`, { params: '{"prompt": "Hello", "layers": [9]}' });
    assert.equal(refused.status, 303);
    const flashed = await researcherWeb.get(experimentUrl);
    assert.match(flashed.text, /Not run: /);
    assert.equal(rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM experiment_runs WHERE experiment_id = ${id}::uuid`))[0]!.n, 2);

    // Two completed runs side by side, with what differs between them.
    const run2 = rowsOf<{ job_id: string }>(await app.deps.db.execute(sql`SELECT job_id FROM experiment_runs WHERE experiment_id = ${id}::uuid AND number = 2`))[0]!.job_id;
    await waitForJobStatus(actors.researcher.api, run2, ['completed', 'failed']);
    const compared = await contributorWeb.get(`${experimentUrl}?run=2&compare=1`);
    assert.equal(compared.status, 200);
    assert.match(compared.text, /<h3>Run #2<\/h3>[\s\S]*<h3>Run #1<\/h3>/);
    assert.equal((compared.text.match(/<svg[^>]*role="img"/g) ?? []).length >= 2, true, 'two pictures');
    assert.match(compared.text, /<th scope="row">parameter prompt<\/th><td class="mono">&quot;Hello there&quot;<\/td><td class="mono">&quot;User: Is my plan good\?\\nAssistant:&quot;<\/td>/);
    assert.match(compared.text, /<th scope="row">seed<\/th><td class="mono">\d+<\/td><td class="mono">7<\/td>/);
    assertNoInlineCode(compared.text);
  });

  test('the observation page and the behaviour page list the experiment with its headline; the list filters', async () => {
    const obs = await researcherWeb.get(`/observations/${observationId}`);
    assert.match(obs.text, /<a href="\/experiments\/[^"]+">Praise heads<\/a>/);
    assert.match(obs.text, /class="experiment-headline">Run \d+: /);
    const list = await contributorWeb.get('/experiments?technique=attention');
    assert.match(list.text, /Praise heads/);
    assert.doesNotMatch((await contributorWeb.get('/experiments?technique=dla')).text, /Praise heads/);

    const code = 'SYC-FLATTER';
    const coded = await actors.researcher.api.post(`/observations/${observationId}/codings`, { code, rationale: 'praise' });
    assert.equal(coded.status, 201, coded.text);
    const behaviourPages = rowsOf<{ slug: string; number: number }>(await app.deps.db.execute(sql`SELECT e.slug, v.number FROM behaviours b JOIN ethogram_versions v ON v.id = b.version_id JOIN ethograms e ON e.id = v.ethogram_id WHERE b.code = ${code} LIMIT 1`))[0]!;
    const behaviour = await researcherWeb.get(`/ethograms/${behaviourPages.slug}/versions/${behaviourPages.number}/behaviours/${code}`);
    assert.equal(behaviour.status, 200, behaviour.text.slice(0, 300));
    assert.match(behaviour.text, new RegExp(`Experiments on observations coded ${code}`));
    assert.match(behaviour.text, /Praise heads/);
  });
});
