import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { UserActor } from '../../accounts/actor.ts';
import { rowsOf } from '../../core/db.ts';
import { defaultPublishedVersion } from '../../ethograms/behaviour.queries.ts';
import { readLog, findLiveSession } from '../../live/live-session.queries.ts';
import { makeActors, makeUser, signedInWeb, WebClient, type TestUser } from '../support/clients.ts';
import { startFakeChatServer, type FakeChatServer } from '../support/fake-chat-server.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * The live session pages as each actor sees them: the list, the new-session form (errors next to fields, input
 * kept), the room (a read-only rendering of the session so far, the legend, the owner's invitations and
 * participants, End session), and joining by an invitation link. The live part (sockets) is tested in
 * test/realtime and test/browser.
 */

let app: TestApp;
let model: FakeChatServer;
let actors: Awaited<ReturnType<typeof makeActors>>;
let versionId: string;
let researcherWeb: WebClient;

before(async () => {
  model = await startFakeChatServer({ delayMs: 1, tokens: ['The ', 'answer ', 'is ', '<42>.'] });
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  versionId = (await defaultPublishedVersion(app.deps.db))!.id;
  researcherWeb = await signedInWeb(app, actors.researcher);
});
after(async () => {
  await app.close();
  await model.close();
});

/** CSP: no inline scripts and no style attributes. */
function assertNoInlineCode(html: string): void {
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /src="\/assets\/app\.js"/, `inline script: ${tag}`);
  assert.ok(!/\sstyle=/i.test(html), 'no style attributes');
}

const sessionCount = async () => rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM live_sessions`))[0]!.n;

/** The fields of a valid new-session form pointing at the fake model server. */
const validForm = (title = 'Flattery probe') => ({
  title,
  ethogramVersionId: versionId,
  provider: 'openai-compatible',
  model: 'tiny-chat',
  baseUrl: model.openaiBaseUrl,
  apiKeyEnv: '',
  systemPrompt: 'Be brief.\r\nAnswer plainly.',
  temperature: '0.3',
  topP: '',
  maxTokens: '256',
  seed: '7',
  blind: 'on',
});

/** A session made through the form by the researcher; returns its id. */
async function createThroughForm(title?: string): Promise<string> {
  await researcherWeb.get('/live/new');
  const res = await researcherWeb.form('/live', validForm(title));
  assert.equal(res.status, 303, res.text.slice(0, 800));
  const match = /^\/live\/([0-9a-f-]{36})$/.exec(res.headers.get('location') ?? '');
  assert.ok(match, `redirected to the room: ${res.headers.get('location')}`);
  return match[1]!;
}

/** Makes an invitation link as the researcher (the owner) through the room's form; returns its token. */
async function inviteToken(sessionId: string, role: string): Promise<string> {
  await researcherWeb.get(`/live/${sessionId}`);
  const res = await researcherWeb.form(`/live/${sessionId}/invites`, { role });
  assert.equal(res.status, 201, res.text.slice(0, 500));
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const link = /id="invite-link" class="mono" readonly value="([^"]+)"/.exec(res.text)?.[1];
  assert.ok(link, 'the new link is shown');
  return new URL(link).pathname.split('/').pop()!;
}

const actorOf = (user: TestUser): UserActor => ({ kind: 'user', id: user.id, role: user.role, email: user.email, displayName: user.displayName, via: 'session' });

describe('who may see the live pages', () => {
  test('anonymous visitors are sent to sign in, with the way back', async () => {
    const anon = new WebClient(app.url);
    for (const path of ['/live', '/live/new', `/live/${randomUUID()}`, '/live/join/abcdefghijklmnop']) {
      const res = await anon.get(path);
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get('location'), `/login?next=${encodeURIComponent(path)}`, path);
    }
    const post = await anon.form('/live', validForm());
    assert.equal(post.status, 401);
  });

  test('contributors see their sessions and the nav link, but cannot create one', async () => {
    const web = await signedInWeb(app, actors.contributor);
    const list = await web.get('/live');
    assert.equal(list.status, 200);
    assert.match(list.text, /<a href="\/live" aria-current="page">Live<\/a>/);
    assert.ok(!list.text.includes('href="/live/new"'), 'no "New session" link');
    assert.equal((await web.get('/live/new')).status, 403);
    const before = await sessionCount();
    const post = await web.form('/live', validForm());
    assert.equal(post.status, 403);
    assert.equal(await sessionCount(), before);
    assertNoInlineCode(list.text);
  });
});

describe('the new-session form', () => {
  test('offers published versions with the starter preselected, the providers, and explains the key variable', async () => {
    const res = await researcherWeb.get('/live/new');
    assert.equal(res.status, 200);
    assert.match(res.text, new RegExp(`<option value="${versionId}" selected>`));
    for (const p of ['openai', 'anthropic', 'openai-compatible']) assert.ok(res.text.includes(`<option value="${p}"`), p);
    assert.match(res.text, /The <strong>name<\/strong> of an environment variable set on the server/);
    assert.match(res.text, /id="l-maxTokens" name="maxTokens" value="1024"/);
    assert.match(res.text, /<input id="l-blind" type="checkbox" name="blind" value="on" +aria-describedby/);
    assertNoInlineCode(res.text);
  });

  test('a researcher opens a session: redirected to the room, stored with the target as typed', async () => {
    const id = await createThroughForm('Flattery probe');
    const session = (await findLiveSession(app.deps.db, id))!;
    assert.equal(session.title, 'Flattery probe');
    assert.equal(session.blind, true);
    assert.equal(session.createdBy, actors.researcher.id);
    assert.deepEqual(
      { provider: session.target.provider, model: session.target.model, baseUrl: session.target.baseUrl, apiKeyEnv: session.target.apiKeyEnv, systemPrompt: session.target.systemPrompt, temperature: session.target.temperature, topP: session.target.topP, maxTokens: session.target.maxTokens, seed: session.target.seed },
      { provider: 'openai-compatible', model: 'tiny-chat', baseUrl: model.openaiBaseUrl, apiKeyEnv: null, systemPrompt: 'Be brief.\nAnswer plainly.', temperature: 0.3, topP: null, maxTokens: 256, seed: 7 },
    );
    const room = await researcherWeb.get(`/live/${id}`);
    assert.equal(room.status, 200);
    assert.ok(room.text.includes('<h1>Flattery probe</h1>'));
    assert.ok(room.text.includes('Session opened: you are its driver.'), 'the flash');
    assert.match(room.text, /data-enhance="live-room" data-session-id="[0-9a-f-]{36}" data-user-id="[0-9a-f-]{36}" data-role="driver" data-owner="true"/);
    assert.ok(room.text.includes('data-can-prompt="true"'));
    assert.ok(room.text.includes('data-live="prompt-form"'), 'the driver gets the prompt box');
    assert.ok(!room.text.includes('data-live="coding"'), 'a driver does not code');
    assert.match(room.text, /<span class="live-behaviour" data-code="REF-FULL" data-hotkey="r" data-kind="event">/, 'the legend, with hotkeys');
    assert.ok(room.text.includes('action="/live/' + id + '/invites"'), 'the owner can invite');
    assert.ok(room.text.includes('action="/live/' + id + '/end"'), 'and end the session');
    assert.ok(room.text.includes('No prompt yet.'));
    assert.ok(room.text.includes('Blind session: you see only your own codes until it ends.'));
    assertNoInlineCode(room.text);
    const list = await researcherWeb.get('/live');
    assert.match(list.text, new RegExp(`<a href="/live/${id}"><strong>Flattery probe</strong></a> <span class="badge">blind</span>`));
    assert.ok(list.text.includes('href="/live/new"'), 'researchers get "New session"');
  });

  test('a form with mistakes is shown again with each error next to its field and everything typed kept', async () => {
    const before = await sessionCount();
    await researcherWeb.get('/live/new');
    const res = await researcherWeb.form('/live', {
      ...validForm(''),
      provider: 'openai',
      baseUrl: '',
      apiKeyEnv: 'sk-proj-0123456789abcdefghijklmnopqrstuv',
      temperature: '5',
      maxTokens: 'lots',
      systemPrompt: 'Keep <this> & that',
    });
    assert.equal(res.status, 422);
    assert.match(res.text, /role="alert"/);
    assert.match(res.text, /id="l-title-error">give the session a title</);
    assert.match(res.text, /id="l-apiKeyEnv-error">apiKeyEnv names the environment variable that holds the key/);
    assert.match(res.text, /id="l-temperature-error">temperature must be a number between 0 and 2/);
    assert.match(res.text, /id="l-maxTokens-error">maxTokens must be a whole number/);
    assert.match(res.text, /id="l-temperature" name="temperature" value="5"/);
    assert.match(res.text, /id="l-maxTokens" name="maxTokens" value="lots"/);
    assert.match(res.text, /id="l-seed" name="seed" value="7"/);
    assert.match(res.text, /id="l-model" name="model" value="tiny-chat"/);
    assert.match(res.text, /id="l-apiKeyEnv" name="apiKeyEnv" value="sk-proj-0123456789abcdefghijklmnopqrstuv"/);
    assert.ok(res.text.includes('>Keep &lt;this&gt; &amp; that</textarea>'));
    assert.match(res.text, /<option value="openai" selected>/);
    assert.match(res.text, /name="blind" value="on" checked/);
    assert.match(res.text, /id="l-temperature" [^>]*aria-invalid="true"/);
    assert.equal(await sessionCount(), before, 'nothing stored');

    const compatible = await researcherWeb.form('/live', { ...validForm('No URL'), baseUrl: '' });
    assert.equal(compatible.status, 422);
    assert.match(compatible.text, /id="l-baseUrl-error">an OpenAI-compatible server needs its baseUrl/);
    assert.equal(await sessionCount(), before);
  });
});

describe('the room', () => {
  test('an invitation link: a person signs in, sees what they are joining, joins as its role', async () => {
    const id = await createThroughForm('Invite test');
    const token = await inviteToken(id, 'observer');
    const joiner = await makeUser(app, 'contributor', 'joiner');

    const anon = await new WebClient(app.url).get(`/live/join/${token}`);
    assert.equal(anon.status, 303);
    assert.equal(anon.headers.get('location'), `/login?next=${encodeURIComponent(`/live/join/${token}`)}`);

    const web = await signedInWeb(app, joiner);
    assert.equal((await web.get(`/live/${id}`)).status, 403, 'not in it before joining');
    const page = await web.get(`/live/join/${token}`);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes('Join “Invite test”'));
    assert.ok(page.text.includes('observer (codes)'));
    assert.ok(page.text.includes('<button type="submit" class="primary">Join as observer</button>'));
    assertNoInlineCode(page.text);
    const joined = await web.form(`/live/join/${token}`, {});
    assert.equal(joined.status, 303);
    assert.equal(joined.headers.get('location'), `/live/${id}`);
    const room = await web.get(`/live/${id}`);
    assert.equal(room.status, 200);
    assert.ok(room.text.includes('You joined as observer.'));
    assert.ok(room.text.includes('data-role="observer"'));
    assert.ok(room.text.includes('data-can-code="true"'));
    assert.match(room.text, /<button type="button" class="live-behaviour" data-code="REF-FULL" data-hotkey="r" data-kind="event" disabled>/, 'observers get coding buttons');
    assert.match(room.text, /data-modifier-set="severity" data-modifier-value="mild" data-digit="1" aria-pressed="false" disabled><kbd>Shift\+1<\/kbd> mild/, 'digits are hotkeys in the starter: modifiers take Shift');
    assert.ok(!room.text.includes(`action="/live/${id}/invites"`), 'only the owner invites');
    assert.ok(!room.text.includes(`action="/live/${id}/end"`), 'observers do not end sessions');
    const again = await web.get(`/live/join/${token}`);
    assert.ok(again.text.includes('You are already in this session as observer (codes).'));
    const log = await readLog(app.deps.db, (await findLiveSession(app.deps.db, id))!, actors.researcher.id);
    assert.ok(log.some((e) => e.type === 'participant.added' && (e.payload as { userId: string }).userId === joiner.id));
    assert.match((await web.get('/live')).text, new RegExp(`<a href="/live/${id}"><strong>Invite test</strong></a>[\\s\\S]*?<td>observer</td>`));

    // Revoked: the link no longer works, and the owner's list no longer shows it.
    const owner = await researcherWeb.get(`/live/${id}`);
    const inviteId = /<li data-invite-id="([0-9a-f-]{36})">/.exec(owner.text)?.[1];
    assert.ok(inviteId, 'the active link is listed');
    const revoked = await researcherWeb.form(`/live/${id}/invites/${inviteId}/revoke`, {});
    assert.equal(revoked.status, 303);
    assert.equal((await (await signedInWeb(app, actors.admin)).get(`/live/join/${token}`)).status, 404);
    assert.ok(!(await researcherWeb.get(`/live/${id}`)).text.includes(`data-invite-id="${inviteId}"`));
  });

  test('the owner adds someone by email and removes them; a removed person gets 403; mistakes stay in the form', async () => {
    const id = await createThroughForm('Roster test');
    const viewer = await makeUser(app, 'researcher', 'watcher');
    await researcherWeb.get(`/live/${id}`);
    const unknown = await researcherWeb.form(`/live/${id}/participants`, { email: 'nobody@example.org', role: 'viewer' });
    assert.equal(unknown.status, 422);
    assert.match(unknown.text, /id="add-email-error">no account with this email</);
    assert.match(unknown.text, /id="add-email" name="email" type="email" value="nobody@example.org"/);
    assert.match(unknown.text, /<option value="viewer" selected>viewer \(watches and comments\)<\/option>/);

    const added = await researcherWeb.form(`/live/${id}/participants`, { email: viewer.email, role: 'viewer' });
    assert.equal(added.status, 303);
    const web = await signedInWeb(app, viewer);
    const asViewer = await web.get(`/live/${id}`);
    assert.equal(asViewer.status, 200);
    assert.ok(asViewer.text.includes('data-role="viewer"'));
    assert.ok(asViewer.text.includes('data-live="comment-form"'), 'viewers comment');
    assert.ok(!asViewer.text.includes('data-live="prompt-form"'));

    const room = await researcherWeb.get(`/live/${id}`);
    assert.match(room.text, new RegExp(`<li data-user-id="${viewer.id}">[\\s\\S]*?action="/live/${id}/participants/${viewer.id}/remove"`));
    assert.ok(!room.text.includes(`/participants/${actors.researcher.id}/remove`), 'the owner cannot be removed');
    const removed = await researcherWeb.form(`/live/${id}/participants/${viewer.id}/remove`, {});
    assert.equal(removed.status, 303);
    assert.ok((await researcherWeb.get(`/live/${id}`)).text.includes('watcher was removed from the session.'));
    const after = await web.get(`/live/${id}`);
    assert.equal(after.status, 403);
    assert.ok(after.text.includes('You are not a participant of this live session'));
    // Someone else cannot manage the session's roster.
    assert.equal((await web.form(`/live/${id}/participants`, { email: viewer.email, role: 'driver' })).status, 403);
  });

  test('a non-participant gets 403; an admin may look in; an unknown session is 404', async () => {
    const id = await createThroughForm('Private');
    const outsider = await makeUser(app, 'researcher', 'outsider');
    const res = await (await signedInWeb(app, outsider)).get(`/live/${id}`);
    assert.equal(res.status, 403);
    assert.ok(!res.text.includes('data-enhance="live-room"'));
    const admin = await (await signedInWeb(app, actors.admin)).get(`/live/${id}`);
    assert.equal(admin.status, 200);
    assert.ok(admin.text.includes('data-role="none"'));
    assert.ok(admin.text.includes(`action="/live/${id}/invites"`), 'admins manage any session');
    assert.equal((await researcherWeb.get(`/live/${randomUUID()}`)).status, 404);
    assert.equal((await researcherWeb.get('/live/not-an-id')).status, 404);
    assert.ok((await (await signedInWeb(app, actors.admin)).get('/live')).text.includes(`href="/live/${id}"`), 'admins list every session');
  });

  test('the conversation so far is rendered on the page; End session ends it and links the summary', async () => {
    await researcherWeb.get('/live/new');
    const made = await researcherWeb.form('/live', { ...validForm('Rendered'), blind: '' });
    const id = /\/live\/(.+)$/.exec(made.headers.get('location')!)![1]!;
    const observer = await makeUser(app, 'researcher', 'coder');
    await researcherWeb.form(`/live/${id}/participants`, { email: observer.email, role: 'observer' });
    const runtime = app.app.live;
    await runtime.submit(actorOf(actors.researcher), { type: 'prompt', sessionId: id, id: randomUUID(), text: 'What is <the> answer?' });
    const session = (await findLiveSession(app.deps.db, id))!;
    for (let i = 0; i < 500 && !(await readLog(app.deps.db, session, null)).some((e) => e.type === 'answer.ended'); i++) await new Promise((r) => setTimeout(r, 20));
    await runtime.submit(actorOf(observer), { type: 'code', sessionId: id, id: randomUUID(), behaviourCode: 'FAB-FACT', at: { turn: 0, offset: 7 }, modifiers: { severity: 'mild' }, rationale: '' });
    await runtime.submit(actorOf(observer), { type: 'comment', sessionId: id, id: randomUUID(), text: 'Odd <answer>' });

    const web = await signedInWeb(app, observer);
    const room = await web.get(`/live/${id}`);
    assert.equal(room.status, 200);
    assert.ok(room.text.includes('What is &lt;the&gt; answer?'), 'the prompt, escaped');
    assert.ok(room.text.includes('<div class="live-text live-answer-text" data-turn="0">The answer is &lt;42&gt;.</div>'), 'the answer');
    assert.match(room.text, /data-live="answer-status">complete</);
    assert.match(room.text, /<li class="live-code mine" data-code-id="[^"]+"><span class="swatch" data-colour="#[0-9a-f]{6}"><\/span><strong class="mono">FAB-FACT<\/strong>[^<]*<span class="muted">\(point\) by coder, turn 1, at character 7<\/span> <small>\[severity: mild\]<\/small>/i);
    assert.ok(room.text.includes('<strong>coder</strong>'), 'the comment, by its author');
    assert.ok(room.text.includes('Odd &lt;answer&gt;'));
    assert.ok(room.text.includes('Be brief.'), 'the system prompt');
    assertNoInlineCode(room.text);

    // Only the owner or the driver ends it.
    assert.equal((await web.form(`/live/${id}/end`, {})).status, 403);
    await researcherWeb.get(`/live/${id}`);
    const ended = await researcherWeb.form(`/live/${id}/end`, {});
    assert.equal(ended.status, 303);
    const after = await researcherWeb.get(`/live/${id}`);
    assert.match(after.text, /data-live="session-status">ended</);
    assert.match(after.text, /<p class="live-after" data-live="after" >/);
    assert.ok(after.text.includes(`href="/live/${id}/summary"`), 'the summary link once ended');
    assert.ok(!after.text.includes(`action="/live/${id}/end"`), 'no End button any more');
    assert.ok(!after.text.includes(`action="/live/${id}/invites"`), 'no invitations to an ended session');
    const again = await researcherWeb.form(`/live/${id}/end`, {});
    assert.equal(again.status, 303, 'ending twice says so on the page');
    assert.ok((await researcherWeb.get(`/live/${id}`)).text.includes('This session has ended'));
    assert.match((await researcherWeb.get('/live')).text, new RegExp(`href="/live/${id}/summary">summary</a>`));
  });
});
