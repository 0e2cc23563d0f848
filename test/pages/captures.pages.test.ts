import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { captureBody, chatExchange, messagesExchange } from '../support/capture-factories.ts';
import { makeActors, makeUser, signedInWeb, WebClient, type TestUser } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let other: TestUser;
let contributorWeb: WebClient;
let researcherWeb: WebClient;
let adminWeb: WebClient;
let otherWeb: WebClient;

before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
  other = await makeUser(app, 'contributor', 'other');
  [contributorWeb, researcherWeb, adminWeb, otherWeb] = await Promise.all([
    signedInWeb(app, actors.contributor),
    signedInWeb(app, actors.researcher),
    signedInWeb(app, actors.admin),
    signedInWeb(app, other),
  ]);
});
after(() => app.close());

async function file(user: TestUser, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await user.api.post('/captures', captureBody(overrides));
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

const XSS = '<script>alert("flag")</script>';

/** CSP: no inline scripts (only the bundle) and no style attributes anywhere on the page. */
function assertNoInlineCode(html: string): void {
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  for (const tag of scripts) assert.match(tag, /src="\/assets\/app\.js"|type="application\/json"/, `inline script: ${tag}`);
  assert.ok(!/\sstyle=/i.test(html), 'no style attributes');
}

describe('the field log list (/captures)', () => {
  let mineId: string;
  let otherId: string;
  before(async () => {
    mineId = await file(actors.contributor, { flag: XSS, startedAt: '2031-02-03T04:05:06Z' });
    await file(actors.contributor, { startedAt: '2031-02-03T04:06:00Z', upstream: 'ollama', requestBody: JSON.stringify({ ...chatExchange().request, model: 'llama3.2' }), responseBody: JSON.stringify({ ...chatExchange().response, model: 'llama3.2' }) });
    await file(actors.contributor, { startedAt: '2031-02-03T04:07:00Z', outcome: 'partial', endReason: 'client_abort', streamed: true, responseBody: 'data: {"choices":[]}\n\n' });
    otherId = await file(other, { startedAt: '2031-02-03T04:08:00Z', flag: 'Odd spelling of colour' });
  });

  test('anonymous visitors are sent to sign in, and the nav has no field log link', async () => {
    const web = new WebClient(app.url);
    const res = await web.get('/captures');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/login?next=%2Fcaptures');
    const home = await web.get('/');
    assert.ok(!home.text.includes('href="/captures"'));
  });

  test('a contributor sees their own captures in a table, escaped, with the nav link', async () => {
    const res = await contributorWeb.get('/captures?from=2031-02-03&to=2031-02-03');
    assert.equal(res.status, 200);
    assert.match(res.text, /<a href="\/captures" aria-current="page">Field log<\/a>/);
    assert.ok(res.text.includes(`href="/captures/${mineId}"`));
    assert.ok(!res.text.includes(otherId), 'another contributor\'s capture is not listed');
    assert.equal((res.text.match(/class="capture-row /g) ?? []).length, 3);
    assert.ok(res.text.includes('&lt;script&gt;alert(&quot;flag&quot;)&lt;/script&gt;'), 'the flag is shown escaped');
    assert.ok(!res.text.includes(XSS));
    assert.match(res.text, /<td class="num">21 → 7<\/td>/, 'tokens in and out');
    assert.match(res.text, /<td class="num">340 ms<\/td>/, 'duration');
    assert.match(res.text, /badge outcome-partial">partial<\/span> <span class="muted">client_abort/);
    assertNoInlineCode(res.text);
  });

  test('researchers and admins see everyone\'s captures', async () => {
    for (const web of [researcherWeb, adminWeb]) {
      const res = await web.get('/captures?from=2031-02-03&to=2031-02-03');
      assert.equal(res.status, 200);
      assert.ok(res.text.includes(`href="/captures/${otherId}"`));
      assert.equal((res.text.match(/class="capture-row /g) ?? []).length, 4);
    }
  });

  test('the filter form narrows the list and keeps its values; bad values are shown beside their field', async () => {
    const res = await researcherWeb.get('/captures?from=2031-02-03&to=2031-02-03&upstream=ollama');
    assert.equal((res.text.match(/class="capture-row /g) ?? []).length, 1);
    assert.match(res.text, /<option value="ollama" selected>ollama<\/option>/);
    const flagged = await researcherWeb.get('/captures?from=2031-02-03&to=2031-02-03&flagged=true');
    assert.equal((flagged.text.match(/class="capture-row /g) ?? []).length, 2);
    assert.match(flagged.text, /id="filter-flagged" name="flagged" type="checkbox" value="true" checked/);
    const searched = await researcherWeb.get('/captures?from=2031-02-03&to=2031-02-03&q=spelling');
    assert.equal((searched.text.match(/class="capture-row /g) ?? []).length, 1);
    const bad = await researcherWeb.get('/captures?from=soon');
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="filter-from-error">Use YYYY-MM-DD/);
    assert.match(bad.text, /value="soon"/);
  });

  test('pages go from newest to older by cursor', async () => {
    const first = await researcherWeb.get('/captures?from=2031-02-03&to=2031-02-03&limit=3');
    assert.equal((first.text.match(/class="capture-row /g) ?? []).length, 3);
    const older = /href="(\/captures\?[^"]+)" rel="next"/.exec(first.text);
    assert.ok(older, 'an Older link');
    const href = older[1]!.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
    assert.match(href, /[?&]cursor=[\w-]+/);
    assert.match(href, /[?&]limit=3(&|$)/, 'the filters are kept');
    const second = await researcherWeb.get(href);
    assert.equal(second.status, 200);
    assert.equal((second.text.match(/class="capture-row /g) ?? []).length, 1);
    assert.ok(second.text.includes(`href="/captures/${mineId}"`), 'the oldest is on the last page');
    assert.ok(!/rel="next"/.test(second.text));
    assert.match(second.text, /↑ Newest/);
  });
});

describe('a capture (/captures/:id) and its promote form', () => {
  test('shows the transcript with the observation partials, raw bodies, rebuilt message, timings and usage', async () => {
    const { request, response } = messagesExchange('How many r in <b>strawberry</b>?');
    const id = await file(actors.contributor, { upstream: 'anthropic', api: 'anthropic', path: '/v1/messages', requestBody: JSON.stringify(request), responseBody: JSON.stringify(response), requestHeaders: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-secret-page' } });
    const res = await contributorWeb.get(`/captures/${id}`);
    assert.equal(res.status, 200, res.text.slice(0, 500));
    assert.match(res.text, /<div class="transcript">/);
    assert.match(res.text, /<article class="message" data-role="assistant"/);
    assert.match(res.text, /<details class="part reasoning"><summary>Reasoning <span class="muted">\(with opaque provider data\)/);
    assert.ok(res.text.includes('How many r in &lt;b&gt;strawberry&lt;/b&gt;?'), 'transcript text is escaped');
    assert.match(res.text, /<summary>Request body/);
    assert.match(res.text, /<summary>Rebuilt message/);
    assert.ok(res.text.includes('&quot;signature&quot;: &quot;sig-abc&quot;'), 'the rebuilt message keeps the signature');
    assert.match(res.text, /<th scope="row">First byte<\/th><td class="mono">121 ms<\/td>/);
    assert.match(res.text, /<th scope="row">Output tokens<\/th><td class="mono">30<\/td>/);
    assert.ok(!res.text.includes('sk-ant-secret-page'), 'no credential on the page');
    assertNoInlineCode(res.text);
  });

  test('a capture without a transcript says why and offers no promotion', async () => {
    const id = await file(actors.contributor, { path: '/v1/embeddings', requestBody: '{"model":"text-embedding-3-small","input":"hi"}', responseBody: '{"data":[]}', flag: 'odd' });
    const res = await contributorWeb.get(`/captures/${id}`);
    assert.equal(res.status, 200);
    assert.match(res.text, /No transcript: No transcript is made for \/v1\/embeddings\./);
    assert.ok(!res.text.includes('promote-form'));
  });

  test('who may read it: sign-in, forbidden for another contributor, researchers and admins may, unknown ids 404', async () => {
    const id = await file(actors.contributor, { flag: 'who reads' });
    const anon = await new WebClient(app.url).get(`/captures/${id}`);
    assert.equal(anon.status, 303);
    assert.match(anon.headers.get('location') ?? '', /^\/login\?next=/);
    assert.equal((await otherWeb.get(`/captures/${id}`)).status, 403);
    assert.equal((await researcherWeb.get(`/captures/${id}`)).status, 200);
    assert.equal((await adminWeb.get(`/captures/${id}`)).status, 200);
    assert.equal((await adminWeb.get('/captures/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await adminWeb.get('/captures/nope')).status, 404);
  });

  test('the promote form is pre-filled, needs the CSRF token, and lands on the new observation', async () => {
    const id = await file(actors.contributor, { flag: 'Says 9.11 > 9.9' });
    const page = await contributorWeb.get(`/captures/${id}`);
    assert.match(page.text, /<form method="post" action="\/captures\/[0-9a-f-]+\/promote" class="promote-form"/);
    assert.match(page.text, /id="promote-title" name="title" value="Says 9.11 &gt; 9.9"/);
    assert.match(page.text, /name="surprise"[^>]*>Says 9.11 &gt; 9.9<\/textarea>/);

    const forged = await contributorWeb.form(`/captures/${id}/promote`, { _csrf: 'forged', title: 'x', surprise: 'y', visibility: 'members' });
    assert.equal(forged.status, 403);
    assert.equal(promotedTo(await linkOf(id)), null);

    await contributorWeb.get(`/captures/${id}`);
    const res = await contributorWeb.form(`/captures/${id}/promote`, { title: 'Decimal comparison', surprise: 'It says 9.11 > 9.9.', visibility: 'public' });
    assert.equal(res.status, 303, res.text.slice(0, 500));
    const observationId = promotedTo(await linkOf(id));
    assert.ok(observationId);
    assert.equal(res.headers.get('location'), `/observations/${observationId}`);
    const observation = await contributorWeb.get(`/observations/${observationId}`);
    assert.equal(observation.status, 200);
    assert.match(observation.text, /<h1>Decimal comparison<\/h1>/);
    assert.match(observation.text, /Promoted to an observation/);
    assert.match(observation.text, /Public/);
    assert.ok(observation.text.includes(`<a class="hash" href="/captures/${id}" title="The field-log capture this observation was promoted from">${id.slice(0, 8)}</a>`), 'the observation links back to its capture');

    const after = await contributorWeb.get(`/captures/${id}`);
    assert.ok(after.text.includes(`Promoted to <a href="/observations/${observationId}">an observation</a>`));
    assert.ok(!after.text.includes('promote-form'), 'no second promotion offered');
    const list = await contributorWeb.get('/captures?flagged=true');
    assert.ok(list.text.includes(`<a href="/observations/${observationId}">observation</a>`), 'the list links the observation');
  });

  test('a refused promotion shows the page again with the message and the person\'s input', async () => {
    const id = await file(actors.contributor, { requestBody: JSON.stringify(chatExchange('Compare 9.11 and 9.9').request) });
    await contributorWeb.get(`/captures/${id}`);
    const res = await contributorWeb.form(`/captures/${id}/promote`, { title: 'My <title>', surprise: '', visibility: 'members' });
    assert.equal(res.status, 422);
    assert.match(res.text, /id="promote-surprise-error">Say what was surprising/);
    assert.match(res.text, /name="title" value="My &lt;title&gt;"/);
    assert.equal(promotedTo(await linkOf(id)), null);

    const flagged = await file(actors.contributor, { flag: 'twice' });
    await contributorWeb.get(`/captures/${flagged}`);
    assert.equal((await contributorWeb.form(`/captures/${flagged}/promote`, { title: '', surprise: '', visibility: 'members' })).status, 303);
    const again = await contributorWeb.form(`/captures/${flagged}/promote`, { title: '', surprise: '', visibility: 'members' });
    assert.equal(again.status, 409);
    assert.match(again.text, /already promoted, to observation [0-9a-f-]{36}/);
  });

  test('another contributor cannot promote; a researcher can', async () => {
    const id = await file(actors.contributor, { flag: 'for the researcher' });
    await otherWeb.get('/captures');
    assert.equal((await otherWeb.form(`/captures/${id}/promote`, { title: '', surprise: '', visibility: 'members' })).status, 403);
    await researcherWeb.get(`/captures/${id}`);
    const res = await researcherWeb.form(`/captures/${id}/promote`, { title: '', surprise: '', visibility: 'members' });
    assert.equal(res.status, 303);
  });
});

async function linkOf(id: string): Promise<{ observation_id: string | null }[]> {
  return rowsOf<{ observation_id: string | null }>(await app.deps.db.execute(sql`SELECT observation_id FROM captures WHERE id = ${id}`));
}

function promotedTo(rows: { observation_id: string | null }[]): string | null {
  return rows[0]?.observation_id ?? null;
}
