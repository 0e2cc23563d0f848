import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { rowsOf } from '../../core/db.ts';
import { ETHOGRAM_FORMAT } from '../../ethograms/ethogram-document.schema.ts';
import { browserTestOptions, launchBrowser, watchPageErrors } from '../support/browser.ts';
import { makeUser, type TestUser } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { actBehaviour } from '../support/ethogram-fixture.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * A taxonomy evolving in a real browser: a researcher opens a new draft, splits a coded behaviour (the two new
 * behaviours are added through the API, which is not what is under test), tries to publish and is told the
 * split needs a migration, declares it on the changes page, publishes, and decides the recode queue with the
 * number keys. The database then holds one new coding for the first decision and none for the second.
 */
const options = browserTestOptions();

let app: TestApp;
let browser: Browser;
let researcher: TestUser;

const behaviour = (code: string, hotkey: string) => actBehaviour(code, { hotkey });

before(async () => {
  if (options.skip) return;
  app = await startTestApp({ loadStarter: false });
  await makeUser(app, 'admin');
  researcher = await makeUser(app, 'researcher', 'rosalind');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

test('publish a version that splits a coded behaviour, then work the recode queue by keyboard', options, async () => {
  const api = researcher.api;
  const imported = await api.post('/ethograms/import?publish=true', {
    format: ETHOGRAM_FORMAT,
    slug: 'evo',
    name: 'Evolving',
    version: { number: 1 },
    categories: [{ key: 'acts', name: 'Acts', parent: null }],
    behaviours: [behaviour('KEEP', 'k'), behaviour('SPLIT', 's')],
  });
  assert.equal(imported.status, 201, imported.text);
  const observation = await submitObservation(researcher, { title: 'Refuses then complies' });
  for (const code of ['SPLIT', 'SPLIT', 'KEEP']) {
    const res = await api.post(`/observations/${observation.id}/codings`, { code, ethogramVersionId: imported.body.id, rationale: code });
    assert.equal(res.status, 201, res.text);
  }

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchPageErrors(page);
  page.on('dialog', (dialog) => void dialog.accept());
  /** Waits for a page whose text contains `text` (a navigation's result: pick text the page before lacks). */
  const waitForText = (text: string) => page.waitForFunction((t) => document.body?.textContent?.includes(t) ?? false, text);
  const missing: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 404) missing.push(new URL(r.url()).pathname);
  });
  await page.goto(`${app.url}/login?next=${encodeURIComponent('/ethograms/evo')}`);
  await page.fill('#email', researcher.email);
  await page.fill('#password', researcher.password);
  await Promise.all([page.waitForURL(`${app.url}/ethograms/evo`), page.press('#password', 'Enter')]);

  // A new draft; the split's new behaviours arrive through the API; SPLIT is deleted on the page.
  await Promise.all([page.waitForURL(`${app.url}/ethograms/evo/versions/2`), page.click('text=Open a new draft')]);
  for (const [code, key] of [['SPLIT-A', 'a'], ['SPLIT-B', 'b']] as const) {
    const res = await api.call('PUT', `/ethograms/evo/versions/2/behaviours/${code}`, behaviour(code, key));
    assert.equal(res.status, 201, res.text);
  }
  await page.reload();
  await page.click('button:text-is("Delete SPLIT")');
  await page.waitForSelector('button:text-is("Delete SPLIT")', { state: 'detached' });

  // Publishing is refused, naming the change that needs a migration.
  await page.click('button:has-text("Publish version 2")');
  await page.waitForSelector('#form-error');
  assert.match((await page.textContent('#form-error'))!, /SPLIT was removed and 2 codings use it/);

  // The changes page: declare the split by ticking the two new behaviours.
  await page.goto(`${app.url}/ethograms/evo/versions/2/changes`);
  assert.match((await page.textContent('.change-list'))!, /SPLIT \(Behaviour SPLIT\) was removed/);
  const splitForm = page.locator('#blocking-SPLIT form:has(input[name="type"][value="split"])');
  await splitForm.locator('input[value="SPLIT-A"]').check();
  await splitForm.locator('input[value="SPLIT-B"]').check();
  await splitForm.locator('button[type="submit"]').click();
  await page.waitForSelector('.declared-migrations, #form-error');
  // Read the error's text only when there is one: textContent waits (30 s) for an element that is not there.
  const formErrors = await page.locator('#form-error').allTextContents();
  assert.deepEqual(formErrors, [], formErrors.join('\n'));
  assert.match((await page.textContent('.declared-migrations'))!, /Split SPLIT into SPLIT-A, SPLIT-B/);
  assert.match((await page.textContent('.change-list'))!, /SPLIT was split into SPLIT-A, SPLIT-B; its codings go to the recode queue/);

  // Publish from the draft page: the flash says how many codings wait.
  await page.goto(`${app.url}/ethograms/evo/versions/2`);
  await page.click('button:has-text("Publish version 2")');
  await waitForText('2 codings wait in the recode queue');

  // The recode queue, by keyboard: 2 chooses SPLIT-B for the first coding, 0 says none fits the second.
  await page.goto(`${app.url}/ethograms/evo/recode`);
  await page.waitForSelector('.recode-items.keyboard-ready');
  assert.equal(await page.locator('.recode-item').count(), 2);
  await page.keyboard.press('2');
  // The flash is only on the page the decision leads to; once it shows, wait for that page's keys.
  await waitForText('Recoded as SPLIT-B');
  await page.waitForSelector('.recode-items.keyboard-ready');
  assert.equal(await page.locator('.recode-item').count(), 1);
  await page.keyboard.press('0');
  await waitForText('Nothing is waiting');

  const decisions = rowsOf<{ decision: string; chosen_code: string | null }>(
    await app.deps.db.execute(sql`SELECT decision, chosen_code FROM recode_items ORDER BY resolved_at`),
  );
  assert.deepEqual(decisions.map((d) => [d.decision, d.chosen_code]), [['recoded', 'SPLIT-B'], ['none', null]]);
  const newCodings = rowsOf<{ code: string; number: number }>(
    await app.deps.db.execute(sql`SELECT b.code, v.number FROM codings c JOIN behaviours b ON b.id = c.behaviour_id JOIN ethogram_versions v ON v.id = c.ethogram_version_id WHERE v.number = 2`),
  );
  assert.deepEqual(newCodings, [{ code: 'SPLIT-B', number: 2 }]);
  assert.deepEqual(missing, []);
  // The refused publish answers 422, which the browser reports; nothing else may go wrong on the pages.
  assert.deepEqual(errors.filter((e) => !/status of 422/.test(e)), []);
  await context.close();
});
