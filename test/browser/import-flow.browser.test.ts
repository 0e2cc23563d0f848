import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserTestOptions, launchBrowser, watchPageErrors } from '../support/browser.ts';
import { makeUser, type TestUser } from '../support/clients.ts';
import { jsonlLine } from '../support/imports.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * Bulk import in a real browser with the client bundle: choose a file on the import page and send it from the
 * keyboard, land on the import's page, watch the progress bar and counters move to the end over the socket, then
 * read the result (links to the new observations, the failed record) and follow a link.
 */
const options = browserTestOptions();

let app: TestApp;
let browser: Browser;
let contributor: TestUser;

const RECORDS = 1500;

before(async () => {
  if (options.skip) return;
  app = await startTestApp({ loadStarter: false });
  await makeUser(app, 'admin');
  contributor = await makeUser(app, 'contributor', 'Grace');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

test('upload a file, watch the import progress live, and read the result', options, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Record every count the page shows, from the first paint on (an init script is not an inline page script).
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { seenProcessed: string[] }).seenProcessed = seen;
    document.addEventListener('DOMContentLoaded', () => {
      const cell = document.querySelector('[data-field="processed"]');
      if (!cell) return;
      seen.push(cell.textContent ?? '');
      new MutationObserver(() => seen.push(cell.textContent ?? '')).observe(cell, { childList: true, characterData: true, subtree: true });
    });
  });
  const page = await context.newPage();
  const errors = watchPageErrors(page);

  await page.goto(`${app.url}/login?next=/import`);
  await page.fill('#email', contributor.email);
  await page.fill('#password', contributor.password);
  await Promise.all([page.waitForURL(`${app.url}/import`), page.press('#password', 'Enter')]);
  assert.equal(await page.getAttribute('html', 'class'), 'js', 'the client bundle ran');
  assert.equal(await page.getAttribute('header.site a[href="/import"]', 'aria-current'), 'page');

  const lines = Array.from({ length: RECORDS }, (_, i) => jsonlLine(`browser-${i}`, `Browser question ${i}?`));
  lines.splice(7, 0, '{"messages": "not a list"');
  await page.setInputFiles('#file', { name: 'browser-runs.jsonl', mimeType: 'application/octet-stream', buffer: Buffer.from(lines.join('\n') + '\n') });
  // From the keyboard: focus the button and press Enter.
  await page.focus('.import-form button[type="submit"]');
  await Promise.all([page.waitForURL(/\/imports\/[0-9a-f-]{36}$/), page.keyboard.press('Enter')]);

  // The progress bar and counters move as the socket reports, to the end.
  await page.waitForSelector('[data-field="status"][data-status="done"]', { timeout: 120_000 });
  assert.equal(await page.textContent('[data-field="status"]'), 'Finished');
  assert.equal(await page.getAttribute('[data-field="bar"]', 'value'), '100');
  assert.equal(await page.textContent('[data-field="processed"]'), String(RECORDS + 1));
  assert.equal(await page.textContent('[data-field="imported"]'), String(RECORDS));
  assert.equal(await page.textContent('[data-field="failed"]'), '1');
  const seen = (await page.evaluate(() => (window as unknown as { seenProcessed: string[] }).seenProcessed)).map(Number);
  assert.ok(seen.some((n) => n > 0 && n < RECORDS + 1), `the counts moved while it ran (saw ${seen.join(', ')})`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, 'never backwards');

  // The result replaces the live view: links to the new observations and the failed record.
  await page.waitForSelector('.import-links a');
  assert.match(await page.textContent('.import-summary') ?? '', new RegExp(`${RECORDS} imported, 0 already here \\(duplicates, skipped\\), 1 failed`));
  assert.equal(await page.locator('.import-links a').count(), 100, 'the first hundred, in file order');
  assert.equal(await page.textContent('.import-links a >> nth=0'), 'Browser question 0?');
  const failure = page.locator('table.import-failures tbody tr');
  assert.equal(await failure.count(), 1);
  assert.equal(await failure.locator('td.num').textContent(), '7');
  await Promise.all([page.waitForURL(/\/observations\/[0-9a-f-]{36}$/), page.click('.import-links a >> nth=0')]);
  assert.equal(await page.textContent('h1'), 'Browser question 0?');

  // The browser's own note about /favicon.ico (404) is not an error of the page.
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});
