import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { anthropicMessage, anthropicRebuilt, anthropicStreamEvents } from '../support/model-streams.ts';
import { ANTHROPIC_KEY, rowText, startProxyHarness, type ProxyHarness } from '../support/proxy-harness.ts';

const ask = { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'Is 9.11 bigger than 9.9?' }] };

describe('recording proxy: Anthropic API through the real SDK', () => {
  let h: ProxyHarness;
  before(async () => (h = await startProxyHarness()));
  after(() => h.close());

  it('passes a message through with x-api-key and records it, thinking and signature kept', async () => {
    const since = await h.mark();
    const message = await h.anthropic().messages.create(ask);
    assert.deepEqual(JSON.parse(JSON.stringify(message)), anthropicMessage);
    const seen = h.upstream.requests.at(-1)!;
    const sentKey = seen.headers['x-api-key'] ?? seen.headers.authorization?.replace(/^Bearer /, '');
    assert.equal(sentKey, ANTHROPIC_KEY, 'the provider key passes through');
    assert.ok(seen.headers['anthropic-version'], 'provider headers pass through');
    assert.equal(seen.headers['x-menagerie-token'], undefined);
    const [row] = await h.capturesSince(since);
    assert.ok(row);
    assert.equal(row.api, 'anthropic');
    assert.equal(row.path, '/v1/messages');
    assert.deepEqual(row.rebuilt, anthropicMessage);
    assert.deepEqual(row.usage, { inputTokens: 20, outputTokens: 15, cacheReadTokens: 0, cacheWriteTokens: 0 });
    assert.deepEqual(row.transcript!.messages.at(-1)!.parts[0], { type: 'reasoning', text: 'Tenths first.', opaque: 'sig-whole==' });
    assert.equal(row.keyHash, createHash('sha256').update(ANTHROPIC_KEY).digest('hex'));
    assert.ok(!rowText(row).includes(ANTHROPIC_KEY));
    assert.ok(!/"x-api-key"/i.test(rowText(row)));
  });

  it('streams events unchanged and rebuilds the message with thinking, signature, citations and tool input', async () => {
    const since = await h.mark();
    const stream = await h.anthropic().messages.create({ ...ask, stream: true, thinking: { type: 'enabled', budget_tokens: 512 } });
    const events: unknown[] = [];
    for await (const event of stream) events.push(JSON.parse(JSON.stringify(event)));
    // The SDK drops `ping` events; the bytes are compared whole below.
    assert.deepEqual(events, anthropicStreamEvents.filter((e) => e.event !== 'ping').map((e) => e.data));
    const [row] = await h.capturesSince(since);
    assert.ok(row);
    assert.equal(row.streamed, true);
    assert.equal(row.responseBody, h.upstream.sent.at(-1)!.body.toString());
    assert.deepEqual(row.rebuilt, anthropicRebuilt);
    assert.deepEqual(row.usage, { inputTokens: 40, outputTokens: 87, cacheReadTokens: 12, cacheWriteTokens: 0 });
    const parts = row.transcript!.messages.at(-1)!.parts;
    assert.deepEqual(parts[0], { type: 'reasoning', text: 'The document says blue; naïve check ✓.', opaque: 'EqQBCkgIARABGAIiQL+sig/opaque==' });
    assert.ok(row.firstTokenMs !== null && row.firstTokenMs >= row.firstByteMs!);
    assert.equal(row.model, 'claude-sonnet-4-5-20250929');
  });

  it('records the SDK message stream helper the same way (finalMessage keeps thinking and signature)', async () => {
    const since = await h.mark();
    const final = await h.anthropic().messages.stream({ ...ask, thinking: { type: 'enabled', budget_tokens: 512 } }).finalMessage();
    assert.equal(final.content[0]!.type, 'thinking');
    assert.deepEqual(final.content[0], anthropicRebuilt.content[0]);
    const [row] = await h.capturesSince(since);
    assert.deepEqual((row!.rebuilt as { content: unknown[] }).content[0], final.content[0]);
  });

  it('hashes a key sent as x-api-key the same as one sent as a Bearer token', async () => {
    const since = await h.mark();
    const res = await fetch(`${h.app.url}/proxy/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', 'x-menagerie-token': h.actors.contributor.token },
      body: JSON.stringify(ask),
    });
    assert.equal(res.status, 200);
    assert.equal(h.upstream.requests.at(-1)!.headers['x-api-key'], ANTHROPIC_KEY);
    const [row] = await h.capturesSince(since);
    assert.equal(row?.keyHash, createHash('sha256').update(ANTHROPIC_KEY).digest('hex'));
    assert.equal(row?.requestHeaders['anthropic-version'], '2023-06-01');
    assert.ok(!rowText(row!).includes(ANTHROPIC_KEY));
  });

  it('passes count_tokens through', async () => {
    const since = await h.mark();
    const counted = await h.anthropic().messages.countTokens({ model: ask.model, messages: ask.messages });
    assert.equal(counted.input_tokens, 42);
    const [row] = await h.capturesSince(since);
    assert.equal(row?.path, '/v1/messages/count_tokens');
    assert.equal(row?.outcome, 'complete');
    assert.equal(row?.transcript, null);
  });

  it('records a 200 stream that carried an in-band error event as an upstream_error, and the client sees the error', async () => {
    const since = await h.mark();
    const stream = await h.anthropic().messages.create({ ...ask, model: 'in-band-error', stream: true });
    await assert.rejects(
      (async () => {
        for await (const _ of stream) {
          // consume
        }
      })(),
      (e: unknown) => e instanceof Error && /Overloaded/.test(e.message),
    );
    const [row] = await h.capturesSince(since);
    assert.ok(row);
    assert.equal(row.httpStatus, 200);
    assert.equal(row.outcome, 'error');
    assert.equal(row.endReason, 'upstream_error');
    assert.match(row.error ?? '', /overloaded_error: Overloaded/);
    assert.deepEqual((row.rebuilt as { content: unknown[] }).content, [{ type: 'text', text: 'The sky' }]);
  });

  it('passes Anthropic error statuses and bodies through exactly and records them', async () => {
    const since = await h.mark();
    await assert.rejects(h.anthropic().messages.create({ ...ask, model: 'error-400' }), (e: unknown) => (e as { status?: number }).status === 400 && /max_tokens: Field required/.test((e as Error).message));
    await assert.rejects(h.anthropic().messages.create({ ...ask, model: 'error-500' }), (e: unknown) => (e as { status?: number }).status === 500);
    const rows = (await h.capturesSince(since)).reverse();
    assert.deepEqual(rows.map((r) => [r.httpStatus, r.outcome, r.endReason]), [[400, 'error', 'upstream_error'], [500, 'error', 'upstream_error']]);
    assert.equal(rows[0]!.responseBody, h.upstream.sent.at(-2)!.body.toString());
    assert.equal((rows[0]!.rebuilt as { error: { type: string } }).error.type, 'invalid_request_error');
  });
});
