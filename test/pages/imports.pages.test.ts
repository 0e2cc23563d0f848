import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { UserActor } from '../../accounts/actor.ts';
import { createImport } from '../../observations/create-import.command.ts';
import { makeActors, signedInWeb, WebClient } from '../support/clients.ts';
import { jsonlLine, uploadImport, waitForImport } from '../support/imports.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let contributorWeb: WebClient;
let researcherWeb: WebClient;
let adminWeb: WebClient;
let doneId: string;
let failedId: string;

before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
  contributorWeb = await signedInWeb(app, actors.contributor);
  researcherWeb = await signedInWeb(app, actors.researcher);
  adminWeb = await signedInWeb(app, actors.admin);
  const file = [jsonlLine('p-1', 'Does the model <b>flatter</b>?'), 'not json', jsonlLine('p-2', 'Second question?')].join('\n');
  doneId = (await uploadImport(app.url, file, { token: actors.contributor.token, fileName: 'page-runs.jsonl' })).body.id;
  await waitForImport(actors.contributor.api, doneId);
  failedId = (await uploadImport(app.url, 'plain words, no format', { token: actors.contributor.token, fileName: 'notes.txt' })).body.id;
  await waitForImport(actors.contributor.api, failedId);
});
after(() => app.close());

describe('/import', () => {
  test('anonymous visitors are sent to sign in', async () => {
    const res = await new WebClient(app.url).get('/import');
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location')!, /^\/login\?next=%2Fimport/);
  });

  test('a signed-in person gets the upload form (multipart, CSRF first, formats) and their recent imports', async () => {
    const res = await contributorWeb.get('/import');
    assert.equal(res.status, 200);
    assert.match(res.text, /<a href="\/import" aria-current="page">Import<\/a>/, 'the menu links to the page');
    assert.match(res.text, /<form method="post" action="\/import" enctype="multipart\/form-data"[^>]*data-enhance="import-upload"/);
    const form = res.text.slice(res.text.indexOf('action="/import"'));
    assert.ok(form.indexOf('name="_csrf"') < form.indexOf('name="file"'), 'the CSRF token comes before the file');
    assert.match(res.text, /<option value="auto" selected>Detect automatically<\/option>/);
    assert.match(res.text, /<option value="chatgpt-export">ChatGPT data export \(conversations\.json\)<\/option>/);
    assert.match(res.text, /Up to 1 GiB/);
    assert.match(res.text, new RegExp(`<a href="/imports/${doneId}">page-runs.jsonl</a>`));
    assert.match(res.text, /import-status-failed">Stopped/);
  });

  test('other people do not see someone else\'s imports in their list', async () => {
    const res = await researcherWeb.get('/import');
    assert.equal(res.status, 200);
    assert.ok(!res.text.includes(doneId));
    assert.match(res.text, /You have not imported anything yet/);
  });
});

describe('/imports/:id', () => {
  test('a finished import shows its counts, links to the new observations and the failed records', async () => {
    const res = await contributorWeb.get(`/imports/${doneId}`);
    assert.equal(res.status, 200);
    assert.match(res.text, /data-enhance="import-progress"/);
    assert.match(res.text, /data-status="done">Finished/);
    assert.match(res.text, /<progress id="import-bar"[^>]* value="100">100%<\/progress>/);
    assert.match(res.text, /<dd data-field="imported">2<\/dd>/);
    assert.match(res.text, /<dd data-field="failed">1<\/dd>/);
    assert.match(res.text, /2 imported, 0 already here \(duplicates, skipped\), 1 failed/);
    const links = [...res.text.matchAll(/<li><a href="\/observations\/([0-9a-f-]{36})">([^<]*)<\/a><\/li>/g)];
    assert.equal(links.length, 2);
    assert.match(links[0]![2]!, /Does the model &lt;b&gt;flatter&lt;\/b&gt;\?/, 'titles are escaped');
    assert.match(res.text, /<td class="mono">page-runs\.jsonl<\/td><td class="num">1<\/td><td class="mono"><\/td><td>[^<]+<\/td>/);
  });

  test('a file that could not be read shows why the import stopped', async () => {
    const res = await contributorWeb.get(`/imports/${failedId}`);
    assert.equal(res.status, 200);
    assert.match(res.text, /data-status="failed">Stopped/);
    assert.match(res.text, /role="alert"><strong>The import stopped\.<\/strong> Menagerie could not tell what format notes\.txt is in/);
  });

  test('an import not finished shows its state, a live region and a reload hint, and no result yet', async () => {
    const actor: UserActor = { kind: 'user', id: actors.contributor.id, email: actors.contributor.email, displayName: 'contributor', role: 'contributor', via: 'system' };
    const queued = await createImport({ db: app.deps.db, actor, now: () => new Date() }, { fileName: 'waiting.jsonl', byteSize: 2048, format: null });
    const res = await contributorWeb.get(`/imports/${queued.id}`);
    assert.equal(res.status, 200);
    assert.match(res.text, /data-status="queued">Waiting to start/);
    assert.match(res.text, /role="status">Waiting for another import to finish\./);
    assert.match(res.text, /<progress id="import-bar" class="import-bar" max="100" data-field="bar" value="0">0%<\/progress>/);
    assert.match(res.text, /reload it<\/a> to see how far the import is/);
    assert.ok(!res.text.includes('<h2>Result</h2>'));
  });

  test('someone else\'s import is not found; an admin may look; anonymous visitors sign in first', async () => {
    assert.equal((await researcherWeb.get(`/imports/${doneId}`)).status, 404);
    assert.equal((await researcherWeb.get('/imports/not-a-uuid')).status, 404);
    const admin = await adminWeb.get(`/imports/${doneId}`);
    assert.equal(admin.status, 200);
    assert.match(admin.text, /page-runs\.jsonl/);
    const anon = await new WebClient(app.url).get(`/imports/${doneId}`);
    assert.equal(anon.status, 303);
  });
});
