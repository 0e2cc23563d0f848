import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { ApiClient, makeActors, makeUser } from '../support/clients.ts';
import { observationTableCounts } from '../support/db-counts.ts';
import { ensureStarterEthogram } from '../support/ethogram-fixture.ts';
import { observationBody, submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  await ensureStarterEthogram(app.deps.db);
  actors = await makeActors(app);
});
after(() => app.close());

/** Sends a request and checks that it was refused with the status and stored nothing. */
async function refused(send: () => Promise<{ status: number; body: any; text: string }>, status: number) {
  const before = await observationTableCounts(app.deps.db);
  const res = await send();
  assert.equal(res.status, status, res.text.slice(0, 500));
  assert.ok(res.body?.error?.message, 'an error message a person can act on');
  assert.doesNotMatch(res.text, /\bat [\w.]+ \(|node_modules/, 'no stack trace');
  assert.deepEqual(await observationTableCounts(app.deps.db), before, 'nothing stored');
  return res.body.error as { id: string; message: string; details: { fields?: Record<string, string> } };
}

describe('bad submissions are precise 4xx and store nothing', () => {
  test('malformed JSON -> 400', async () => {
    const err = await refused(() => actors.contributor.api.post('/observations', '{"title": "unterminated'), 400);
    assert.equal(err.id, 'malformed_json');
  });

  test('wrong types -> 422 with field paths', async () => {
    const err = await refused(
      () =>
        actors.contributor.api.post(
          '/observations',
          observationBody({ title: 42, observedAt: 'last tuesday-ish', tags: 'not-a-list', sampling: { temperature: { nested: true } }, visibility: 'everyone' }),
        ),
      422,
    );
    assert.equal(err.id, 'validation_failed');
    for (const field of ['title', 'observedAt', 'tags', 'sampling.temperature', 'visibility']) assert.ok(err.details.fields?.[field], `${field}: ${JSON.stringify(err.details.fields)}`);
  });

  test('missing required fields -> 422 naming each', async () => {
    const err = await refused(() => actors.contributor.api.post('/observations', {}), 422);
    for (const field of ['title', 'surprise', 'provider', 'model', 'transcript', 'observedAt']) assert.ok(err.details.fields?.[field], field);
  });

  test('unknown fields -> 422 rather than silently dropped', async () => {
    const err = await refused(() => actors.contributor.api.post('/observations', observationBody({ titel: 'typo' })), 422);
    assert.match(JSON.stringify(err.details.fields), /titel/);
  });

  test('unknown behaviour codes -> 422 naming each code and where valid codes are', async () => {
    const err = await refused(() => actors.contributor.api.post('/observations', observationBody({ codes: ['REF-FULL', 'MADE-UP', 'ALSO-NOT'] })), 422);
    assert.equal(err.details.fields?.['codes.0'], undefined);
    assert.match(err.details.fields?.['codes.1'] ?? '', /"MADE-UP" is not a behaviour code.*\/ethograms\/llm-starter/);
    assert.match(err.details.fields?.['codes.2'] ?? '', /ALSO-NOT/);
    assert.match(err.message, /MADE-UP/);
  });

  test('a transcript in no known format -> 422 on transcript with the parser\'s reason', async () => {
    const prose = await refused(() => actors.contributor.api.post('/observations', observationBody({ transcript: 'just some words with no speaker labels' })), 422);
    assert.ok(prose.details.fields?.transcript);
    const json = await refused(() => actors.contributor.api.post('/observations', observationBody({ transcript: { foo: 'bar' } })), 422);
    assert.match(json.details.fields?.transcript ?? '', /not a transcript format/);
    const broken = await refused(() => actors.contributor.api.post('/observations', observationBody({ transcript: '{"messages": [' })), 422);
    assert.match(broken.details.fields?.transcript ?? '', /line 1/);
    const empty = await refused(() => actors.contributor.api.post('/observations', observationBody({ transcript: '' })), 422);
    assert.ok(empty.details.fields?.transcript);
  });

  test('over-long fields -> 422', async () => {
    const err = await refused(
      () => actors.contributor.api.post('/observations', observationBody({ title: 'x'.repeat(201), surprise: 's'.repeat(10_001), tags: ['t'.repeat(51)], codes: Array(21).fill('REF-FULL') })),
      422,
    );
    for (const field of ['title', 'surprise', 'tags.0', 'codes']) assert.ok(err.details.fields?.[field], field);
    assert.match(err.details.fields?.title ?? '', /at most 200/);
  });

  test('evidence links must be http(s) URLs', async () => {
    const err = await refused(() => actors.contributor.api.post('/observations', observationBody({ evidenceLinks: ['javascript:alert(1)'] })), 422);
    assert.ok(err.details.fields?.['evidenceLinks.0']);
  });

  test('NUL characters are refused with a message, not a server error', async () => {
    const err = await refused(() => actors.contributor.api.post('/observations', observationBody({ title: 'nul \u0000 here' })), 422);
    assert.ok(err.details.fields?.title);
  });

  test('a span outside the message -> 422 on span.end', async () => {
    const o = await submitObservation(actors.contributor);
    const err = await refused(() => actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'REF-FULL', span: { messageId: 'm3', partIndex: 0, start: 0, end: 10_000 } }), 422);
    assert.match(err.details.fields?.['span.end'] ?? '', /at most \d+/);
  });

  test('a revoked token -> 401 token_revoked', async () => {
    const user = await makeUser(app, 'contributor', 'revoked');
    const created = await user.api.post('/tokens', { name: 'soon revoked' });
    const client = new ApiClient(app.url, created.body.token);
    assert.equal((await client.delete(`/tokens/${created.body.id}`)).status, 204);
    const err = await refused(() => client.post('/observations', observationBody()), 401);
    assert.equal(err.id, 'token_revoked');
  });

  test('a contributor editing someone else\'s observation -> 403', async () => {
    const o = await submitObservation(actors.contributor);
    const other = await makeUser(app, 'contributor', 'intruder');
    const err = await refused(() => other.api.patch(`/observations/${o.id}`, { title: 'mine now' }), 403);
    assert.equal(err.id, 'forbidden');
  });
});

describe('big transcripts', () => {
  test('a 1.5 MB transcript of distinct words is stored whole and its start is searchable', async () => {
    const words = Array.from({ length: 240_000 }, (_, i) => `w${i.toString(36)}x`);
    // Ten turns of 24,000 words (a part holds at most 200,000 characters).
    const turns = Array.from({ length: 10 }, (_, t) => `${t % 2 ? 'Assistant' : 'User'}: ${words.slice(t * 24_000, (t + 1) * 24_000).join(' ')}`);
    const transcript = turns.join('\n\n');
    assert.ok(transcript.length > 1_500_000);
    const res = await actors.contributor.api.post('/observations', observationBody({ transcript, visibility: 'public' }));
    assert.equal(res.status, 201, res.text.slice(0, 300));
    assert.equal(res.body.transcript.messages.length, 10, 'the transcript is kept whole');
    await app.drainSearchIndex();
    const early = await actors.anon.get(`/observations?q=${words[10]}`);
    if (!early.body.data.some((o: { id: string }) => o.id === res.body.id)) {
      // Say which half failed: the index (pending, or the word missing from the vector) or the search.
      const [row] = rowsOf(await app.deps.db.execute(sql`SELECT search_pending, visibility, deleted_at,
          search @@ websearch_to_tsquery('english', ${words[10]!}) AS matches FROM observations WHERE id = ${res.body.id}::uuid`));
      assert.fail(`words in the first 200,000 characters are indexed and found: ${JSON.stringify({ row, status: early.status, total: early.body.total, found: early.body.data.length })}`);
    }
    const late = await actors.anon.get(`/observations?q=${words[230_000]}`);
    assert.equal(late.status, 200);
    assert.ok(!late.body.data.some((o: { id: string }) => o.id === res.body.id), 'the rest is beyond the search cap');
  });

  test('one part over 200,000 characters is a 422 saying which part', async () => {
    const err = await refused(() => actors.contributor.api.post('/observations', observationBody({ transcript: `User: ${'a '.repeat(100_001)}` })), 422);
    assert.match(err.details.fields?.transcript ?? '', /Message 1, part 1.*200000/);
  });
});

describe('the body limit', () => {
  test('a body over the limit -> 413, nothing stored', async () => {
    const small = await startTestApp({ loadStarter: false, config: { bodyLimit: 4096 } });
    try {
      const admin = await makeUser(small, 'admin');
      const before = await observationTableCounts(small.deps.db);
      const res = await admin.api.post('/observations', observationBody({ transcript: `User: ${'a'.repeat(5000)}\nAssistant: ok` }));
      assert.equal(res.status, 413);
      assert.equal(res.body.error.id, 'payload_too_large');
      assert.match(res.body.error.message, /limit of 4 KB/);
      assert.deepEqual(await observationTableCounts(small.deps.db), before);
      const fits = await admin.api.post('/observations', observationBody());
      assert.equal(fits.status, 201, 'a body under the limit still works');
    } finally {
      await small.close();
    }
  });
});

describe('hostile text is data', () => {
  const script = '<script>alert(1)</script><img src=x onerror=alert(2)>';
  test('HTML and script in every text field are stored as is and returned as JSON', async () => {
    const body = observationBody({
      title: `${script} title`,
      surprise: `${script} surprise`,
      provider: `${script}p`.slice(0, 100),
      model: `${script}m`,
      modelVersion: `${script}v`,
      harness: `${script}h`,
      runtime: `${script}r`,
      quantization: `${script}q`.slice(0, 100),
      endpoint: `${script}e`,
      transcript: `User: ${script}\nAssistant: ${script}`,
      tags: ['script-test'],
    });
    const res = await actors.contributor.api.post('/observations', body);
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const got = await actors.contributor.api.get(`/observations/${res.body.id}`);
    assert.match(got.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(got.body.title, `${script} title`);
    assert.equal(got.body.surprise, `${script} surprise`);
    assert.equal(got.body.model, `${script}m`);
    assert.equal(got.body.provenance.harness, `${script}h`);
    assert.equal(got.body.transcript.messages[1].parts[0].text, script);
    const coded = await actors.researcher.api.post(`/observations/${res.body.id}/codings`, { code: 'REF-FULL', rationale: script, span: { messageId: 'm2', partIndex: 0, start: 0, end: 8 } });
    assert.equal(coded.body.rationale, script);
    assert.equal(coded.body.span.quote, '<script>');
    const raw = await actors.contributor.api.get(`/observations/${res.body.id}/raw`);
    assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(raw.headers.get('x-content-type-options'), 'nosniff');
  });

  test('a pasted HTML transcript comes back from /raw as text/plain, not HTML', async () => {
    const o = await submitObservation(actors.contributor);
    await actors.contributor.api.patch(`/observations/${o.id}`, { transcript: `User: hi\nAssistant: ${script}` });
    const raw = await actors.contributor.api.get(`/observations/${o.id}/raw`);
    assert.match(raw.headers.get('content-type') ?? '', /^text\/plain/);
    assert.ok(raw.text.includes(script));
  });

  test('search snippets never carry markup from the document: segments are plain text', async () => {
    const o = await submitObservation(actors.contributor, { title: 'Snippet wolverine test', surprise: `wolverine ${script} wolverine`, visibility: 'public' });
    const res = await actors.anon.get('/observations?q=wolverine');
    const item = res.body.data.find((x: { id: string }) => x.id === o.id);
    assert.ok(item);
    const joined = item.snippet.map((s: { text: string }) => s.text).join('');
    // ts_headline drops some tags and keeps others: snippets are document text the page must escape.
    assert.ok(joined.includes('<img src=x onerror=alert(2)>'), 'document text is returned as text, for the page to escape');
    assert.ok(!/[\u0002\u0003]/.test(joined), 'no highlight markers leak');
    assert.ok(item.snippet.every((s: { text: string; match: boolean }) => !s.match || /^wolverine$/i.test(s.text)), JSON.stringify(item.snippet));
    assert.ok(item.snippet.filter((s: { match: boolean }) => s.match).length >= 2);
  });

  test('SQL metacharacters are harmless in titles and in q', async () => {
    const evil = "'; DROP TABLE observations; --";
    const o = await submitObservation(actors.contributor, { title: evil, surprise: `Robert'); DELETE FROM users; -- \\ % _`, visibility: 'public' });
    assert.equal((await actors.contributor.api.get(`/observations/${o.id}`)).body.title, evil);
    for (const q of [evil, "' OR 1=1 --", '\\', '%', '"unbalanced', '!!! & | <-> :*', 'a'.repeat(500)]) {
      const res = await actors.anon.get(`/observations?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, `${q}: ${res.text.slice(0, 200)}`);
    }
    const found = await actors.anon.get(`/observations?q=${encodeURIComponent(evil)}`);
    assert.ok(found.body.data.some((x: { id: string }) => x.id === o.id), 'the words still match');
    const tables = rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM observations`));
    assert.ok(Number(tables[0]!.n) > 0);
    const tag = await actors.contributor.api.get(`/observations?tag=${encodeURIComponent("x' OR '1'='1")}`);
    assert.equal(tag.status, 200);
    assert.deepEqual(tag.body.data, []);
  });
});
