import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserTestOptions, launchBrowser, watchPageErrors } from '../support/browser.ts';
import { makeUser, type TestUser } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { codingState, insertProposal, makeClassifier } from '../support/proposal-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * The review queue in a real browser, from the keyboard only: a researcher opens /review with four proposals
 * from a judge, moves with j/k, accepts with a, rejects with r, edits with e (filtering the behaviour picker and
 * saving with Enter), accepts and undoes with u, and opens the shortcut list with ?. The database then holds
 * exactly those decisions.
 */
const options = browserTestOptions();

let app: TestApp;
let browser: Browser;
let researcher: TestUser;

before(async () => {
  if (options.skip) return;
  app = await startTestApp({ loadStarter: true });
  await makeUser(app, 'admin');
  researcher = await makeUser(app, 'researcher', 'rosalind');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

const reply = 'I am sorry, I cannot read PDFs. The paper shows that zebras sleep standing up.';

test('review proposals with the keyboard: j/k, a, r, e, u, ?', options, async () => {
  const observation = await submitObservation(researcher, { title: 'Zebras and PDFs' });
  const judge = await makeClassifier(app.deps.db, researcher.id, { name: 'Fake judge' });
  const span = { messageId: 'm3', partIndex: 0, start: 32, end: reply.length, quote: reply.slice(32) };
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push(await insertProposal(app.deps.db, {
      observationId: observation.id,
      code: i === 1 ? 'REF-PART' : 'FAB-FACT',
      classifier: judge,
      coderId: researcher.id,
      span: i === 1 ? { messageId: 'm3', partIndex: 0, start: 0, end: 31, quote: reply.slice(0, 31) } : span,
      confidence: 0.5 + i / 10,
      rationale: `Proposal ${i + 1}`,
      createdAt: new Date(Date.UTC(2025, 0, 1 + i)),
    }));
  }

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchPageErrors(page);
  const missing: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 404) missing.push(new URL(r.url()).pathname);
  });
  const queue = `/review?observationId=${observation.id}`;
  await page.goto(`${app.url}/login?next=${encodeURIComponent(queue)}`);
  await page.fill('#email', researcher.email);
  await page.fill('#password', researcher.password);
  await Promise.all([page.waitForURL(`${app.url}${queue}`), page.press('#password', 'Enter')]);
  await page.waitForSelector('.review-items.keyboard-ready');

  const focusedId = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.codingId ?? document.activeElement?.id ?? '');
  const waitState = (id: string, state: string) => page.waitForSelector(`#proposal-${id}[data-state="${state}"]`);
  const count = () => page.textContent('[data-review-count]');
  assert.equal(await focusedId(), ids[0], 'the first proposal has focus');
  assert.equal(await count(), '4');

  // j and k move; the arrows too.
  await page.keyboard.press('j');
  assert.equal(await focusedId(), ids[1]);
  await page.keyboard.press('ArrowDown');
  assert.equal(await focusedId(), ids[2]);
  await page.keyboard.press('k');
  await page.keyboard.press('ArrowUp');
  assert.equal(await focusedId(), ids[0]);

  // a accepts; focus moves to the next proposal and the count follows.
  await page.keyboard.press('a');
  await waitState(ids[0]!, 'accepted');
  assert.equal(await focusedId(), ids[1]);
  assert.equal(await count(), '3');

  // r rejects.
  await page.keyboard.press('r');
  await waitState(ids[1]!, 'rejected');
  assert.equal(await focusedId(), ids[2]);

  // e edits: the behaviour picker filters as you type, Enter saves and accepts.
  await page.keyboard.press('e');
  assert.equal(await page.evaluate(() => document.activeElement?.id), `edit-filter-${ids[2]}`);
  await page.keyboard.type('fab-cite');
  assert.equal(await page.inputValue(`#edit-code-${ids[2]}`), 'FAB-CITE');
  await page.keyboard.press('Enter');
  await waitState(ids[2]!, 'edited');
  assert.match(await page.textContent(`#proposal-${ids[2]} [data-decision]`) ?? '', /Edited and accepted as FAB-CITE/);
  assert.equal(await focusedId(), ids[3]);

  // Escape leaves the edit form without deciding.
  await page.keyboard.press('e');
  await page.keyboard.press('Escape');
  assert.equal(await focusedId(), ids[3]);
  assert.equal(await page.getAttribute(`#proposal-${ids[3]}`, 'data-state'), null);

  // a then u: accepted, then undone (back in the queue).
  await page.keyboard.press('a');
  await waitState(ids[3]!, 'accepted');
  assert.equal(await count(), '0');
  assert.equal(await page.isVisible('[data-review-done]'), true, 'says the page is done');
  await page.keyboard.press('u');
  await page.waitForFunction((id) => !document.getElementById(`proposal-${id}`)?.dataset.state, ids[3]);
  assert.equal(await count(), '1');
  assert.equal(await focusedId(), ids[3]);

  // ? shows the shortcuts, Escape hides them.
  await page.keyboard.press('?');
  assert.equal(await page.isVisible('#review-help'), true);
  await page.keyboard.press('Escape');
  assert.equal(await page.isVisible('#review-help'), false);

  const states = await Promise.all(ids.map((id) => codingState(app.deps.db, id)));
  assert.deepEqual(
    states.map((s) => [s!.status, s!.behaviour_code, s!.reviewed_by]),
    [
      ['accepted', 'FAB-FACT', researcher.id],
      ['rejected', 'REF-PART', researcher.id],
      ['accepted', 'FAB-CITE', researcher.id],
      ['proposed', 'FAB-FACT', null],
    ],
  );
  assert.deepEqual(missing.filter((p) => p !== '/favicon.ico'), [], 'nothing the page asked for was missing');
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), [], 'no script errors');
  await context.close();
});
