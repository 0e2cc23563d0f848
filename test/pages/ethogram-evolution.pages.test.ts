import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ETHOGRAM_FORMAT } from '../../ethograms/ethogram-document.schema.ts';
import { makeUser, signedInWeb, type TestUser, type WebClient } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { actBehaviour } from '../support/ethogram-fixture.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let researcher: TestUser;
let contributor: TestUser;
let web: WebClient;
let observationId: string;

const behaviour = actBehaviour;

before(async () => {
  app = await startTestApp({ loadStarter: false });
  await makeUser(app, 'admin');
  researcher = await makeUser(app, 'researcher');
  contributor = await makeUser(app, 'contributor');
  web = await signedInWeb(app, researcher);
  const imported = await researcher.api.post('/ethograms/import?publish=true', {
    format: ETHOGRAM_FORMAT,
    slug: 'pages-evo',
    name: 'Pages evolution',
    version: { number: 1 },
    categories: [{ key: 'acts', name: 'Acts', parent: null }],
    behaviours: [behaviour('KEEP'), behaviour('GONE'), behaviour('REDEF')],
  });
  assert.equal(imported.status, 201, imported.text);
  const observation = await submitObservation(contributor);
  observationId = observation.id;
  for (const code of ['GONE', 'REDEF']) {
    assert.equal((await researcher.api.post(`/observations/${observation.id}/codings`, { code, ethogramVersionId: imported.body.id })).status, 201);
  }
  assert.equal((await researcher.api.post('/ethograms/pages-evo/drafts')).status, 201);
  assert.equal((await researcher.api.delete('/ethograms/pages-evo/versions/2/behaviours/GONE')).status, 204);
  const redefined = await researcher.api.call('PUT', '/ethograms/pages-evo/versions/2/behaviours/REDEF', behaviour('REDEF', { definition: '<b>Now</b> it means something else.' }));
  assert.equal(redefined.status, 200, redefined.text);
});
after(() => app.close());

test('the changes page shows each change in words and side by side, and what blocks publishing, with forms to declare migrations', async () => {
  const page = await web.get('/ethograms/pages-evo/versions/2/changes');
  assert.equal(page.status, 200);
  assert.match(page.text, /GONE \(Behaviour GONE\) was removed\./);
  assert.match(page.text, /REDEF was redefined \(definition changed\)\./);
  // Escaped, side by side, the changed field marked in words.
  assert.match(page.text, /&lt;b&gt;Now&lt;\/b&gt; it means something else\./);
  assert.doesNotMatch(page.text, /<b>Now<\/b>/);
  assert.match(page.text, /<th scope="row">definition <span class="changed-mark">\(changed\)<\/span><\/th>/);
  assert.match(page.text, /id="blocking-GONE"/);
  assert.match(page.text, /id="blocking-REDEF"/);
  // Every form inside the list carries the page's CSRF token (a partial inside a loop sees the item, not the page).
  const tokens = [...page.text.matchAll(/name="_csrf" value="([^"]*)"/g)].map((m) => m[1]);
  assert.ok(tokens.length >= 5 && tokens.every((t) => t && t === tokens[0]), `tokens: ${tokens.join(',')}`);

  // A merge into a behaviour that is not in the draft is refused on the page, keeping the page whole.
  const bad = await web.form('/ethograms/pages-evo/versions/2/migrations', { type: 'merge', code: 'GONE', into: 'NOPE' });
  assert.equal(bad.status, 422);
  assert.match(bad.text, /NOPE is not a behaviour of this version/);

  const merged = await web.form('/ethograms/pages-evo/versions/2/migrations', { type: 'merge', code: 'GONE', into: 'KEEP' });
  assert.equal(merged.status, 303, merged.text);
  const reworded = await web.form('/ethograms/pages-evo/versions/2/migrations', { type: 'redefine', code: 'REDEF', decision: 'reword' });
  assert.equal(reworded.status, 303, reworded.text);
  const after = await web.get('/ethograms/pages-evo/versions/2/changes');
  assert.match(after.text, /Merge GONE into KEEP: codings map to KEEP\./);
  assert.match(after.text, /REDEF is reworded only: its codings keep their meaning and carry over\./);
  assert.match(after.text, /nothing blocks publishing on that account/);
  assert.doesNotMatch(after.text, /id="blocking-/);

  // Removing a declaration brings the block back.
  const removed = await web.form('/ethograms/pages-evo/versions/2/migrations/1/delete', {});
  assert.equal(removed.status, 303);
  assert.match((await web.get('/ethograms/pages-evo/versions/2/changes')).text, /id="blocking-REDEF"/);
});

test('the recode queue page is for researchers; others are refused', async () => {
  const page = await web.get('/ethograms/pages-evo/recode');
  assert.equal(page.status, 200);
  assert.match(page.text, /Nothing is waiting/);
  const other = await signedInWeb(app, contributor);
  assert.equal((await other.get('/ethograms/pages-evo/recode')).status, 403);
  assert.equal((await other.get('/ethograms/pages-evo/versions/2/changes')).status, 404, 'drafts do not exist for contributors');
});

test('the observation page reads its codings as of another version', async () => {
  assert.equal((await web.form('/ethograms/pages-evo/versions/2/migrations', { type: 'redefine', code: 'REDEF', decision: 'reword' })).status, 303);
  const published = await researcher.api.post('/ethograms/pages-evo/versions/2/publish');
  assert.equal(published.status, 200, published.text);
  const plain = await web.get(`/observations/${observationId}`);
  assert.match(plain.text, /<option value="pages-evo@2">Pages evolution v2<\/option>/);
  assert.doesNotMatch(plain.text, /<table class="as-of">/);
  const page = await web.get(`/observations/${observationId}?asOf=pages-evo@2`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<caption>As of pages-evo version 2<\/caption>/);
  assert.match(page.text, /<td>v1 <code>GONE<\/code><\/td><td><code>KEEP<\/code><\/td>.*Made under version 1 as GONE\./s);
  assert.match(page.text, /<td>v1 <code>REDEF<\/code><\/td><td><code>REDEF<\/code><\/td>/);
  const asV1 = await web.get(`/observations/${observationId}?asOf=pages-evo@1`);
  assert.match(asV1.text, /<td>v1 <code>GONE<\/code><\/td><td><code>GONE<\/code><\/td>/);
});
