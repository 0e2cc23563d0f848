import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { count } from 'drizzle-orm';
import { revokeApiToken, createApiToken } from '../../accounts/api-tokens.ts';
import { captures } from '../../observations/capture/capture.schema.ts';
import { chatCompletion, chatRebuilt, chatRequest, chatStreamEvents, responsesFinal } from '../support/model-streams.ts';
import { OPENAI_KEY, rowText, startProxyHarness, type ProxyHarness } from '../support/proxy-harness.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Is 9.11 bigger than 9.9?' }] };

describe('recording proxy: authentication', () => {
  let h: ProxyHarness;
  before(async () => (h = await startProxyHarness()));
  after(() => h.close());

  it('answers 401 JSON and forwards nothing without a Menagerie token, or with a wrong or revoked one', async () => {
    const seen = h.upstream.requests.length;
    const rowsBefore = (await h.app.deps.db.select({ n: count() }).from(captures))[0]!.n;
    await assert.rejects(h.openai({ token: null }).chat.completions.create(ask), (e: unknown) => {
      assert.ok(e instanceof Error && 'status' in e && e.status === 401);
      assert.match(e.message, /X-Menagerie-Token/);
      return true;
    });
    await assert.rejects(h.openai({ token: 'mng_not-a-real-token' }).chat.completions.create(ask), (e: unknown) => (e as { status?: number }).status === 401);
    const { id, token } = await createApiToken(h.app.deps.db, h.actors.researcher.id, 'soon revoked');
    await revokeApiToken(h.app.deps.db, { kind: 'user', id: h.actors.researcher.id, role: 'researcher', email: h.actors.researcher.email, displayName: 'r', via: 'system' }, id, new Date());
    const revoked = await fetch(`${h.app.url}/proxy/openai/v1/chat/completions`, { method: 'POST', headers: { 'x-menagerie-token': token, 'content-type': 'application/json', authorization: `Bearer ${OPENAI_KEY}` }, body: JSON.stringify(ask) });
    assert.equal(revoked.status, 401);
    assert.equal(((await revoked.json()) as { error: { id: string } }).error.id, 'token_revoked');
    // A session-less Bearer token meant for the site is not a proxy token: the Authorization header is the provider's.
    const bearerOnly = await fetch(`${h.app.url}/proxy/openai/v1/models`, { headers: { authorization: `Bearer ${h.actors.admin.token}` } });
    assert.equal(bearerOnly.status, 401);
    assert.equal(h.upstream.requests.length, seen, 'the upstream saw no request');
    await h.app.app.captureLog.drain();
    assert.equal((await h.app.deps.db.select({ n: count() }).from(captures))[0]!.n, rowsBefore, 'nothing recorded');
  });

  it('lets every signed-up role through with its own token, and records the capture as theirs', async () => {
    for (const actor of [h.actors.contributor, h.actors.researcher, h.actors.admin]) {
      const since = await h.mark();
      const answer = await h.openai({ token: actor.token }).chat.completions.create(ask);
      assert.equal(answer.choices[0]!.message.content, chatCompletion.choices[0]!.message.content);
      const [row] = await h.capturesSince(since);
      assert.equal(row?.capturedBy, actor.id, actor.role);
    }
  });

  it('accepts the token as a path segment (/proxy/t/TOKEN/<upstream>/v1) for tools that only take a base URL', async () => {
    const since = await h.mark();
    const client = h.openai({ token: null, baseURL: `${h.app.url}/proxy/t/${h.actors.contributor.token}/openai/v1` });
    const answer = await client.chat.completions.create(ask);
    assert.equal(answer.id, chatCompletion.id);
    const last = h.upstream.requests.at(-1)!;
    assert.equal(last.url, '/v1/chat/completions', 'the token is not forwarded in the path');
    const [row] = await h.capturesSince(since);
    assert.equal(row?.path, '/v1/chat/completions');
    assert.ok(!rowText(row!).includes(h.actors.contributor.token), 'the Menagerie token is not stored');
    const wrong = await fetch(`${h.app.url}/proxy/t/mng_wrong/openai/v1/models`);
    assert.equal(wrong.status, 401);
  });

  it('answers 404 JSON for an unknown upstream or a path outside /v1, naming the upstreams', async () => {
    const headers = { 'x-menagerie-token': h.actors.contributor.token };
    const unknown = await fetch(`${h.app.url}/proxy/nope/v1/models`, { headers });
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /openai, anthropic, ollama/);
    for (const path of ['/proxy/openai/v2/models', '/proxy/openai/v1/../../admin', '/proxy/openai']) {
      const res = await fetch(`${h.app.url}${path}`, { headers });
      assert.equal(res.status, 404, path);
    }
  });

  it('is off when MENAGERIE_PROXY_ENABLED=false', async () => {
    const off = await startProxyHarness({ proxyEnabled: false });
    try {
      const res = await fetch(`${off.app.url}/proxy/openai/v1/models`, { headers: { 'x-menagerie-token': off.actors.contributor.token } });
      assert.equal(res.status, 404);
      assert.equal(off.upstream.requests.length, 0);
    } finally {
      await off.close();
    }
  });
});

describe('recording proxy: OpenAI API through the real SDK', () => {
  let h: ProxyHarness;
  before(async () => (h = await startProxyHarness()));
  after(() => h.close());

  it('passes a chat completion through unchanged and records raw request, raw response, rebuilt message, transcript, usage and timings', async () => {
    const since = await h.mark();
    const answer = await h.openai({ headers: { 'X-Menagerie-Flag': 'decimal comparison' } }).chat.completions.create(ask);
    assert.deepEqual(JSON.parse(JSON.stringify(answer)), chatCompletion);
    const seen = h.upstream.requests.at(-1)!;
    assert.equal(seen.headers.authorization, `Bearer ${OPENAI_KEY}`, 'the provider key passes through');
    assert.equal(seen.headers['x-menagerie-token'], undefined, 'X-Menagerie-* headers are not forwarded');
    assert.equal(seen.headers['x-menagerie-flag'], undefined);
    assert.deepEqual(JSON.parse(seen.body), ask);
    const [row] = await h.capturesSince(since);
    assert.ok(row);
    assert.equal(row.source, 'proxy');
    assert.equal(row.upstream, 'openai');
    assert.equal(row.api, 'openai');
    assert.equal(row.method, 'POST');
    assert.equal(row.path, '/v1/chat/completions');
    assert.equal(row.outcome, 'complete');
    assert.equal(row.endReason, 'done');
    assert.equal(row.httpStatus, 200);
    assert.equal(row.streamed, false);
    assert.equal(row.requestBody, seen.body);
    assert.equal(row.responseBody, h.upstream.sent.at(-1)!.body.toString());
    assert.deepEqual(row.rebuilt, chatCompletion);
    assert.equal(row.model, chatCompletion.model);
    assert.deepEqual(row.usage, { inputTokens: 14, outputTokens: 12, totalTokens: 26 });
    assert.deepEqual(row.transcript?.messages.map((m) => m.role), ['user', 'assistant']);
    assert.equal(row.flag, 'decimal comparison');
    assert.equal(row.keyHash, sha256(OPENAI_KEY));
    assert.ok(row.firstByteMs !== null && row.firstByteMs >= 0 && row.durationMs! >= row.firstByteMs);
    assert.equal(row.firstTokenMs, null);
    assert.equal(row.responseHeaders['x-request-id'], 'req_fake_1');
    assert.equal(row.requestHeaders['content-type'], 'application/json');
    const text = rowText(row);
    for (const secret of [OPENAI_KEY, h.actors.contributor.token, 'secret-cookie']) assert.ok(!text.includes(secret), `${secret} is not stored`);
    assert.ok(!/"(authorization|x-api-key|cookie|set-cookie|x-menagerie-token)"/i.test(text), 'no credential header is stored');
  });

  it('forwards a stream chunk by chunk: the client gets every event the upstream sent, the capture keeps the raw SSE and rebuilds it', async () => {
    const since = await h.mark();
    const stream = await h.openai().chat.completions.create({ ...(chatRequest as object), stream: true } as never);
    const chunks: unknown[] = [];
    for await (const chunk of stream as unknown as AsyncIterable<unknown>) chunks.push(JSON.parse(JSON.stringify(chunk)));
    assert.deepEqual(chunks, chatStreamEvents.filter((e) => e.data !== '[DONE]').map((e) => e.data));
    const [row] = await h.capturesSince(since);
    assert.ok(row);
    assert.equal(row.streamed, true);
    assert.equal(row.responseBody, h.upstream.sent.at(-1)!.body.toString(), 'the raw SSE, byte for byte');
    assert.deepEqual(row.rebuilt, chatRebuilt);
    assert.deepEqual(row.usage, { inputTokens: 52, outputTokens: 31, totalTokens: 83, reasoningTokens: 0 });
    const assistant = row.transcript!.messages.at(-1)!;
    assert.deepEqual(assistant.parts.map((p) => p.type), ['text', 'tool_call', 'tool_call']);
    assert.ok(row.firstTokenMs !== null && row.firstTokenMs >= row.firstByteMs! && row.firstTokenMs <= row.durationMs!);
    assert.equal(row.outcome, 'complete');
  });

  it('sends each chunk on as it arrives, before the upstream has finished', async () => {
    const stream = await h.openai().chat.completions.create({ ...ask, model: 'hold-after-first-event', stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await h.upstream.held();
    const first = await iterator.next();
    assert.equal(first.done, false, 'the first event arrived while the upstream was still holding the rest');
    h.upstream.release();
    let n = 1;
    while (!(await iterator.next()).done) n++;
    assert.equal(n, chatStreamEvents.length - 1);
  });

  it('passes the Responses API, completions, embeddings and models through and records each call', async () => {
    const since = await h.mark();
    const client = h.openai();
    const response = await client.responses.create({ model: 'o4-mini', input: 'Which is bigger?' });
    assert.equal(response.id, responsesFinal.id);
    assert.equal(response.output_text, '9.9 is bigger — by 0.79.');
    const streamed = await client.responses.create({ model: 'o4-mini', input: 'Which is bigger?', stream: true });
    const types: string[] = [];
    for await (const event of streamed) types.push(event.type);
    assert.equal(types.at(-1), 'response.completed');
    const completion = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Once' });
    assert.equal(completion.choices[0]!.text, ' upon a time');
    const embedding = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi', encoding_format: 'float' });
    assert.deepEqual(embedding.data[0]!.embedding, [0.1, -0.2, 0.3]);
    const models = await client.models.list();
    assert.equal(models.data[0]!.id, 'gpt-4o-mini');
    const rows = (await h.capturesSince(since)).reverse();
    assert.deepEqual(rows.map((r) => `${r.method} ${r.path}`), ['POST /v1/responses', 'POST /v1/responses', 'POST /v1/completions', 'POST /v1/embeddings', 'GET /v1/models']);
    assert.deepEqual(rows[0]!.rebuilt, responsesFinal);
    assert.deepEqual(rows[1]!.rebuilt, responsesFinal, 'the stream rebuilt from response.completed');
    assert.deepEqual(rows[1]!.usage, { inputTokens: 30, outputTokens: 60, totalTokens: 90, reasoningTokens: 40, cacheReadTokens: 4 });
    assert.ok(rows[1]!.transcript!.messages.some((m) => m.parts.some((p) => p.type === 'reasoning')));
    assert.equal(rows[3]!.model, 'text-embedding-3-small');
    assert.equal(rows[4]!.requestBody, '');
    assert.ok(rows.every((r) => r.outcome === 'complete' && r.httpStatus === 200));
  });

  it('serves a named OpenAI-compatible local upstream (/proxy/ollama/v1) and records it under that name', async () => {
    const since = await h.mark();
    const answer = await h.openai({ upstream: 'ollama' }).chat.completions.create({ ...ask, model: 'llama3.2' });
    assert.equal(answer.id, chatCompletion.id);
    const [row] = await h.capturesSince(since);
    assert.equal(row?.upstream, 'ollama');
  });

  it('reads a percent-encoded or UTF-8 flag note', async () => {
    const since = await h.mark();
    await h.openai({ headers: { 'X-Menagerie-Flag': encodeURIComponent('naïve “quote” ✓') } }).chat.completions.create(ask);
    const [row] = await h.capturesSince(since);
    assert.equal(row?.flag, 'naïve “quote” ✓');
  });
});
