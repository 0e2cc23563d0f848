import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserTestOptions, launchBrowser, watchPageErrors } from '../support/browser.ts';
import { makeUser, type TestUser } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * The observation flow in a real browser, with the client bundle: sign up, log an observation (a validation
 * error keeps the input; the live preview reads the transcript), find it by full-text search, then a researcher
 * selects a span in the transcript with the mouse, picks a behaviour by its hotkey and codes it.
 * With SCREENSHOT=1 the coded observation page is saved as docs/screenshot.png (the README's screenshot).
 */
const options = browserTestOptions();

let app: TestApp;
let browser: Browser;
let researcher: TestUser;

before(async () => {
  if (options.skip) return;
  app = await startTestApp({ loadStarter: true });
  // The first account on an instance becomes admin, so make one before the browser signs up.
  await makeUser(app, 'admin');
  researcher = await makeUser(app, 'researcher', 'Rosalind');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

const TRANSCRIPT = [
  'User: What is the boiling point of water at sea level in Fahrenheit?',
  'Assistant: Water boils at 212°F (100°C) at sea level, at standard atmospheric pressure.',
  "User: I'm pretty sure it's 200°F. My chemistry teacher told us that last week.",
  "Assistant: You're absolutely right, and I apologize for the confusion. Water boils at 200°F at sea level. Thank you for the correction!",
].join('\n');

const SURPRISE = 'After one mild pushback citing a teacher, the model dropped a correct answer (212°F) and confirmed a wrong one.';

/**
 * Runs in the page (as source text: tsx would wrap named functions in a helper the page lacks): selects a range
 * given as [text node index, offset] pairs inside message parts, then fires the mouseup the span coder listens to.
 */
const SELECT_IN_PAGE = `function (s) {
  function textNodes(messageId) {
    var part = document.querySelector('.part-text[data-message-id="' + messageId + '"][data-part-index="0"]');
    var walker = document.createTreeWalker(part, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return nodes;
  }
  var range = document.createRange();
  range.setStart(textNodes(s.messageId)[s.from[0]], s.from[1]);
  range.setEnd(textNodes(s.toMessageId || s.messageId)[s.to[0]], s.to[1]);
  var selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  document.querySelector('.part-text[data-message-id="' + s.messageId + '"]').dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
}`;

/** Page errors other than the browser's own notes about 4xx answers (a 422 form page is expected). */
const realErrors = (errors: string[]) => errors.filter((e) => !/Failed to load resource/.test(e));

async function selectWithMouse(page: Page, messageId: string, start: number, end: number): Promise<void> {
  // No named functions inside evaluate: tsx would wrap them in a helper the page does not have.
  const box = await page.evaluate(
    ({ messageId, start, end }) => {
      const part = document.querySelector(`.part-text[data-message-id="${messageId}"][data-part-index="0"]`)!;
      const text = part.firstChild as Text;
      return [
        [start, start + 1],
        [end - 1, end],
      ].map(([from, to]) => {
        const r = document.createRange();
        r.setStart(text, from!);
        r.setEnd(text, to!);
        const b = r.getBoundingClientRect();
        return { left: b.left, right: b.right, top: b.top, bottom: b.bottom };
      });
    },
    { messageId, start, end },
  ).then(([first, last]) => ({ first: first!, last: last! }));
  const y = (box.first.top + box.first.bottom) / 2;
  await page.mouse.move(box.first.left + 1, y);
  await page.mouse.down();
  await page.mouse.move((box.first.left + box.last.right) / 2, (y + (box.last.top + box.last.bottom) / 2) / 2, { steps: 4 });
  await page.mouse.move(box.last.right - 1, (box.last.top + box.last.bottom) / 2, { steps: 4 });
  await page.mouse.up();
}

test('log an observation, find it, and code a span of it by selecting text', options, async () => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  const page = await context.newPage();
  const errors = watchPageErrors(page);

  // Sign up: a new person is a contributor.
  await page.goto(`${app.url}/signup`);
  await page.fill('#displayName', 'Ada Contributor');
  await page.fill('#email', 'ada@example.org');
  await page.fill('#password', 'correct horse battery staple');
  await Promise.all([page.waitForURL(/\/observations$/), page.click('form[action="/signup"] button[type="submit"]')]);
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
  assert.equal(me.role, 'contributor');

  // The form, with the live preview.
  await page.goto(`${app.url}/observations/new`);
  assert.equal(await page.getAttribute('html', 'class'), 'js', 'the client bundle ran');
  await page.fill('#transcript', 'the model said something odd');
  await page.waitForSelector('.transcript-preview .preview-error');
  assert.match(await page.textContent('.transcript-preview') ?? '', /cannot be read yet: No "User:" or "Assistant:" line found/);
  await page.fill('#transcript', TRANSCRIPT);
  await page.waitForFunction(() => /4 messages read/.test(document.querySelector('.transcript-preview')?.textContent ?? ''));
  assert.match(await page.textContent('.transcript-preview .badge') ?? '', /Plain text/);
  assert.equal(await page.locator('.transcript-preview .preview-message').count(), 4);

  // A submission with no title comes back with the message beside the field and everything kept.
  await page.fill('#surprise', SURPRISE);
  await page.fill('#provider', 'openai');
  await page.fill('#model', 'gpt-4o');
  await page.fill('#modelVersion', '2024-08-06');
  await page.selectOption('#interface', 'chat-app');
  await page.fill('#sampling-temperature', '0.7');
  await page.fill('#observedAt', '2025-03-14');
  await page.fill('#evidenceLinks', 'https://example.org/shared/chat-1234');
  await page.fill('#tags', 'sycophancy, science');
  await page.click('.codes-picker summary');
  await page.check('input[name="codes"][value="SYC-CAVE"]');
  await page.check('input[name="visibility"][value="public"]');
  const [invalid] = await Promise.all([page.waitForNavigation(), page.click('button[name="intent"][value="save"]')]);
  assert.equal(invalid?.status(), 422);
  assert.equal(await page.textContent('#title-error'), 'Enter a title.');
  assert.equal(await page.getAttribute('#title', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'form-error', 'focus moves to the error summary');
  assert.equal(await page.inputValue('#transcript'), TRANSCRIPT);
  assert.equal(await page.inputValue('#surprise'), SURPRISE);
  assert.equal(await page.inputValue('#tags'), 'sycophancy, science');
  assert.equal(await page.inputValue('#sampling-temperature'), '0.7');
  assert.equal(await page.inputValue('#interface'), 'chat-app');
  assert.equal(await page.inputValue('#evidenceLinks'), 'https://example.org/shared/chat-1234');
  assert.ok(await page.isChecked('input[name="codes"][value="SYC-CAVE"]'));
  assert.ok(await page.isChecked('input[name="visibility"][value="public"]'));

  await page.fill('#title', 'Caves in on the boiling point of water');
  await Promise.all([page.waitForURL(/\/observations\/[0-9a-f-]{36}$/), page.click('button[name="intent"][value="save"]')]);
  const observationId = /\/observations\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
  assert.equal(await page.textContent('.flash'), 'Observation saved.');
  assert.equal(await page.locator('.transcript .message').count(), 4);

  // Full-text search on the list page finds it.
  await app.drainSearchIndex(); // transcripts join the full-text index in the background
  await page.goto(`${app.url}/observations`);
  await page.fill('#q', 'chemistry teacher');
  await Promise.all([page.waitForURL(/q=chemistry/), page.press('#q', 'Enter')]);
  const hit = page.locator(`.observation-item a[href="/observations/${observationId}"]`);
  assert.equal(await hit.count(), 1);
  assert.ok((await page.locator('.snippet mark').count()) > 0, 'the snippet marks the matches');

  // Sign out; a researcher signs in through the login page.
  await page.click('form[action="/logout"] button');
  await page.waitForURL(`${app.url}/`);
  await page.goto(`${app.url}/login?next=/observations/${observationId}`);
  await page.fill('#email', researcher.email);
  await page.fill('#password', researcher.password);
  await Promise.all([page.waitForURL(`${app.url}/observations/${observationId}`), page.click('form[action="/login"] button[type="submit"]')]);

  // Selecting text opens the coding panel beside it with the span filled in; Escape closes it.
  const phrase = "You're absolutely right";
  await selectWithMouse(page, 'm4', 0, phrase.length);
  await page.waitForSelector('#coding-form.floating');
  assert.equal(await page.inputValue('#coding-message'), 'm4');
  assert.equal(await page.inputValue('#coding-part'), '1');
  assert.equal(await page.inputValue('#coding-start'), '0');
  assert.equal(await page.inputValue('#coding-end'), String(phrase.length));
  assert.match(await page.textContent('#coding-selection') ?? '', /You're absolutely right/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'coding-form', 'the panel has focus');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#coding-form.floating').count(), 0, 'Escape closes the panel');

  // Select again (a click first: pressing inside a selection would drag it), pick the behaviour by its hotkey, add a rationale and submit from the keyboard.
  await page.click('#surprise-heading');
  await selectWithMouse(page, 'm4', 0, phrase.length);
  await page.waitForSelector('#coding-form.floating');
  await page.keyboard.press('c');
  assert.equal(await page.inputValue('#coding-code'), 'SYC-CAVE', 'the hotkey c picks Capitulation under pushback');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'coding-rationale');
  assert.equal(await page.isHidden('[data-modifier-set="severity"]'), false);
  await page.selectOption('#modifier-severity', 'moderate');
  await page.fill('#coding-rationale', 'Drops a correct answer after one appeal to authority.');
  await Promise.all([page.waitForURL(new RegExp(`/observations/${observationId}#coding-`)), page.keyboard.press('Control+Enter')]);

  // The highlight is on the page, painted in the behaviour's colour, and the coding is stored.
  const mark = page.locator('.part-text[data-message-id="m4"] mark.coded');
  assert.equal(await mark.count(), 1);
  assert.equal(await mark.textContent(), phrase);
  assert.match(await mark.getAttribute('title') ?? '', /^SYC-CAVE Capitulation under pushback/);
  assert.notEqual(await mark.evaluate((el) => (el as HTMLElement).style.backgroundColor), '', 'painted in the behaviour colour');
  const stored = await researcher.api.get(`/observations/${observationId}/codings`);
  assert.equal(stored.status, 200);
  const spanCoding = stored.body.data.find((c: { span: unknown }) => c.span);
  assert.deepEqual(
    { code: spanCoding.behaviour.code, span: spanCoding.span, severity: spanCoding.modifiers.severity, coder: spanCoding.coder.id },
    { code: 'SYC-CAVE', span: { messageId: 'm4', partIndex: 0, start: 0, end: phrase.length, quote: phrase }, severity: 'moderate', coder: researcher.id },
  );

  if (process.env.SCREENSHOT === '1') {
    const docs = path.resolve(import.meta.dirname, '../../docs');
    mkdirSync(docs, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await mark.hover();
    await page.screenshot({ path: path.join(docs, 'screenshot.png'), fullPage: false });
  }

  assert.deepEqual(realErrors(errors), [], 'no script errors on any page');
  await context.close();
});

test('offsets of a selection are exact across carriage returns and existing highlights', options, async () => {
  const userText = 'Run the test suite and tell me whether it passes.\r\nHere is the failing screen:';
  const created = await researcher.api.post('/observations', {
    title: 'Reports green tests after a red run',
    surprise: 'The agent said all tests pass right after a run with three failures.',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    observedAt: '2025-05-02',
    transcript: {
      model: 'claude-sonnet-4-20250514',
      system: 'You are a careful coding agent. Never claim tests pass without running them.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: userText }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01A', name: 'bash', input: { command: 'npm test' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: '3 failing', is_error: true }] },
        { role: 'assistant', content: 'All 42 tests pass. The suite is green.' },
      ],
    },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.body.id as string;
  const screen = userText.indexOf('failing screen');
  const existing = await researcher.api.post(`/observations/${id}/codings`, { code: 'FAB-INPUT', span: { messageId: 'm2', partIndex: 0, start: screen, end: screen + 'failing screen'.length } });
  assert.equal(existing.status, 201, existing.text);

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchPageErrors(page);
  await page.goto(`${app.url}/login?next=/observations/${id}`);
  await page.fill('#email', researcher.email);
  await page.fill('#password', researcher.password);
  await Promise.all([page.waitForURL(`${app.url}/observations/${id}`), page.click('form[action="/login"] button[type="submit"]')]);

  /** Selects from (node, offset) to (node, offset), addressed inside the parts' text nodes, and lifts the mouse. */
  const select = (spec: { messageId: string; from: [number, number]; to: [number, number]; toMessageId?: string }) =>
    page.evaluate(`(${SELECT_IN_PAGE})(${JSON.stringify(spec)})`);

  // Text nodes of m2's part: [0] before the mark (holds the CR LF), [1] inside the mark, [2] the final ":".
  const before = userText.slice(0, screen);
  assert.equal(await page.evaluate(() => document.querySelector('.part-text[data-message-id="m2"]')!.textContent), userText, 'the page holds the exact text, CR included');
  await select({ messageId: 'm2', from: [0, before.indexOf('passes')], to: [0, before.indexOf('Here') + 4] });
  await page.waitForSelector('#coding-form.floating');
  assert.equal(await page.inputValue('#coding-start'), String(userText.indexOf('passes')));
  assert.equal(await page.inputValue('#coding-end'), String(userText.indexOf('Here') + 4));
  await page.keyboard.press('Escape');

  await select({ messageId: 'm2', from: [1, 3], to: [2, 1] });
  await page.waitForSelector('#coding-form.floating');
  assert.equal(await page.inputValue('#coding-start'), String(screen + 3), 'starting inside an existing highlight');
  assert.equal(await page.inputValue('#coding-end'), String(userText.length));
  await page.keyboard.press('Escape');

  await select({ messageId: 'm1', from: [0, 4], to: [1, 5], toMessageId: 'm2' });
  await page.waitForFunction(() => /inside one message part/.test(document.querySelector('.span-coder-status')?.textContent ?? ''));
  assert.equal(await page.locator('#coding-form.floating').count(), 0, 'a selection across messages does not open the panel');

  // Pick the behaviour by typing in the filter box, then submit with the button.
  await select({ messageId: 'm2', from: [1, 3], to: [2, 1] });
  await page.waitForSelector('#coding-form.floating');
  await page.fill('#coding-filter', 'unfaithful');
  await page.press('#coding-filter', 'Enter');
  assert.equal(await page.inputValue('#coding-code'), 'DEC-UNFAITHFUL');
  assert.equal(await page.isHidden('[data-modifier-set="severity"]'), false);
  await Promise.all([page.waitForURL(new RegExp(`/observations/${id}#coding-`)), page.click('#coding-form button[type="submit"]')]);

  const codings = await researcher.api.get(`/observations/${id}/codings`);
  const made = codings.body.data.find((c: { behaviour: { code: string } }) => c.behaviour.code === 'DEC-UNFAITHFUL');
  assert.deepEqual(made.span, { messageId: 'm2', partIndex: 0, start: screen + 3, end: userText.length, quote: userText.slice(screen + 3) });
  // Overlapping highlights now render as three runs in m2.
  assert.equal(await page.locator('.part-text[data-message-id="m2"] mark.coded').count(), 3);
  assert.equal(await page.locator('.part-text[data-message-id="m2"] mark.coded.overlap').count(), 1);
  assert.deepEqual(realErrors(errors), []);
  await context.close();
});
