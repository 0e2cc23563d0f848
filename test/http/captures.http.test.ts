import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { UserActor } from '../../accounts/actor.ts';
import { rowsOf } from '../../core/db.ts';
import { recordCapture } from '../../observations/capture/record-capture.command.ts';
import { captureBody, chatExchange, messagesExchange } from '../support/capture-factories.ts';
import { makeActors, makeUser, signedInWeb, type TestUser } from '../support/clients.ts';
import { observationTableCounts } from '../support/db-counts.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let other: TestUser;

before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
  other = await makeUser(app, 'contributor', 'other');
});
after(() => app.close());

async function captureCount(): Promise<number> {
  return Number(rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM captures`))[0]!.n);
}

async function file(user: TestUser, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await user.api.post('/captures', captureBody(overrides));
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

const NO_TRANSCRIPT_MESSAGE = /no transcript/;

describe('POST /api/v1/captures', () => {
  test('anonymous callers are asked to sign in and nothing is stored', async () => {
    const before = await captureCount();
    const res = await actors.anon.post('/captures', captureBody());
    assert.equal(res.status, 401);
    assert.equal(res.body.error.id, 'unauthenticated');
    assert.equal(await captureCount(), before);
  });

  for (const who of ['contributor', 'researcher', 'admin'] as const) {
    test(`${who}: files a capture as source sdk, rebuilt, with credentials stripped`, async () => {
      const body = captureBody({
        source: 'proxy',
        requestHeaders: { 'content-type': 'application/json', authorization: 'Bearer sk-live-secret', 'x-api-key': 'sk-ant-secret', 'openai-organization': 'org-1' },
        flag: `  flagged by ${who}  `,
      });
      const res = await actors[who].api.post('/captures', body);
      assert.equal(res.status, 201, res.text);
      assert.match(res.body.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(Object.keys(res.body), ['id']);
      assert.equal(res.headers.get('location'), `/api/v1/captures/${res.body.id}`);
      const [row] = rowsOf<Record<string, any>>(await app.deps.db.execute(sql`SELECT source, model, request_headers, usage, flag, captured_by, transcript IS NOT NULL AS has_transcript FROM captures WHERE id = ${res.body.id}`));
      assert.equal(row!.source, 'sdk', 'a capture sent to the API is never recorded as the proxy');
      assert.equal(row!.model, 'gpt-4o-mini-2024-07-18');
      assert.deepEqual(row!.request_headers, { 'content-type': 'application/json', 'openai-organization': 'org-1' });
      assert.deepEqual(row!.usage, { inputTokens: 21, outputTokens: 7, totalTokens: 28 });
      assert.equal(row!.flag, `flagged by ${who}`);
      assert.equal(row!.captured_by, actors[who].id);
      assert.equal(row!.has_transcript, true);
    });
  }

  test('a session may file captures too, with the CSRF header', async () => {
    const web = await signedInWeb(app, actors.contributor);
    const withToken = await web.json('POST', '/api/v1/captures', captureBody());
    assert.equal(withToken.status, 201, withToken.text);
    const csrf = web.csrf;
    web.csrf = undefined;
    const before = await captureCount();
    const forged = await web.json('POST', '/api/v1/captures', captureBody());
    assert.equal(forged.status, 403);
    assert.equal(forged.body.error.id, 'csrf_failed');
    assert.equal(await captureCount(), before);
    web.csrf = csrf;
  });

  test('bodies past the site-wide limit (2 MB) are accepted up to the capture limit', async () => {
    const { request, response } = chatExchange('x'.repeat(3 * 1024 * 1024));
    const res = await actors.contributor.api.post('/captures', captureBody({ requestBody: JSON.stringify(request), responseBody: JSON.stringify(response) }));
    assert.equal(res.status, 201, res.text.slice(0, 300));
    const [row] = rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT length(request_body)::int AS n FROM captures WHERE id = ${res.body.id}`));
    assert.ok(row!.n > 3 * 1024 * 1024);
  });

  test('bad input is refused with the field named, and stores nothing', async () => {
    const before = await captureCount();
    const cases: [unknown, number, string, string?][] = [
      [captureBody({ path: 'v1/chat' }), 422, 'validation_failed', 'path'],
      [captureBody({ api: 'gemini' }), 422, 'validation_failed', 'api'],
      [captureBody({ outcome: 'fine' }), 422, 'validation_failed', 'outcome'],
      [captureBody({ keyHash: 'sk-live-secret' }), 422, 'validation_failed', 'keyHash'],
      [captureBody({ startedAt: 'yesterday' }), 422, 'validation_failed', 'startedAt'],
      [captureBody({ requestBody: undefined }), 422, 'validation_failed', 'requestBody'],
      [[captureBody()], 422, 'validation_failed'],
      ['{"upstream": "openai",', 400, 'malformed_json'],
    ];
    for (const [body, status, id, field] of cases) {
      const res = await actors.contributor.api.post('/captures', body);
      assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      assert.equal(res.body.error.id, id);
      if (field) assert.ok(res.body.error.details.fields[field], `names ${field}: ${res.text}`);
      assert.ok(!res.text.includes('sk-live-secret'), 'a refused key is not echoed back');
    }
    assert.equal(await captureCount(), before);
  });
});

describe('GET /api/v1/captures and /captures/:id', () => {
  const t0 = Date.parse('2030-05-01T10:00:00Z');
  const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
  let mine: string[];
  let otherId: string;
  let flaggedId: string;
  let anthropicId: string;
  let failedId: string;

  before(async () => {
    // Captures in the future of the rest of the file, so time filters single them out.
    mine = [];
    mine.push(await file(actors.contributor, { startedAt: at(1), upstream: 'ollama', requestBody: JSON.stringify({ ...chatExchange().request, model: 'llama3.2' }), responseBody: JSON.stringify({ ...chatExchange().response, model: 'llama3.2' }) }));
    flaggedId = await file(actors.contributor, { startedAt: at(2), flag: 'Claims 9.11 > 9.9', requestBody: JSON.stringify(chatExchange('Compare the decimals 9.11 and 9.9 please').request) });
    mine.push(flaggedId);
    const { request, response } = messagesExchange();
    anthropicId = await file(actors.contributor, { startedAt: at(3), upstream: 'anthropic', api: 'anthropic', path: '/v1/messages', requestBody: JSON.stringify(request), responseBody: JSON.stringify(response) });
    mine.push(anthropicId);
    failedId = await file(actors.contributor, { startedAt: at(3), outcome: 'error', endReason: 'upstream_error', httpStatus: 529, responseBody: '{"type":"error","error":{"type":"overloaded_error"}}', error: 'HTTP 529' });
    mine.push(failedId);
    otherId = await file(other, { startedAt: at(4), flag: 'someone else' });
  });

  test('anonymous callers get 401 for the list and a capture', async () => {
    assert.equal((await actors.anon.get('/captures')).status, 401);
    const res = await actors.anon.get(`/captures/${mine[0]}`);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.id, 'unauthenticated');
  });

  test('contributors list only their own captures; researchers and admins list everyone\'s, newest first', async () => {
    const range = `from=${at(0)}&to=${at(10)}`;
    const own = await actors.contributor.api.get(`/captures?${range}`);
    assert.equal(own.status, 200);
    assert.ok(own.body.data.every((c: any) => c.capturedBy.id === actors.contributor.id));
    assert.deepEqual(new Set(own.body.data.map((c: any) => c.id)), new Set(mine));
    assert.ok(!own.body.data.some((c: any) => c.id === otherId));
    for (const who of ['researcher', 'admin'] as const) {
      const all = await actors[who].api.get(`/captures?${range}`);
      assert.equal(all.status, 200);
      assert.equal(all.body.data[0].id, otherId, 'newest first');
      assert.deepEqual(new Set(all.body.data.map((c: any) => c.id)), new Set([...mine, otherId]));
      const starts = all.body.data.map((c: any) => c.startedAt);
      assert.deepEqual(starts, [...starts].sort().reverse());
    }
    const row = own.body.data.find((c: any) => c.id === flaggedId);
    assert.equal(row.flag, 'Claims 9.11 > 9.9');
    assert.deepEqual(row.timings, { firstByteMs: 120.5, firstTokenMs: null, durationMs: 340.3 });
    assert.deepEqual(row.usage, { inputTokens: 21, outputTokens: 7, totalTokens: 28 });
    assert.equal(row.observationId, null);
    assert.equal(row.hasTranscript, true);
    assert.equal(row.requestBody, undefined, 'list rows carry no bodies');
  });

  test('filters: model, upstream, source, outcome, flagged, time range and text', async () => {
    const range = `from=${at(0)}&to=${at(10)}`;
    const ids = async (query: string, within = range) => {
      const res = await actors.researcher.api.get(`/captures?${within}&${query}`);
      assert.equal(res.status, 200, res.text);
      return new Set(res.body.data.map((c: any) => c.id));
    };
    assert.deepEqual(await ids('model=llama3.2'), new Set([mine[0]]));
    assert.deepEqual(await ids('upstream=anthropic'), new Set([anthropicId]));
    assert.deepEqual(await ids('source=sdk&outcome=error'), new Set([failedId]));
    assert.deepEqual(await ids('source=proxy'), new Set());
    assert.deepEqual(await ids('flagged=true'), new Set([flaggedId, otherId]));
    assert.deepEqual(await ids('q=strawberry'), new Set([anthropicId]), 'the transcript is searchable');
    assert.deepEqual(await ids('q=decimals'), new Set([flaggedId]));
    assert.deepEqual(await ids('', `from=${at(3)}&to=${at(4)}`), new Set([anthropicId, failedId]), 'from is inclusive, to exclusive');
    const day = await actors.researcher.api.get('/captures?from=2030-05-01&to=2030-05-01');
    assert.equal(day.body.data.length, 5, 'a date-only "to" includes that day');
    const contributorFlagged = await actors.contributor.api.get(`/captures?${range}&flagged=1`);
    assert.deepEqual(contributorFlagged.body.data.map((c: any) => c.id), [flaggedId], 'filters never widen what a contributor sees');
  });

  test('keyset pagination walks every capture once, newest first, also across equal start times', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await actors.admin.api.get(`/captures?from=2030-05-01&to=2030-05-01&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.data.length <= 2);
      seen.push(...res.body.data.map((c: any) => c.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5);
    assert.equal(seen[0], otherId);
  });

  test('bad filters are a 422 naming the field', async () => {
    for (const [query, field] of [['outcome=great', 'outcome'], ['from=next-tuesday', 'from'], ['limit=0', 'limit'], ['flagged=maybe', 'flagged'], ['cursor=bm9wZQ', 'cursor']] as const) {
      const res = await actors.researcher.api.get(`/captures?${query}`);
      assert.equal(res.status, 422, query);
      assert.ok(res.body.error.details.fields[field], `${query}: ${res.text}`);
    }
  });

  test('reading a capture: the capturer, researchers and admins may; other contributors may not; no credentials', async () => {
    for (const who of ['contributor', 'researcher', 'admin'] as const) {
      const res = await actors[who].api.get(`/captures/${anthropicId}`);
      assert.equal(res.status, 200, `${who}: ${res.text}`);
      const c = res.body;
      assert.equal(c.upstream, 'anthropic');
      assert.equal(c.model, 'claude-sonnet-4-5-20250929');
      assert.equal(c.transcript.messages.at(-1).role, 'assistant');
      assert.deepEqual(c.transcript.messages.at(-1).parts.map((p: any) => p.type), ['reasoning', 'text']);
      assert.equal(JSON.parse(c.requestBody).thinking.budget_tokens, 512);
      assert.equal(c.rebuilt.content[0].signature, 'sig-abc');
      assert.equal(c.keyFingerprint, createHash('sha256').update('sk-test-key').digest('hex').slice(0, 12));
      assert.equal(c.keyHash, undefined);
      assert.deepEqual(c.usage, { inputTokens: 12, outputTokens: 30 });
    }
    const denied = await other.api.get(`/captures/${anthropicId}`);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.id, 'forbidden');
    assert.equal((await actors.admin.api.get('/captures/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await actors.admin.api.get('/captures/not-a-uuid')).status, 404);
  });
});

describe('POST /api/v1/captures/:id/promote', () => {
  test('promotes a flagged capture with everything pre-filled, in one transaction with its link and events', async () => {
    const { request, response } = chatExchange('Which is larger, 9.11 or 9.9?');
    const started = '2029-01-02T03:04:05.678Z';
    const id = await file(actors.contributor, { flag: 'Says 9.11 is larger than 9.9', startedAt: started, upstream: 'openai', requestBody: JSON.stringify({ ...request, tools: [{ type: 'function', function: { name: 'calculator', parameters: {} } }] }), responseBody: JSON.stringify(response) });
    const res = await actors.contributor.api.post(`/captures/${id}/promote`, {});
    assert.equal(res.status, 201, res.text);
    const o = res.body;
    assert.equal(res.headers.get('location'), `/api/v1/observations/${o.id}`);
    assert.equal(o.title, 'Says 9.11 is larger than 9.9');
    assert.equal(o.surprise, 'Says 9.11 is larger than 9.9');
    assert.equal(o.provider, 'openai');
    assert.equal(o.model, 'gpt-4o-mini-2024-07-18');
    assert.equal(o.observedAt, started);
    assert.equal(o.visibility, 'members');
    assert.equal(o.submittedBy.id, actors.contributor.id);
    assert.equal(o.provenance.capture, 'sdk');
    assert.equal(o.provenance.endpoint, '/v1/chat/completions');
    assert.equal(o.provenance.upstream, 'openai');
    assert.equal(o.provenance.captureId, id);
    assert.equal(o.provenance.interface, 'api');
    assert.deepEqual(o.provenance.sampling, { temperature: 0.2, max_tokens: 64 });
    assert.deepEqual(o.provenance.tools, ['calculator']);
    assert.equal(o.provenance.systemPromptSha256, createHash('sha256').update('Be terse.').digest('hex'));
    assert.deepEqual(o.transcript.messages.map((m: any) => m.role), ['system', 'user', 'assistant']);
    assert.equal(o.transcript.messages[2].parts[0].text, 'Yes, 9.11 is bigger.');

    const raw = await actors.contributor.api.get(`/observations/${o.id}/raw`);
    assert.equal(raw.status, 200);
    assert.equal(raw.body.request.body, JSON.stringify({ ...request, tools: [{ type: 'function', function: { name: 'calculator', parameters: {} } }] }));
    assert.equal(raw.body.response.body, JSON.stringify(response));
    assert.equal(raw.body.response.status, 200);

    const capture = await actors.contributor.api.get(`/captures/${id}`);
    assert.equal(capture.body.observationId, o.id);
    assert.equal(capture.body.observationHref, `/observations/${o.id}`);
    const events = rowsOf<{ type: string }>(await app.deps.db.execute(sql`SELECT type FROM events WHERE entity_id IN (${id}, ${o.id}) ORDER BY id`));
    assert.deepEqual(events.map((e) => e.type), ['capture.recorded', 'observation.recorded', 'capture.promoted']);

    const again = await actors.contributor.api.post(`/captures/${id}/promote`, {});
    assert.equal(again.status, 409);
    assert.equal(again.body.error.id, 'conflict');
    assert.ok(again.body.error.message.includes(o.id), 'the conflict names the observation');
    assert.equal(again.body.error.details.observationId, o.id);
  });

  test('without a flag the person says what was surprising; the title comes from the first user message; overrides win', async () => {
    const id = await file(actors.contributor, { requestBody: JSON.stringify(chatExchange('Please compare 9.11 and 9.9 for me').request) });
    const before = await observationTableCounts(app.deps.db);
    const missing = await actors.contributor.api.post(`/captures/${id}/promote`, {});
    assert.equal(missing.status, 422);
    assert.ok(missing.body.error.details.fields.surprise);
    assert.deepEqual(await observationTableCounts(app.deps.db), before);
    const res = await actors.contributor.api.post(`/captures/${id}/promote`, { surprise: 'Wrong decimal comparison.', visibility: 'public' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.title, 'Please compare 9.11 and 9.9 for me');
    assert.equal(res.body.surprise, 'Wrong decimal comparison.');
    assert.equal(res.body.visibility, 'public');
    const titled = await file(actors.contributor, { flag: 'flag text' });
    const custom = await actors.contributor.api.post(`/captures/${titled}/promote`, { title: 'My own title' });
    assert.equal(custom.body.title, 'My own title');
    assert.equal(custom.body.surprise, 'flag text');
  });

  test('a proxy capture of a local server promotes with capture "proxy" and the upstream as the provider', async () => {
    const { request, response } = chatExchange('Why is the sky green?');
    const actor: UserActor = { kind: 'user', id: actors.contributor.id, email: actors.contributor.email, displayName: actors.contributor.displayName, role: 'contributor', via: 'system' };
    const { id } = await recordCapture(
      { db: app.deps.db, actor, now: () => new Date() },
      { source: 'proxy', upstream: 'ollama', api: 'openai', path: '/v1/chat/completions', outcome: 'complete', endReason: 'done', httpStatus: 200, startedAt: new Date('2029-03-04T05:06:07Z'), requestBody: JSON.stringify({ ...request, model: 'llama3.2:3b', top_p: 0.9 }), responseBody: JSON.stringify({ ...response, model: 'llama3.2:3b' }), flag: 'green sky' },
    );
    const listed = await actors.researcher.api.get('/captures?source=proxy&upstream=ollama');
    assert.ok(listed.body.data.some((c: any) => c.id === id), 'the source filter finds proxy captures');
    const res = await actors.contributor.api.post(`/captures/${id}/promote`, {});
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.provider, 'ollama');
    assert.equal(res.body.model, 'llama3.2:3b');
    assert.equal(res.body.provenance.capture, 'proxy');
    assert.equal(res.body.provenance.upstream, 'ollama');
    assert.deepEqual(res.body.provenance.sampling, { temperature: 0.2, top_p: 0.9, max_tokens: 64 });
    assert.equal(res.body.observedAt, '2029-03-04T05:06:07.000Z');
  });

  test('a capture without a transcript cannot be promoted, and says why', async () => {
    const id = await file(actors.contributor, { path: '/v1/embeddings', requestBody: '{"model":"text-embedding-3-small","input":"hi"}', responseBody: '{"data":[]}', flag: 'odd embedding' });
    const before = await observationTableCounts(app.deps.db);
    const res = await actors.contributor.api.post(`/captures/${id}/promote`, {});
    assert.equal(res.status, 422);
    assert.equal(res.body.error.id, 'validation_failed');
    assert.match(res.body.error.message, NO_TRANSCRIPT_MESSAGE);
    assert.match(res.body.error.message, /\/v1\/embeddings/);
    assert.deepEqual(await observationTableCounts(app.deps.db), before);
    assert.equal((await actors.contributor.api.get(`/captures/${id}`)).body.observationId, null);
  });

  test('who may promote: anonymous 401, another contributor 403, researchers and admins 201', async () => {
    const ids = [await file(actors.contributor, { flag: 'a' }), await file(actors.contributor, { flag: 'b' })];
    assert.equal((await actors.anon.post(`/captures/${ids[0]}/promote`, {})).status, 401);
    const denied = await other.api.post(`/captures/${ids[0]}/promote`, {});
    assert.equal(denied.status, 403);
    const byResearcher = await actors.researcher.api.post(`/captures/${ids[0]}/promote`, {});
    assert.equal(byResearcher.status, 201, byResearcher.text);
    assert.equal(byResearcher.body.submittedBy.id, actors.researcher.id);
    const byAdmin = await actors.admin.api.post(`/captures/${ids[1]}/promote`, {});
    assert.equal(byAdmin.status, 201, byAdmin.text);
    assert.equal((await actors.admin.api.post('/captures/00000000-0000-4000-8000-000000000000/promote', {})).status, 404);
  });

  test('bad overrides are refused before anything is written', async () => {
    const id = await file(actors.contributor, { flag: 'x' });
    const before = await observationTableCounts(app.deps.db);
    for (const body of [{ title: 'x'.repeat(201) }, { visibility: 'everyone' }, { codes: ['REF-FULL'] }]) {
      const res = await actors.contributor.api.post(`/captures/${id}/promote`, body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal(res.body.error.id, 'validation_failed');
    }
    assert.deepEqual(await observationTableCounts(app.deps.db), before);
    assert.equal((await actors.contributor.api.get(`/captures/${id}`)).body.observationId, null);
  });

  test('two promotions at once make one observation; the other is a conflict', async () => {
    const id = await file(actors.contributor, { flag: 'race' });
    const [a, b] = await Promise.all([actors.contributor.api.post(`/captures/${id}/promote`, {}), actors.researcher.api.post(`/captures/${id}/promote`, {})]);
    assert.deepEqual([a.status, b.status].sort(), [201, 409]);
    const n = rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM observations WHERE provenance->>'captureId' = ${id}`))[0]!.n;
    assert.equal(Number(n), 1);
  });
});
