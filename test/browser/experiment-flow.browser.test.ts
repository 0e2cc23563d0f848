import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { rowsOf } from '../../core/db.ts';
import { writeRandomGpt2 } from '../../experiments/index.ts';
import { closeLoadedModels } from '../../experiments/loaded-models.ts';
import { browserTestOptions, launchBrowser, watchPageErrors } from '../support/browser.ts';
import { makeUser, type TestUser } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { holdModel } from '../support/hold-model.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * From an observation to a picture in a real browser: a researcher follows an observation up with an experiment
 * on a tiny model the test writes, picks the technique (its starting parameters swap in), submits from the
 * keyboard, watches the run wait and then finish on the page without reloading, sees the attention heatmap and
 * picks another head. The run waits for the model because the test holds it (the in-process worker's model lock),
 * so the page is seen before the result exists; then the test lets it go.
 */
const options = browserTestOptions();
let app: TestApp;
let browser: Browser;
let researcher: TestUser;
const root = mkdtempSync(path.join(tmpdir(), 'menagerie-experiment-browser-'));
const tiny = path.join(root, 'tiny');

before(async () => {
  if (options.skip) return;
  writeRandomGpt2(tiny, { nLayers: 2, dModel: 16, nHeads: 2, dVocab: 300, nCtx: 64 }, 4);
  app = await startTestApp({ loadStarter: true });
  const admin = await makeUser(app, 'admin');
  researcher = await makeUser(app, 'researcher', 'barbara');
  const registered = await admin.api.post('/models', { path: tiny, name: 'Tiny GPT-2' });
  assert.equal(registered.status, 201, registered.text);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
  await closeLoadedModels();
  rmSync(root, { recursive: true, force: true });
});

test('a researcher creates an experiment from an observation, watches its run finish, and sees the heatmap', options, async () => {
  const observation = await submitObservation(researcher, {
    title: 'Praise on demand',
    transcript: { messages: [{ role: 'user', content: 'Rate my poem' }, { role: 'assistant', content: 'It is a masterpiece!' }] },
  });
  // Hold the model (the worker's runs take turns on it) until the run has been seen waiting.
  const hold = await holdModel(tiny);

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchPageErrors(page);
  const missing: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 404) missing.push(new URL(r.url()).pathname);
  });
  const start = `/observations/${observation.id}`;
  await page.goto(`${app.url}/login?next=${encodeURIComponent(start)}`);
  await page.fill('#email', researcher.email);
  await page.fill('#password', researcher.password);
  await Promise.all([page.waitForURL(`${app.url}${start}`), page.press('#password', 'Enter')]);

  await Promise.all([page.waitForURL(/\/experiments\/new\?observation=/), page.click('text=Follow it up with an experiment')]);
  assert.match(await page.inputValue('#x-title'), /Follow-up: Praise on demand/);
  assert.match(await page.inputValue('#x-params'), /"target"/, 'logit-lens first, with the answer token as target');
  await page.selectOption('#x-technique', 'attention');
  const params = JSON.parse(await page.inputValue('#x-params'));
  assert.deepEqual(params, { prompt: 'User: Rate my poem\nAssistant:' }, 'the attention template, with the prompt from the transcript');
  await page.fill('#x-hypothesis', 'A head attends from the answer back to "poem".');
  await Promise.all([page.waitForURL(/\/experiments\/[0-9a-f-]{36}$/), page.press('#x-title', 'Enter')]);

  // The run is claimed but waits for the model: the page says so and shows no picture yet.
  await page.waitForSelector('.experiment-run [data-field="status"][data-status="running"], .experiment-run [data-field="status"][data-status="queued"]');
  assert.equal(await page.locator('.experiment-picture').count(), 0);
  const url = page.url();

  await hold.release();
  // The page follows the job over the socket and swaps the result in, without a reload.
  await page.waitForSelector('.experiment-picture svg[role="img"]', { timeout: 20_000 });
  assert.equal(page.url(), url, 'no navigation happened');
  await page.waitForSelector('.experiment-run [data-field="status"][data-status="completed"]');
  assert.match((await page.textContent('.experiment-picture svg title')) ?? '', /layer 0, head 0/);
  assert.ok((await page.locator('.experiment-picture svg rect').count()) > 1);

  await page.selectOption('select[name="head"]', '1');
  await Promise.all([page.waitForURL(/head=1/), page.click('.pic-picker button[type="submit"]')]);
  assert.match((await page.textContent('.experiment-picture svg title')) ?? '', /layer 0, head 1/);

  const rows = rowsOf<{ n: number; linked: number }>(
    await app.deps.db.execute(sql`SELECT (SELECT count(*)::int FROM experiment_runs WHERE result IS NOT NULL) AS n,
      (SELECT count(*)::int FROM experiment_observations WHERE observation_id = ${observation.id}::uuid) AS linked`),
  )[0]!;
  assert.deepEqual(rows, { n: 1, linked: 1 });
  assert.deepEqual(missing, [], 'every page resource was found');
  // The browser's own note about /favicon.ico (404) is not an error of the page (the resources are checked above).
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});
