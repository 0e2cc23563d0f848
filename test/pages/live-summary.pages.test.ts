// @long: one of the slowest files (6-35 s); the runner starts these first, so a pass does not end waiting on one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { defaultPublishedVersion } from '../../ethograms/behaviour.queries.ts';
import { makeActors, makeUser, signedInWeb, WebClient, type TestUser } from '../support/clients.ts';
import { startFakeChatServer, type FakeChatServer } from '../support/fake-chat-server.ts';
import { joined, openLiveSession, promptAndWait, standardSession, STANDARD_TOKENS, type LiveClient, type StandardSession } from '../support/live-clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/**
 * The end-of-session pages: the summary (the conversation with each observer's codes, their tables, the
 * agreement with its chart, the comments, adjudication and filing for the owner) and the event log, as each
 * actor sees them, and the blind rule while a session is open. HTML is read with small targeted patterns.
 */

let app: TestApp;
let model: FakeChatServer;
let actors: Awaited<ReturnType<typeof makeActors>>;
let owner: TestUser;
let ann: TestUser;
let bob: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let versionId: string;
let ownerWeb: WebClient;
let viewerWeb: WebClient;
const clients: LiveClient[] = [];

before(async () => {
  model = await startFakeChatServer({ delayMs: 1, tokens: STANDARD_TOKENS });
  // Room for the pagination test's burst of comments.
  app = await startTestApp({ loadStarter: true, config: { liveEventsPerSecond: 1000, liveEventBurst: 1000 } });
  actors = await makeActors(app);
  owner = actors.researcher;
  ann = await makeUser(app, 'researcher', 'ann');
  bob = await makeUser(app, 'researcher', 'bob');
  viewer = actors.contributor;
  outsider = await makeUser(app, 'researcher', 'outsider');
  versionId = (await defaultPublishedVersion(app.deps.db))!.id;
  ownerWeb = await signedInWeb(app, owner);
  viewerWeb = await signedInWeb(app, viewer);
});
after(async () => {
  for (const c of clients) c.close();
  await app.close();
  await model.close();
});

const people = () => ({ owner, ann, bob, viewer });

/** CSP: no inline scripts and no style attributes. */
function assertNoInlineCode(html: string): void {
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /src="\/assets\/app\.js"/, `inline script: ${tag}`);
  assert.ok(!/\sstyle=/i.test(html), 'no style attributes');
}

/** The HTML between an element's opening tag (matched by `open`) and the first `close` after it. */
function section(html: string, open: RegExp, close: string): string {
  const m = open.exec(html);
  assert.ok(m, `found ${open}`);
  const end = html.indexOf(close, m.index);
  assert.ok(end > m.index, `found ${close} after ${open}`);
  return html.slice(m.index, end);
}

/** The text of a table row (tags dropped, whitespace collapsed). */
const textOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&#x3D;/g, '=').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();

/** The `<tr>` of the agreement table for a behaviour code. */
const agreementRow = (html: string, code: string) => textOf(section(html, new RegExp(`<tr data-behaviour="${code}">`), '</tr>'));

const flashOf = (html: string) => textOf(/<p class="flash" role="status">([^<]*)<\/p>/.exec(html)?.[1] ?? '');

describe('who may see the summary and the log', () => {
  let s: StandardSession;
  before(async () => {
    s = await standardSession(app.url, people(), { versionId, baseUrl: model.openaiBaseUrl, title: 'Access probe' });
  });

  test('anonymous visitors are sent to sign in; people outside the session get 403 with a message; unknown ids 404', async () => {
    const anon = new WebClient(app.url);
    for (const path of [`/live/${s.id}/summary`, `/live/${s.id}/log`]) {
      const res = await anon.get(path);
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get('location'), `/login?next=${encodeURIComponent(path)}`);
    }
    assert.equal((await anon.form(`/live/${s.id}/file`, {})).status, 401);
    const stranger = await signedInWeb(app, outsider);
    for (const path of [`/live/${s.id}/summary`, `/live/${s.id}/log`]) {
      const res = await stranger.get(path);
      assert.equal(res.status, 403, path);
      assert.match(res.text, /You are not a participant of this live session/);
      assert.ok(!res.text.includes('FAB-FACT'), 'nothing of the session is shown');
    }
    assert.equal((await ownerWeb.get(`/live/${randomUUID()}/summary`)).status, 404);
  });

  test('a form post without the CSRF token is refused and changes nothing', async () => {
    await ownerWeb.get(`/live/${s.id}/summary`);
    const res = await ownerWeb.form(`/live/${s.id}/file`, { _csrf: 'forged' });
    assert.equal(res.status, 403);
    assert.match(res.text, /This form has expired or did not come from this site/);
    const row = rowsOf<{ status: string }>(await app.deps.db.execute(sql`SELECT status FROM live_sessions WHERE id = ${s.id}::uuid`))[0]!;
    assert.equal(row.status, 'ended');
  });
});

describe('the summary of an ended session', () => {
  let s: StandardSession;
  before(async () => {
    s = await standardSession(app.url, people(), { versionId, baseUrl: model.openaiBaseUrl, title: 'Summary probe' });
  });

  test('shows the answer with each observer\'s codes, one lane per observer, and each observer\'s table', async () => {
    const res = await viewerWeb.get(`/live/${s.id}/summary`);
    assert.equal(res.status, 200, res.text.slice(0, 500));
    const html = res.text;
    assertNoInlineCode(html);
    assert.match(html, /<h1>Summary: Summary probe<\/h1>/);
    assert.ok(html.includes('data-enhance="coding-colours"'));

    // The answer text, with the coded stretches marked and labelled with the coder.
    const answer = section(html, /<div class="part-text live-summary-answer" data-turn="0">/, '</div>');
    assert.equal(textOf(answer).replace(/\s/g, ''), 'Cats are great. They purr. Dogs bark loudly.'.replace(/\s/g, ''));
    assert.ok(answer.includes(`<mark class="coded" data-coding-ids="${s.codes.bobSpan}" data-colour="#d35400" title="FAB-FACT (span) by bob">Cats are </mark>`), answer.slice(0, 400));
    // Ann's point marks the last character that had arrived (offset 10: the "g"), inside Bob's span.
    assert.ok(answer.includes(`<mark class="coded overlap" data-coding-ids="${s.codes.annPoint} ${s.codes.bobSpan}" data-colour="#f06292" title="SYC-FLATTER (point) by ann; FAB-FACT (span) by bob">g</mark>`));
    assert.match(answer, /title="[^"]*LNG-SWITCH \(state, closed by the end\) by ann[^"]*"/);

    // One lane per observer under the answer; points, spans and states drawn as their shapes, with their codes as text.
    const lanes = section(html, /<svg class="lane-chart"/, '</svg>');
    const annLane = section(lanes, /<g class="lane" data-observer="ann">/, '</g>\n    </g>');
    const bobLane = section(lanes, /<g class="lane" data-observer="bob">/, '</g>\n    </g>');
    assert.match(annLane, /class="lane-count"[^>]*>3 codes</);
    assert.match(bobLane, /class="lane-count"[^>]*>2 codes</);
    assert.match(annLane, /<g class="lane-mark lane-point"><title>SYC-FLATTER [^<]*by ann, answer 1, at character 10<\/title><path d="M/);
    assert.match(annLane, /<g class="lane-mark lane-state auto-closed">/);
    assert.match(annLane, /class="lane-closed"/);
    assert.match(annLane, /LNG-SWITCH ⇥ closed by the end/);
    assert.match(annLane, /<g class="lane-mark lane-span"><title>FAB-FACT [^<]*by ann, answer 1, characters 27–44</);
    assert.ok(!bobLane.includes('LNG-SWITCH'), 'Bob\'s lane holds only Bob\'s codes');
    assert.match(bobLane, /FAB-FACT [^<]*by bob, answer 1, characters 0–15/);

    // The per-observer tables.
    const annTable = section(html, /<table class="live-observer-codes" data-observer="ann">/, '</table>');
    const bobTable = section(html, /<table class="live-observer-codes" data-observer="bob">/, '</table>');
    assert.match(textOf(annTable), /ann : 3 codes/);
    assert.ok(annTable.includes(`id="coding-${s.codes.annState}"`) && annTable.includes(`id="coding-${s.codes.annSpan}"`) && annTable.includes(`id="coding-${s.codes.annPoint}"`));
    assert.ok(!annTable.includes(s.codes.bobSpan), 'Bob\'s codes are not in Ann\'s table');
    assert.match(annTable, /closed by the end<\/span>/);
    assert.match(textOf(annTable), /FAB-FACT .* span answer 1, characters 27–44 “?Dogs bark loudly\./);
    assert.ok(bobTable.includes(`id="coding-${s.codes.bobSpan}"`) && bobTable.includes(`id="coding-${s.codes.bobPoint}"`));
    assert.match(textOf(bobTable), /not adjudicated/);

    // The comment, and the way to the log.
    assert.ok(html.includes(s.comment));
    assert.ok(html.includes(`href="/live/${s.id}/log"`));
  });

  test('shows the agreement figures in a table and as a chart, pairwise kappa with its reasons, point matching', async () => {
    const html = (await viewerWeb.get(`/live/${s.id}/summary`)).text;
    const pooled = agreementRow(html, 'All');
    assert.match(pooled, /All behaviours pooled 9 /);
    assert.match(pooled, /55\.6%/);
    const flatter = agreementRow(html, 'SYC-FLATTER');
    assert.match(flatter, /100\.0% .*1\.000/);
    assert.match(flatter, /ann × bob: 1\.000 \(almost perfect\), n = 3/);
    const fab = agreementRow(html, 'FAB-FACT');
    assert.match(fab, /ann: 1 bob: 1/);
    assert.match(fab, /33\.3% .*-0\.500/);
    const lng = agreementRow(html, 'LNG-SWITCH');
    assert.match(lng, /ann: 2 bob: 0/);

    // The chart: a bar (with its value as text) per figure, pooled first.
    const chart = section(html, /<svg class="bar-chart"/, '</svg>');
    assert.match(chart, /<text class="row-label"[^>]*><title>All behaviours pooled<\/title>All \(pooled\)<\/text>/);
    assert.match(chart, /<text class="row-label"[^>]*><title>[^<]*<\/title>FAB-FACT<\/text>/);
    assert.match(chart, /<rect class="bar bar-fleiss"[^>]*><title>Fleiss&#x27; kappa -0\.500 \(n &#x3D; 3 segments\)/);
    assert.match(chart, /<text class="bar-value"[^>]*>κ 1\.00<\/text>/);
    // The pairwise heat map and its table.
    assert.match(html, /<svg class="heat-map"/);
    assert.match(section(html, /<table class="agreement-table cohen-matrix">/, '</table>'), /ann/);
    // Point matching: the two SYC-FLATTER presses 2 characters apart match.
    const points = textOf(section(html, /<table class="agreement-table live-point-matching">/, '</table>'));
    assert.match(points, /SYC-FLATTER 1 0 0 100\.0%/);
  });

  test('says why a figure is undefined, in words', async () => {
    // One observer only: every figure is undefined, with the reason.
    const solo = await openLiveSession(owner, { versionId, baseUrl: model.openaiBaseUrl, title: 'Solo', people: [[ann, 'observer']] });
    const driver = await joined(app.url, owner, solo);
    const annClient = await joined(app.url, ann, solo);
    clients.push(driver, annClient);
    await promptAndWait(driver, solo, 'Hi');
    await annClient.sendOk({ sessionId: solo, type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 0, offset: 4 } });
    assert.equal((await owner.api.post(`/live-sessions/${solo}/end`)).status, 200);
    const html = (await ownerWeb.get(`/live/${solo}/summary`)).text;
    assert.match(html, /data-testid="agreement-too-few">Agreement needs at least two observers who coded; this session had 1\./);
    assert.match(agreementRow(html, 'SYC-FLATTER'), /undefined Agreement needs at least two observers/);
    assert.ok(!html.includes('<svg class="bar-chart"'), 'no chart of undefined figures');
  });

  test('viewers and observers get no adjudication form and no file button', async () => {
    for (const web of [viewerWeb, await signedInWeb(app, ann)]) {
      const html = (await web.get(`/live/${s.id}/summary`)).text;
      assert.ok(!html.includes(`action="/live/${s.id}/adjudication"`));
      assert.ok(!html.includes(`action="/live/${s.id}/file"`));
      assert.ok(!html.includes('name="d_'));
    }
    const annWeb = await signedInWeb(app, ann);
    await annWeb.get(`/live/${s.id}/summary`);
    const res = await annWeb.form(`/live/${s.id}/adjudication`, { [`d_${s.codes.bobSpan}`]: 'reject' });
    assert.equal(res.status, 403);
    assert.match(res.text, /Only the session(&#x27;|')s owner or an admin can adjudicate its codes/);
    assert.ok(!/at \S+\.ts:\d+/.test(res.text), 'no stack trace');
    const file = await annWeb.form(`/live/${s.id}/file`, {});
    assert.equal(file.status, 403);
    assert.match(file.text, /Only the session(&#x27;|')s owner or an admin can file it as an observation/);
  });
});

describe('adjudication and filing through the page', () => {
  let s: StandardSession;
  before(async () => {
    s = await standardSession(app.url, people(), { versionId, baseUrl: model.openaiBaseUrl, title: 'Adjudication probe' });
  });

  const decisionRadios = (html: string, id: string) => section(html, new RegExp(`<tr data-code-id="${id}">`), '</tr>');

  test('the owner\'s form offers accept and reject for every code; posting changes the decision', async () => {
    const before = (await ownerWeb.get(`/live/${s.id}/summary`)).text;
    const form = section(before, new RegExp(`<form method="post" action="/live/${s.id}/adjudication"`), '</form>');
    assert.match(form, /name="_csrf" value="[^"]+"/);
    for (const id of Object.values(s.codes)) {
      const row = decisionRadios(form, id);
      assert.match(row, new RegExp(`<input type="radio" name="d_${id}" value="accept">`));
      assert.match(row, new RegExp(`<input type="radio" name="d_${id}" value="reject">`));
      assert.match(row, new RegExp(`<input type="radio" name="d_${id}" value="" checked> Not decided`));
      assert.match(row, /<legend class="visually-hidden">Decision on /);
    }

    const res = await ownerWeb.form(`/live/${s.id}/adjudication`, { [`d_${s.codes.annSpan}`]: 'reject', [`d_${s.codes.bobPoint}`]: 'accept', [`d_${s.codes.bobSpan}`]: '', rest: '' });
    assert.equal(res.status, 303, res.text.slice(0, 300));
    assert.equal(res.headers.get('location'), `/live/${s.id}/summary#adjudication`);
    const after = (await ownerWeb.get(`/live/${s.id}/summary`)).text;
    assert.equal(flashOf(after), 'Saved 2 decisions: 1 accepted, 1 rejected.');
    assert.match(decisionRadios(after, s.codes.annSpan), new RegExp(`name="d_${s.codes.annSpan}" value="reject" checked>`));
    assert.ok(!decisionRadios(after, s.codes.annSpan).includes('Not decided'));
    assert.match(decisionRadios(after, s.codes.bobPoint), new RegExp(`name="d_${s.codes.bobPoint}" value="accept" checked>`));
    assert.match(decisionRadios(after, s.codes.bobSpan), /value="" checked> Not decided/);
    assert.match(textOf(section(after, new RegExp(`<tr id="coding-${s.codes.annSpan}"`), '</tr>')), /rejected by researcher/);
    const stored = await owner.api.get(`/live-sessions/${s.id}/summary`);
    assert.deepEqual(stored.body.decisions.map((d: { eventId: string; decision: string }) => [d.eventId, d.decision]), [[s.codes.annSpan, 'reject'], [s.codes.bobPoint, 'accept']]);

    // The same choices again store nothing; a change of mind is stored.
    await ownerWeb.form(`/live/${s.id}/adjudication`, { [`d_${s.codes.annSpan}`]: 'reject', [`d_${s.codes.bobPoint}`]: 'accept' });
    assert.equal(flashOf((await ownerWeb.get(`/live/${s.id}/summary`)).text), 'Nothing to save: no decision changed.');
    await ownerWeb.form(`/live/${s.id}/adjudication`, { [`d_${s.codes.annSpan}`]: 'accept' });
    assert.match(decisionRadios((await ownerWeb.get(`/live/${s.id}/summary`)).text, s.codes.annSpan), /value="accept" checked>/);

    // "Accept them all" decides the codes still undecided, and only those.
    await ownerWeb.form(`/live/${s.id}/adjudication`, { [`d_${s.codes.annSpan}`]: 'reject', rest: 'accept' });
    const all = await owner.api.get(`/live-sessions/${s.id}/summary`);
    const decided = new Map<string, string>(all.body.decisions.map((d: { eventId: string; decision: string }) => [d.eventId, d.decision]));
    assert.equal(decided.size, 5);
    assert.equal(decided.get(s.codes.annSpan), 'reject');
    assert.equal(decided.get(s.codes.annState), 'accept');
    assert.equal(decided.get(s.codes.bobSpan), 'accept');
  });

  test('a decision that names no code comes back as a message, not an error page', async () => {
    await ownerWeb.get(`/live/${s.id}/summary`);
    const res = await ownerWeb.form(`/live/${s.id}/adjudication`, { d_not_a_code_123: 'accept' });
    assert.equal(res.status, 303);
    const html = (await ownerWeb.get(`/live/${s.id}/summary`)).text;
    assert.match(flashOf(html), /"not_a_code_123" is not an event of this session/);
  });

  test('the file button files the session and the page then links to the observation', async () => {
    const before = (await ownerWeb.get(`/live/${s.id}/summary`)).text;
    assert.match(before, new RegExp(`<form method="post" action="/live/${s.id}/file" data-enhance="confirm-submit"`));
    assert.match(before, /<button type="submit" class="primary">File as an observation<\/button>/);
    const res = await ownerWeb.form(`/live/${s.id}/file`, {});
    assert.equal(res.status, 303, res.text.slice(0, 300));
    assert.equal(res.headers.get('location'), `/live/${s.id}/summary#filing`);

    const observationId = rowsOf<{ observation_id: string }>(await app.deps.db.execute(sql`SELECT observation_id FROM live_sessions WHERE id = ${s.id}::uuid`))[0]!.observation_id;
    assert.match(observationId, /^[0-9a-f-]{36}$/);
    const after = (await ownerWeb.get(`/live/${s.id}/summary`)).text;
    assert.equal(flashOf(after), 'Filed as an observation with 5 codings.');
    assert.match(after, new RegExp(`<p class="notice" data-testid="filed">This session was filed as <a href="/observations/${observationId}">`));
    assert.ok(after.includes(`data-testid="observation-link"`));
    assert.ok(!after.includes(`action="/live/${s.id}/file"`), 'no second file button');
    assert.ok(!after.includes(`action="/live/${s.id}/adjudication"`), 'no adjudication once filed');
    const observation = await ownerWeb.get(`/observations/${observationId}`);
    assert.equal(observation.status, 200);
    assert.match(observation.text, /Adjudication probe/);
    // The viewer sees the link too.
    assert.ok((await viewerWeb.get(`/live/${s.id}/summary`)).text.includes(`href="/observations/${observationId}"`));

    // Filing again (a stale page): a message, not an error page.
    const again = await ownerWeb.form(`/live/${s.id}/file`, {});
    assert.equal(again.status, 303);
    assert.match(flashOf((await ownerWeb.get(`/live/${s.id}/summary`)).text), new RegExp(`already been filed as observation ${observationId}`));
  });
});

describe('the event log page', () => {
  test('lists the events in order with who, type and what, answer text folded into one row', async () => {
    const s = await standardSession(app.url, people(), { versionId, baseUrl: model.openaiBaseUrl, title: 'Log probe' });
    const res = await viewerWeb.get(`/live/${s.id}/log`);
    assert.equal(res.status, 200);
    const html = res.text;
    assertNoInlineCode(html);
    const rows = [...html.matchAll(/<tr class="live-log-row" data-type="([^"]+)" data-seq="([^"]+)">([\s\S]*?)<\/tr>/g)].map((m) => ({ type: m[1]!, seq: m[2]!, text: textOf(m[3]!) }));
    const types = rows.map((r) => r.type);
    assert.equal(types[0], 'session.opened');
    assert.equal(types.at(-1), 'session.ended');
    for (const t of ['participant.added', 'prompt', 'answer.started', 'answer.ended', 'code', 'comment']) assert.ok(types.includes(t), t);
    assert.ok(types.some((t) => t.startsWith('tokens')), 'the answer text is there');
    const tokens = rows.find((r) => r.type.startsWith('tokens'))!;
    assert.match(tokens.text, /Answer 1, characters 0–44 “?Cats are great\. They purr\. Dogs bark loudly\./);
    assert.match(rows.find((r) => r.type === 'prompt')!.text, /Prompt 1 .*Tell me about pets/);
    const span = rows.find((r) => r.text.includes(s.codes.annSpan))!;
    assert.match(span.text, /ann code FAB-FACT span, answer 1, characters 27–44/);
    assert.match(rows.find((r) => r.type === 'comment')!.text, new RegExp(`${viewer.displayName} comment Comment .*${s.comment}`));
    assert.match(rows.find((r) => r.type === 'code' && r.text.includes('closed by the end'))!.text, /ann code LNG-SWITCH state stopped at .*closed by the end of the session/);
    // Sequence numbers increase down the page.
    const firsts = rows.map((r) => Number(r.seq.split('–')[0]));
    assert.deepEqual(firsts, [...firsts].sort((a, b) => a - b));
    assert.ok(!html.includes('class="pagination'), 'one page');
  });

  test('a long log is paginated by sequence number', async () => {
    const id = await openLiveSession(owner, { versionId, baseUrl: model.openaiBaseUrl, title: 'Long log', people: [[viewer, 'viewer']] });
    const talker = await joined(app.url, viewer, id);
    clients.push(talker);
    for (let i = 1; i <= 210; i++) await talker.sendOk({ sessionId: id, type: 'comment', text: `comment number ${i}` });
    const lastSeq = rowsOf<{ last_seq: number }>(await app.deps.db.execute(sql`SELECT last_seq FROM live_sessions WHERE id = ${id}::uuid`))[0]!.last_seq;
    assert.ok(lastSeq > 200 && lastSeq <= 400, String(lastSeq));

    const first = (await ownerWeb.get(`/live/${id}/log`)).text;
    assert.match(first, new RegExp(`Page 1 of 2: events 1–200 of ${lastSeq}\\.`));
    assert.match(first, new RegExp(`<a href="/live/${id}/log\\?page&#x3D;2" rel="next">`));
    assert.equal([...first.matchAll(/<tr class="live-log-row"/g)].length, 200);
    assert.ok(!first.includes(`comment number 210<`));
    const second = (await ownerWeb.get(`/live/${id}/log?page=2`)).text;
    assert.match(second, new RegExp(`Page 2 of 2: events 201–${lastSeq} of ${lastSeq}\\.`));
    assert.equal([...second.matchAll(/<tr class="live-log-row"/g)].length, lastSeq - 200);
    assert.ok(second.includes('comment number 210'));
    assert.match(second, new RegExp(`<a href="/live/${id}/log" rel="prev">`));
    // Out of range pages show the nearest one.
    assert.match((await ownerWeb.get(`/live/${id}/log?page=99`)).text, /Page 2 of 2/);
    assert.match((await ownerWeb.get(`/live/${id}/log?page=abc`)).text, /Page 1 of 2/);
  });
});

describe('a blind session while it is open', () => {
  test('the summary says it appears at the end and shows no code; the log shows each reader only their own codes', async () => {
    const id = await openLiveSession(owner, {
      versionId, baseUrl: model.openaiBaseUrl, blind: true, title: 'Blind probe',
      people: [[ann, 'observer'], [bob, 'observer'], [viewer, 'viewer']],
    });
    const driver = await joined(app.url, owner, id);
    const annClient = await joined(app.url, ann, id);
    const bobClient = await joined(app.url, bob, id);
    clients.push(driver, annClient, bobClient);
    await promptAndWait(driver, id, 'Tell me about pets');
    const annCode = await annClient.sendOk({ sessionId: id, type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 0, offset: 10 } });
    const bobCode = await bobClient.sendOk({ sessionId: id, type: 'code', behaviourCode: 'DEG-GLITCH', at: { turn: 0, offset: 20 } });

    const annWeb = await signedInWeb(app, ann);
    const summary = (await annWeb.get(`/live/${id}/summary`)).text;
    assert.match(summary, /data-testid="summary-pending"/);
    assert.match(summary, /It is a blind session: nobody sees anyone else(&#x27;|')s codes until it ends\./);
    for (const leak of [bobCode, 'DEG-GLITCH', annCode, 'SYC-FLATTER', 'lane-chart', 'agreement-table']) assert.ok(!summary.includes(leak), `the open summary shows no ${leak}`);
    const ownerSummary = (await ownerWeb.get(`/live/${id}/summary`)).text;
    assert.ok(!ownerSummary.includes(annCode) && !ownerSummary.includes(bobCode));
    assert.ok(!ownerSummary.includes(`action="/live/${id}/adjudication"`) && !ownerSummary.includes(`action="/live/${id}/file"`));

    const annLog = (await annWeb.get(`/live/${id}/log`)).text;
    assert.match(annLog, /data-testid="log-blind"/);
    assert.ok(annLog.includes(annCode), 'Ann sees her own code');
    assert.match(annLog, /SYC-FLATTER point at answer 1, character 10/);
    assert.ok(!annLog.includes(bobCode) && !annLog.includes('DEG-GLITCH'), 'nothing of Bob\'s code');
    const bobLog = (await (await signedInWeb(app, bob)).get(`/live/${id}/log`)).text;
    assert.ok(bobLog.includes(bobCode) && !bobLog.includes(annCode));
    const ownerLog = (await ownerWeb.get(`/live/${id}/log`)).text;
    assert.ok(!ownerLog.includes(annCode) && !ownerLog.includes(bobCode));

    // Once it ends, everyone sees everything.
    assert.equal((await owner.api.post(`/live-sessions/${id}/end`)).status, 200);
    const ended = (await annWeb.get(`/live/${id}/summary`)).text;
    assert.ok(!ended.includes('data-testid="summary-pending"'));
    assert.ok(ended.includes(`id="coding-${bobCode}"`) && ended.includes(`id="coding-${annCode}"`));
    assert.ok((await annWeb.get(`/live/${id}/log`)).text.includes(bobCode));
  });

  test('an open session that is not blind still shows only the notice until it ends', async () => {
    const s = await standardSession(app.url, people(), { versionId, baseUrl: model.openaiBaseUrl, end: false, title: 'Open probe' });
    const html = (await viewerWeb.get(`/live/${s.id}/summary`)).text;
    assert.match(html, /This session is still open\./);
    assert.ok(!html.includes('It is a blind session'));
    assert.ok(!html.includes(s.codes.annSpan) && !html.includes('lane-chart'));
    // Its log shows everyone's codes (nothing is blind).
    const log = (await viewerWeb.get(`/live/${s.id}/log`)).text;
    assert.ok(log.includes(s.codes.annSpan) && log.includes(s.codes.bobSpan));
    assert.ok(!log.includes('data-testid="log-blind"'));
  });
});
