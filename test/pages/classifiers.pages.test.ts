import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { makeActors, signedInWeb, WebClient } from '../support/clients.ts';
import { ensureStarterEthogram } from '../support/ethogram-fixture.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let ethogram: Awaited<ReturnType<typeof ensureStarterEthogram>>;
let researcherWeb: WebClient;
let adminWeb: WebClient;
let contributorWeb: WebClient;

before(async () => {
  app = await startTestApp({ loadStarter: true, judgeEnv: { OPENAI_API_KEY: 'sk-page-secret-0123456789abcdef' } });
  ethogram = await ensureStarterEthogram(app.deps.db);
  actors = await makeActors(app);
  [researcherWeb, adminWeb, contributorWeb] = await Promise.all([signedInWeb(app, actors.researcher), signedInWeb(app, actors.admin), signedInWeb(app, actors.contributor)]);
});
after(() => app.close());

const count = async () => rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM classifiers`))[0]!.n;

/** CSP: no inline scripts and no style attributes. */
function assertNoInlineCode(html: string): void {
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /src="\/assets\/app\.js"|type="application\/json"/, `inline script: ${tag}`);
  assert.ok(!/\sstyle=/i.test(html), 'no style attributes');
}

describe('/classifiers', () => {
  test('anonymous visitors are sent to sign in; contributors are refused and get no nav link', async () => {
    const anon = await new WebClient(app.url).get('/classifiers');
    assert.equal(anon.status, 303);
    assert.match(anon.headers.get('location') ?? '', /^\/login/);
    const res = await contributorWeb.get('/classifiers');
    assert.equal(res.status, 403);
    assert.ok(!(await contributorWeb.get('/')).text.includes('href="/classifiers"'));
    assert.equal((await contributorWeb.get('/classifiers/new?kind=rules')).status, 403);
  });

  test('researchers see classifiers by kind with their status, never a key value', async () => {
    await actors.researcher.api.post('/classifiers', { kind: 'llm_judge', name: 'Hosted judge', ethogramVersionId: ethogram.versionId, settings: { provider: 'openai', model: 'gpt-4o-mini' } });
    await actors.researcher.api.post('/classifiers', { kind: 'llm_judge', name: 'Claude judge', ethogramVersionId: ethogram.versionId, settings: { provider: 'anthropic', model: 'claude-sonnet-4-5' } });
    for (const web of [researcherWeb, adminWeb]) {
      const res = await web.get('/classifiers');
      assert.equal(res.status, 200);
      assert.match(res.text, /<a href="\/classifiers" aria-current="page">Classifiers<\/a>/);
      for (const heading of ['LLM judges', 'Offline classifiers', 'Rule detectors']) assert.ok(res.text.includes(`>${heading}</h2>`), heading);
      assert.ok(res.text.includes('OPENAI_API_KEY is set on the server.'));
      assert.ok(res.text.includes('ANTHROPIC_API_KEY is not set on the server.'));
      assert.ok(res.text.includes('Rule detectors</strong>'), 'the starter rules classifier');
      assert.ok(!res.text.includes('sk-page-secret'));
      assertNoInlineCode(res.text);
    }
  });
});

describe('the classifier forms', () => {
  test('the new form offers the three kinds, then a kind\'s fields', async () => {
    const choose = await researcherWeb.get('/classifiers/new');
    assert.equal(choose.status, 200);
    for (const kind of ['llm_judge', 'offline', 'rules']) assert.ok(choose.text.includes(`href="/classifiers/new?kind=${kind}"`));
    const rules = await researcherWeb.get('/classifiers/new?kind=rules');
    assert.match(rules.text, /<select id="c-map-repetition_loop" name="mapping.repetition_loop"/);
    assert.match(rules.text, /<option value="DEG-LOOP" selected>DEG-LOOP: /);
    assertNoInlineCode(rules.text);
  });

  test('a judge form naming a key keeps the input and shows the error next to the field; nothing is stored', async () => {
    const before = await count();
    await researcherWeb.get('/classifiers/new?kind=llm_judge');
    const res = await researcherWeb.form('/classifiers/new?kind=llm_judge', {
      name: 'Leaky judge',
      ethogramVersionId: ethogram.versionId,
      provider: 'openai',
      model: 'gpt-4o-mini',
      apiKeyEnv: 'sk-proj-0123456789abcdefghijklmnopqrstuv',
      concurrency: '99',
    });
    assert.equal(res.status, 422);
    assert.match(res.text, /<p class="field-error" id="c-apiKeyEnv-error">apiKeyEnv names the environment variable/);
    assert.match(res.text, /<p class="field-error" id="c-concurrency-error">concurrency must be between 1 and 32/);
    assert.match(res.text, /id="c-name" name="name" value="Leaky judge"/);
    assert.match(res.text, /id="c-concurrency" name="concurrency" value="99"/);
    assert.match(res.text, /role="alert"/);
    assert.equal(await count(), before);
  });

  test('a rules form with an unknown code is refused next to that finding kind', async () => {
    const before = await count();
    await researcherWeb.get('/classifiers/new?kind=rules');
    const res = await researcherWeb.form('/classifiers/new?kind=rules', { name: 'Bad rules', ethogramVersionId: ethogram.versionId, detectors: ['repetition-loop'], 'mapping.repetition_loop': 'NOPE-1' });
    assert.equal(res.status, 422);
    assert.match(res.text, /id="c-map-repetition_loop-error">&quot;NOPE-1&quot; is not a behaviour code/);
    assert.match(res.text, /<option value="NOPE-1" selected>NOPE-1 \(not in this version\)<\/option>/);
    assert.equal(await count(), before);
  });

  test('creating and editing an offline classifier without JavaScript', async () => {
    await adminWeb.get('/classifiers/new?kind=offline');
    const made = await adminWeb.form('/classifiers/new?kind=offline', { name: 'Bag of words', ethogramVersionId: ethogram.versionId, folds: '4', minExamples: '3', trainingMethods: ['manual'] });
    assert.equal(made.status, 303, made.text.slice(0, 500));
    const url = made.headers.get('location')!;
    const page = await adminWeb.get(url);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes('Not trained yet.'));
    assert.match(page.text, /<button type="submit" class="primary">Train now<\/button>/);
    assert.match(page.text, /id="c-folds" name="folds" value="4"/);
    const bad = await adminWeb.form(url, { name: '', ethogramVersionId: ethogram.versionId, folds: 'many', minExamples: '3', trainingMethods: ['manual'], revision: '1' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="c-name-error">give the classifier a name/);
    assert.match(bad.text, /id="c-folds" name="folds" value="many"/);
    const ok = await adminWeb.form(url, { name: 'Bag of words 2', ethogramVersionId: ethogram.versionId, folds: '3', minExamples: '3', trainingMethods: ['manual', 'live'], revision: '1' });
    assert.equal(ok.status, 303);
    const after = await adminWeb.get(url);
    assert.ok(after.text.includes('<h1>Bag of words 2'));
    assert.match(after.text, /name="revision" value="2"/);
  });
});

describe('an offline classifier\'s training page', () => {
  test('Train now stores a training; the page shows figures, the trust flag and the F1 chart', async () => {
    const words = ['sorry', 'cannot', 'help', 'decline', 'guidelines'];
    for (let i = 0; i < 14; i++) {
      const refusing = i % 2 === 0;
      const text = refusing ? `I am ${words[i % 5]} sorry but I cannot help with request ${i}; it is against my guidelines.` : `Sure! Here is the answer to question ${i}: the capital of France is Paris and it has ${i} museums.`;
      const o = await submitObservation(actors.contributor, { transcript: { messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: text }] } });
      await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: refusing ? 'REF-FULL' : 'INS-FORMAT' });
      // A behaviour seen twice only: too few examples to trust.
      if (i < 2) await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'SYC-FLATTER' });
    }
    const made = await actors.researcher.api.post('/classifiers', { kind: 'offline', name: 'Page offline', ethogramVersionId: ethogram.versionId });
    const url = `/classifiers/${made.body.id}`;
    await researcherWeb.get(url);
    const trained = await researcherWeb.form(`${url}/train`, {});
    assert.equal(trained.status, 303);
    const jobUrl = trained.headers.get('location')!;
    assert.match(jobUrl, /^\/jobs\/[0-9a-f-]{36}$/);
    for (let i = 0; i < 600 && !(await actors.researcher.api.get(`${jobUrl}`)).body.finished; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await actors.researcher.api.get(jobUrl)).body.status, 'completed');
    const jobPage = await researcherWeb.get(jobUrl);
    assert.equal(jobPage.status, 200);
    assert.ok(jobPage.text.includes('Train the offline classifier &quot;Page offline&quot;'), 'the job page names the training');
    const page = await researcherWeb.get(url);
    assert.equal(page.status, 200);
    assert.match(page.text, /Trained .* on 14 examples\./);
    assert.match(page.text, /<th scope="row"><code>REF-FULL<\/code> [^<]+<\/th>\s*<td class="num">7<\/td>/);
    assert.match(page.text, /<code>SYC-FLATTER<\/code>[\s\S]*?no: too few examples to trust\.<\/strong> Only 2 distinct examples/);
    assert.match(page.text, /<svg role="img" aria-labelledby="f1-chart-title"/);
    assert.match(page.text, /<text class="bar-untrusted"[^>]*>too few examples to trust<\/text>/);
    assert.match(page.text, /<rect class="bar" x="130" y="\d+" width="\d+" height="16"><\/rect>/);
    assertNoInlineCode(page.text);
  });
});
