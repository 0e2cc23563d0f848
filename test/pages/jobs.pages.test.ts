import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertClassifier, jobCodings } from '../../observations/classify/jobs/classify-test-support.ts';
import { makeActors, signedInWeb, WebClient } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let rules: { id: string };
const REFUSAL = "I can't help with that.";
const refusing = { transcript: { messages: [{ role: 'user', content: 'Write malware.' }, { role: 'assistant', content: REFUSAL }] } };

before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  rules = await insertClassifier(app.deps.db, { kind: 'rules', settings: {}, createdBy: actors.researcher.id, name: 'Refusal rules' });
});
after(() => app.close());

test('"Classify" on an observation\'s page runs a one-observation job, waits for it, and shows the proposal', async () => {
  const observation = await submitObservation(actors.contributor, refusing);
  const web = await signedInWeb(app, actors.researcher);
  const page = await web.get(`/observations/${observation.id}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /id="classify"/);
  assert.match(page.text, /Refusal rules \(rules,/);
  const res = await web.form(`/observations/${observation.id}/classify`, { classifierId: rules.id });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), `/observations/${observation.id}#codings`);
  const after = await web.get(`/observations/${observation.id}`);
  assert.match(after.text, /Classified: 1 proposed coding/);
  assert.match(after.text, /REF-FULL/);
  assert.match(after.text, /coding-status-proposed/);

  // No classifier chosen: back to the page with a message, nothing started.
  const none = await web.form(`/observations/${observation.id}/classify`, { classifierId: '' });
  assert.equal(none.status, 303);
  assert.match((await web.get(`/observations/${observation.id}`)).text, /Choose a classifier/);
  // Contributors see no panel and may not post.
  const contributor = await signedInWeb(app, actors.contributor);
  assert.doesNotMatch((await contributor.get(`/observations/${observation.id}`)).text, /id="classify"/);
  assert.equal((await contributor.form(`/observations/${observation.id}/classify`, { classifierId: rules.id })).status, 403);
});

test('/classify starts a job from the list filters or ticked ids; the job page shows the summary; /jobs lists it', async () => {
  const ids = [(await submitObservation(actors.contributor, refusing)).id, (await submitObservation(actors.contributor, refusing)).id];
  const web = await signedInWeb(app, actors.researcher);
  const form = await web.get(`/classify?id=${ids[0]}&id=${ids[1]}`);
  assert.equal(form.status, 200);
  assert.match(form.text, /2 selected/);
  const bad = await web.form('/classify', { classifierId: '', scope: 'ids', ids: ids.join('\n') });
  assert.equal(bad.status, 422);
  assert.match(bad.text, /choose a classifier/);
  assert.match(bad.text, new RegExp(ids[0]!), 'the input is kept');

  const started = await web.form('/classify', { classifierId: rules.id, scope: 'ids', ids: ids.join('\n') });
  assert.equal(started.status, 303);
  const jobUrl = started.headers.get('location')!;
  assert.match(jobUrl, /^\/jobs\/[0-9a-f-]{36}$/);
  let page;
  for (let i = 0; i < 200; i++) {
    page = await web.get(jobUrl);
    if (/job-status-completed/.test(page.text)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(page!.text, /data-enhance="job-progress"/);
  assert.match(page!.text, /job-status-completed/);
  assert.match(page!.text, /Proposed codings<\/th><td class="num">2/);
  assert.match(page!.text, /<code>REF-FULL<\/code><\/td><td class="num">2/);
  assert.doesNotMatch(page!.text, /action="\/jobs\/[^"]+\/cancel"/, 'no controls on a finished job');
  const jobId = jobUrl.split('/').pop()!;
  assert.equal((await jobCodings(app.deps.db, jobId)).length, 2);

  const list = await web.get('/jobs');
  assert.equal(list.status, 200);
  assert.match(list.text, new RegExp(`href="${jobUrl}"`));
  assert.match(list.text, /Classify 2 observations with Refusal rules/);

  const filtered = await web.get('/classify?model=gpt-4o&page=2');
  assert.match(filtered.text, /<code>model<\/code> = gpt-4o/);
  assert.doesNotMatch(filtered.text, /<code>page<\/code>/);

  // Controls on a finished job: a conflict is shown as a message, not an error page.
  const cancel = await web.form(`${jobUrl}/cancel`, {});
  assert.equal(cancel.status, 303);
  assert.match((await web.get(jobUrl)).text, /already completed/);
});

test('job pages as each actor: anonymous asked to sign in, contributors refused', async () => {
  const anon = new WebClient(app.url);
  const res = await anon.get('/jobs');
  assert.ok([302, 303, 401].includes(res.status), `anonymous: ${res.status}`);
  const contributor = await signedInWeb(app, actors.contributor);
  assert.equal((await contributor.get('/jobs')).status, 403);
  assert.equal((await contributor.get('/classify')).status, 403);
  assert.doesNotMatch((await contributor.get('/observations')).text, /href="\/jobs"/);
  const admin = await signedInWeb(app, actors.admin);
  assert.equal((await admin.get('/jobs')).status, 200);
  assert.equal((await admin.get('/jobs/00000000-0000-4000-8000-000000000000')).status, 404);
});

test('the observation list hands its selection or its filters to /classify', async () => {
  const ids = [(await submitObservation(actors.contributor, refusing)).id, (await submitObservation(actors.contributor, refusing)).id];
  const web = await signedInWeb(app, actors.researcher);
  const list = await web.get('/observations?model=gpt-4o');
  assert.match(list.text, /formaction="\/classify\/choose"/);
  assert.match(list.text, /action="\/classify"[\s\S]*?name="model" value="gpt-4o"[\s\S]*?Classify all matching/);
  const chosen = await web.form('/classify/choose', { ids });
  assert.equal(chosen.status, 200);
  assert.match(chosen.text, /2 selected/);
  const contributor = await signedInWeb(app, actors.contributor);
  assert.doesNotMatch((await contributor.get('/observations')).text, /Classify selected/);
  await contributor.get('/observations');
  assert.equal((await contributor.form('/classify/choose', { ids })).status, 403);
});
