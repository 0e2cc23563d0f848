import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { defaultPublishedVersion } from '../../ethograms/behaviour.queries.ts';
import type { StoredPayloads } from '../../live/live-events.ts';
import { findLiveSession, readLog } from '../../live/live-session.queries.ts';
import { browserTestOptions, launchBrowser, watchPageErrors } from '../support/browser.ts';
import { makeUser, type TestUser } from '../support/clients.ts';
import { startFakeChatServer, type FakeChatServer } from '../support/fake-chat-server.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * A live session in two real browsers: a researcher opens a session against a local OpenAI-compatible server
 * (streaming), makes an observer invitation link; a second person signs up through the link and joins as
 * observer; each sees the other present; the driver prompts and both watch the answer stream in; the observer
 * picks a modifier with a number key and codes a point with a hotkey, a state with two presses, a selected
 * span, undoes the span with Ctrl+Z, and sees each code acknowledged; a code made while the network is down waits
 * in the outbox and is stored once after reconnecting; the driver sees the codes too, and ends
 * the session, which both pages show. The database then holds exactly those codes.
 */
const options = browserTestOptions();

let app: TestApp;
let model: FakeChatServer;
let browser: Browser;
let researcher: TestUser;

const REPLY = 'Sure. The Eiffel Tower is in Rome, and it was built in 1066 by the Romans as a radio mast for the moon landing.';
const TOKENS = REPLY.match(/\S+\s*/g)!;

before(async () => {
  if (options.skip) return;
  // Slow enough that the answer is seen growing, token by token.
  model = await startFakeChatServer({ delayMs: 60, tokens: TOKENS });
  app = await startTestApp({ loadStarter: true });
  // The first account on an instance becomes admin: make one before the browser signs up.
  await makeUser(app, 'admin');
  researcher = await makeUser(app, 'researcher', 'Rosalind');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
  await model?.close();
});

const connected = (page: Page) => page.waitForSelector('[data-live="connection"][data-state="connected"]');
const answerText = (page: Page) => page.textContent('.live-answer-text[data-turn="0"]');

test('drive, watch and code a live session together', options, async () => {
  const driverContext = await browser.newContext();
  const driver = await driverContext.newPage();
  const driverErrors = watchPageErrors(driver);

  // The researcher signs in and opens a session from the form.
  await driver.goto(`${app.url}/login?next=${encodeURIComponent('/live/new')}`);
  await driver.fill('#email', researcher.email);
  await driver.fill('#password', researcher.password);
  await Promise.all([driver.waitForURL(`${app.url}/live/new`), driver.press('#password', 'Enter')]);
  await driver.fill('#l-title', 'Geography probe');
  await driver.selectOption('#l-provider', 'openai-compatible');
  await driver.fill('#l-model', 'tiny-chat');
  await driver.fill('#l-baseUrl', model.openaiBaseUrl);
  await driver.fill('#l-temperature', '0.2');
  await Promise.all([driver.waitForURL(/\/live\/[0-9a-f-]{36}$/), driver.click('form.live-new-form button[type="submit"]')]);
  const roomUrl = driver.url();
  const sessionId = roomUrl.split('/').pop()!;
  await connected(driver);

  // An observer invitation link, shown once.
  await driver.selectOption('#invite-role', 'observer');
  await Promise.all([driver.waitForSelector('#invite-link'), driver.click('form.live-invite-form button[type="submit"]')]);
  const link = await driver.inputValue('#invite-link');
  const joinPath = new URL(link).pathname;
  assert.match(joinPath, /^\/live\/join\/[A-Za-z0-9_-]+$/);
  await connected(driver);

  // Someone new signs up through the link and joins as observer.
  const observerContext = await browser.newContext();
  const observer = await observerContext.newPage();
  const observerErrors = watchPageErrors(observer);
  await observer.goto(`${app.url}/signup?next=${encodeURIComponent(joinPath)}`);
  await observer.fill('#displayName', 'Oskar Observer');
  await observer.fill('#email', 'oskar@example.org');
  await observer.fill('#password', 'correct horse battery staple');
  await Promise.all([observer.waitForURL(`${app.url}${joinPath}`), observer.click('form[action="/signup"] button[type="submit"]')]);
  assert.match((await observer.textContent('[data-testid="invite-role"]')) ?? '', /observer/);
  await Promise.all([observer.waitForURL(roomUrl), observer.click('form[action^="/live/join/"] button[type="submit"]')]);
  await connected(observer);
  const observerId = (await observer.getAttribute('.live-room', 'data-user-id'))!;
  assert.equal(await observer.getAttribute('.live-room', 'data-role'), 'observer');

  // Each sees the other here now.
  await driver.waitForSelector(`[data-live="participants"] li[data-user-id="${observerId}"].here`);
  await observer.waitForSelector(`[data-live="participants"] li[data-user-id="${researcher.id}"].here`);
  assert.match((await observer.textContent('[data-live="presence-summary"]')) ?? '', /Rosalind \(driver\)/);

  // The observer's page records each length the answer had, to see it grow token by token.
  await observer.evaluate(`(function () {
    window.__lengths = [];
    var list = document.querySelector('[data-live="turns"]');
    new MutationObserver(function () {
      var answer = document.querySelector('.live-answer-text[data-turn="0"]');
      var n = answer ? answer.textContent.length : 0;
      if (window.__lengths[window.__lengths.length - 1] !== n) window.__lengths.push(n);
    }).observe(list, { childList: true, subtree: true, characterData: true });
  })()`);

  // The driver prompts (Enter sends).
  await driver.fill('#live-prompt', 'Where is the Eiffel Tower?');
  await driver.press('#live-prompt', 'Enter');
  await observer.waitForFunction(() => (document.querySelector('.live-answer-text[data-turn="0"]')?.textContent ?? '').length > 0);
  assert.equal(await driver.isDisabled('[data-live="send"]'), true, 'no second prompt while the model answers');

  // Shift+1 picks the first modifier value (severity: mild) for the next code; k codes FAB-FACT at the stream's position.
  await observer.keyboard.press('Shift+Digit1');
  assert.equal(await observer.textContent('[data-live="pending-modifiers"]'), 'severity: mild');
  assert.equal(await observer.getAttribute('button.live-modifier[data-digit="1"]', 'aria-pressed'), 'true');
  await observer.keyboard.press('k');
  await observer.waitForSelector('li.live-code.mine[data-behaviour="FAB-FACT"][data-state="stored"]');
  assert.match((await observer.textContent('li.live-code.mine[data-behaviour="FAB-FACT"]')) ?? '', /\[severity: mild\]/);
  assert.equal(await observer.textContent('[data-live="pending-modifiers"]'), 'none', 'modifiers apply to one code');
  await observer.waitForSelector('.live-answer-text[data-turn="0"] .live-point.mine');

  // Both see the whole answer arrive, and its end.
  for (const page of [driver, observer]) {
    await page.waitForSelector('.live-answer[data-status="complete"]');
    assert.equal(await answerText(page), REPLY);
  }
  await observer.waitForSelector('.live-answer[data-status="complete"]');
  const lengths = (await observer.evaluate('window.__lengths')) as number[];
  assert.ok(lengths.filter((n) => n > 0 && n < REPLY.length).length >= 2, `the answer grew in steps: ${lengths.join(', ')}`);
  assert.equal(await driver.isDisabled('[data-live="send"]'), false, 'the driver may prompt again');

  // The driver's pointer over the answer shows on the observer's page as a named caret; leaving removes it.
  const box = (await driver.locator('.live-answer-text[data-turn="0"]').boundingBox())!;
  await driver.mouse.move(box.x + 40, box.y + 8);
  await driver.mouse.move(box.x + 60, box.y + 10);
  const caret = `.live-remote-caret[data-user-id="${researcher.id}"]`;
  await observer.waitForSelector(caret);
  assert.equal(await observer.getAttribute(caret, 'data-name'), 'Rosalind');
  await driver.mouse.move(5, 5);
  await observer.waitForSelector(caret, { state: 'detached' });

  // A state: d starts SYC-DELUSION (the legend shows it running), d again stops it.
  await observer.keyboard.press('d');
  await observer.waitForSelector('.live-behaviour[data-code="SYC-DELUSION"].running');
  await observer.keyboard.press('d');
  await observer.waitForSelector('.live-behaviour[data-code="SYC-DELUSION"]:not(.running)');
  await observer.waitForFunction(() => /to turn 1 character \d+/.test(document.querySelector('li.live-code.mine[data-behaviour="SYC-DELUSION"][data-state="stored"]')?.textContent ?? ''));

  // A network drop: a code made meanwhile waits (in sessionStorage too) and is sent, once, after reconnecting.
  await observerContext.setOffline(true);
  for (const socket of app.app.io.sockets.sockets.values()) {
    if (socket.data.actor?.kind === 'user' && socket.data.actor.id === observerId) socket.conn.close();
  }
  await observer.waitForSelector('[data-live="connection"][data-state="reconnecting"]');
  await observer.keyboard.press('g');
  await observer.waitForSelector('li.live-code.mine[data-behaviour="DEG-GLITCH"][data-state="pending"]');
  assert.match((await observer.textContent('[data-live="connection"]')) ?? '', /Reconnecting — 1 code waiting to send/);
  assert.equal(await observer.evaluate(`JSON.parse(sessionStorage.getItem('menagerie.live.outbox.${sessionId}.${observerId}'))[0].behaviourCode`), 'DEG-GLITCH');
  await observer.waitForSelector('.live-answer-text[data-turn="0"] .live-point.pending');
  await observerContext.setOffline(false);
  await connected(observer);
  await observer.waitForSelector('li.live-code.mine[data-behaviour="DEG-GLITCH"][data-state="stored"]');
  assert.equal(await observer.evaluate(`sessionStorage.getItem('menagerie.live.outbox.${sessionId}.${observerId}')`), null, 'the outbox is empty');

  // A span: select "in Rome" in the answer and press k: the selected text is coded as FAB-FACT.
  const start = REPLY.indexOf('in Rome');
  await observer.evaluate(`(function (s, e) {
    var answer = document.querySelector('.live-answer-text[data-turn="0"]');
    var walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT);
    var at = function (offset) {
      var node, left = offset;
      while ((node = walker.nextNode())) { if (left <= node.data.length) return [node, left]; left -= node.data.length; }
    };
    var a = at(s); walker.currentNode = answer; var b = at(e);
    var range = document.createRange();
    range.setStart(a[0], a[1]); range.setEnd(b[0], b[1]);
    window.getSelection().removeAllRanges(); window.getSelection().addRange(range);
  })(${start}, ${start + 'in Rome'.length})`);
  await observer.keyboard.press('k');
  await observer.waitForFunction(() => /characters \d+–\d+/.test(document.querySelector('li.live-code.mine[data-behaviour="FAB-FACT"][data-state="stored"]:last-child')?.textContent ?? ''));
  assert.match((await observer.textContent('li.live-code.mine:last-child')) ?? '', /“?in Rome”?/);
  await observer.waitForSelector('.live-answer-text[data-turn="0"] mark.live-range.mine');
  assert.equal(await observer.evaluate('window.getSelection().isCollapsed'), true, 'the selection is cleared once coded');

  // Ctrl+Z withdraws it.
  await observer.keyboard.press('Control+z');
  await observer.waitForFunction(() => document.querySelectorAll('li.live-code.mine').length === 3 && !document.querySelector('.live-answer-text[data-turn="0"] mark.live-range'));
  assert.match((await observer.textContent('[data-live="last-code"]')) ?? '', /withdrawn/);

  // The driver sees the observer's codes (the session is not blind).
  await driver.waitForFunction(() => document.querySelectorAll('li.live-code[data-state="others"]').length === 3);
  await driver.waitForSelector('.live-answer-text[data-turn="0"] .live-point:not(.mine)');

  assert.equal(await observer.isVisible('[data-live="summary-link"]'), false, 'no summary while the session is open');

  // The driver ends the session (confirming); both pages show it ended, with the summary link.
  driver.once('dialog', (dialog) => void dialog.accept());
  await Promise.all([driver.waitForURL(roomUrl), driver.click('[data-live="end-panel"] button[type="submit"]')]);
  for (const page of [driver, observer]) {
    await page.waitForFunction(() => document.querySelector('[data-live="session-status"]')?.textContent === 'ended');
    await page.waitForSelector('[data-live="summary-link"]', { state: 'visible' });
  }
  assert.equal(await observer.isDisabled('button.live-behaviour[data-code="FAB-FACT"]'), true, 'no more coding');
  await observer.keyboard.press('k');

  const session = (await findLiveSession(app.deps.db, sessionId))!;
  assert.equal(session.status, 'ended');
  const log = await readLog(app.deps.db, session, null);
  const codes = log.filter((e) => e.type === 'code' && e.actorId === observerId).map((e) => e.payload as StoredPayloads['code']);
  assert.deepEqual(
    codes.map((c) => [c.kind, c.behaviourCode, c.modifiers]),
    [
      ['point', 'FAB-FACT', { severity: 'mild' }],
      ['state_start', 'SYC-DELUSION', {}],
      ['state_stop', 'SYC-DELUSION', {}],
      ['point', 'DEG-GLITCH', {}],
      ['span', 'FAB-FACT', {}],
    ],
  );
  assert.equal(codes[4]!.span!.quote, 'in Rome');
  assert.ok(codes[0]!.at.offset > 0 && codes[0]!.at.offset <= REPLY.length, 'the point is where the stream was');
  const undos = log.filter((e) => e.type === 'undo');
  assert.equal(undos.length, 1);
  assert.equal(log.filter((e) => e.type === 'prompt').length, 1);
  assert.ok(log.some((e) => e.type === 'session.ended'));
  assert.equal(model.requests.length, 1);
  assert.equal(model.requests[0]!.body.temperature, 0.2);

  // The driver (the owner) opens the summary, accepts every code, and files the session as an observation.
  await Promise.all([driver.waitForURL(`${app.url}/live/${sessionId}/summary`), driver.click('[data-live="summary-link"]')]);
  assert.match((await driver.textContent('main')) ?? '', /Oskar Observer/, 'the observer\'s codes are on the summary');
  await driver.check('input[name="rest"][value="accept"]');
  await Promise.all([driver.waitForURL(`${app.url}/live/${sessionId}/summary`), driver.click('button:has-text("Save decisions")')]);
  driver.once('dialog', (dialog) => void dialog.accept());
  await Promise.all([driver.waitForSelector('[data-testid="filed"] a'), driver.click('button:has-text("File as an observation")')]);
  await Promise.all([driver.waitForURL(/\/observations\/[0-9a-f-]{36}$/), driver.click('[data-testid="filed"] a')]);
  const observationId = driver.url().split('/').pop()!;
  const filed = (await findLiveSession(app.deps.db, sessionId))!;
  assert.equal(filed.observationId, observationId);
  assert.match((await driver.textContent('main')) ?? '', /in Rome/, 'the observation shows the transcript');
  const codings = rowsOf<{ coder_id: string; method: string; status: string; code: string }>(
    await app.deps.db.execute(sql`SELECT c.coder_id, c.method, c.status, b.code FROM codings c JOIN behaviours b ON b.id = c.behaviour_id
      WHERE c.observation_id = ${observationId}::uuid ORDER BY c.char_start`),
  );
  // The two points and the state; the span was undone, so it is not filed.
  assert.deepEqual(codings.map((c) => c.code).sort(), ['DEG-GLITCH', 'FAB-FACT', 'SYC-DELUSION']);
  assert.ok(codings.every((c) => c.coder_id === observerId && c.method === 'live' && c.status === 'accepted'));

  const ignore = (e: string) => /Failed to load resource/.test(e);
  assert.deepEqual(driverErrors.filter((e) => !ignore(e)), [], 'no script errors for the driver');
  assert.deepEqual(observerErrors.filter((e) => !ignore(e)), [], 'no script errors for the observer');
  await driverContext.close();
  await observerContext.close();
});

/** Signs a user in through the login form in a new context, landing on `path`. */
async function signedInPage(user: TestUser, path: string): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchPageErrors(page);
  await page.goto(`${app.url}/login?next=${encodeURIComponent(path)}`);
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  await Promise.all([page.waitForURL(`${app.url}${path}`), page.press('#password', 'Enter')]);
  return { page, errors, close: () => context.close() };
}

test('a blind session: Stop, comments, a late joiner, and others\' codes shown only once it ends', options, async () => {
  const first = await makeUser(app, 'researcher', 'Ada');
  const second = await makeUser(app, 'contributor', 'Grace');
  const made = await researcher.api.post('/live-sessions', {
    title: 'Blind probe',
    ethogramVersionId: (await defaultPublishedVersion(app.deps.db))!.id,
    target: { provider: 'openai-compatible', model: 'tiny-chat', baseUrl: model.openaiBaseUrl },
    blind: true,
  });
  assert.equal(made.status, 201, made.text);
  const sessionId: string = made.body.id;
  for (const user of [first, second]) assert.equal((await researcher.api.post(`/live-sessions/${sessionId}/participants`, { email: user.email, role: 'observer' })).status, 201);
  const path = `/live/${sessionId}`;
  model.setReply(Array.from({ length: 200 }, (_, i) => `word${i} `), 40);

  const driver = await signedInPage(researcher, path);
  const ada = await signedInPage(first, path);
  await connected(driver.page);
  await connected(ada.page);
  assert.equal(await ada.page.isVisible('[data-live="show-others"]'), false, 'no "show others" while blind');

  // The driver prompts (with the button), then stops the answer halfway.
  await driver.page.fill('#live-prompt', 'Count slowly.');
  await driver.page.click('[data-live="send"]');
  await ada.page.waitForFunction(() => (document.querySelector('.live-answer-text[data-turn="0"]')?.textContent ?? '').length > 20);
  await ada.page.keyboard.press('k');
  await ada.page.waitForSelector('li.live-code.mine[data-state="stored"]');
  await driver.page.click('[data-live="stop"]');
  for (const page of [driver.page, ada.page]) {
    await page.waitForSelector('.live-answer[data-status="stopped"]');
    assert.match((await page.textContent('.live-answer [data-live="answer-status"]')) ?? '', /stopped/);
  }
  const stoppedText = await answerText(ada.page);
  assert.ok(stoppedText!.length > 0 && stoppedText!.length < 200 * 6, 'the text so far is kept');

  // A late joiner gets the conversation so far and codes it; in a blind session nobody sees the other's code.
  const grace = await signedInPage(second, path);
  await connected(grace.page);
  assert.equal(await answerText(grace.page), stoppedText);
  await grace.page.keyboard.press('y');
  await grace.page.waitForSelector('li.live-code.mine[data-behaviour="DEC-LIE"][data-state="stored"]');
  assert.equal(await grace.page.locator('li.live-code').count(), 1);
  assert.equal(await ada.page.locator('li.live-code').count(), 1);

  // Comments reach everyone.
  await grace.page.fill('#live-comment', 'It stopped at a good place.');
  await grace.page.press('#live-comment', 'Enter');
  for (const page of [driver.page, ada.page, grace.page]) {
    await page.waitForFunction(() => /It stopped at a good place\./.test(document.querySelector('[data-live="comments"]')?.textContent ?? ''));
  }
  assert.match((await driver.page.textContent('[data-live="comments"] li')) ?? '', /^Grace/);

  // The end reveals everyone's codes to everyone.
  driver.page.once('dialog', (dialog) => void dialog.accept());
  await Promise.all([driver.page.waitForURL(`${app.url}${path}`), driver.page.click('[data-live="end-panel"] button[type="submit"]')]);
  await ada.page.waitForFunction(() => document.querySelectorAll('li.live-code').length === 2);
  await grace.page.waitForFunction(() => document.querySelectorAll('li.live-code').length === 2);
  assert.equal(await ada.page.isVisible('[data-live="show-others"]'), true);
  assert.match((await ada.page.textContent('li.live-code[data-state="others"]')) ?? '', /DEC-LIE.*by Grace/);

  const ignore = (e: string) => /Failed to load resource/.test(e);
  for (const who of [driver, ada, grace]) {
    assert.deepEqual(who.errors.filter((e) => !ignore(e)), []);
    await who.close();
  }
});
