// @long: one of the slowest files (6-35 s); the runner starts these first, so a pass does not end waiting on one.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { CAPTURE_BODY_LIMIT } from '../../observations/capture/capture.input.ts';
import { chatCompletion, chatStream } from '../support/model-streams.ts';
import { OPENAI_KEY, startProxyHarness, type ProxyHarness } from '../support/proxy-harness.ts';

const ask = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user' as const, content: 'Hello?' }], ...extra });

/** A raw HTTP call through the proxy, returning the exact status, headers and body bytes the client received. */
function rawCall(h: ProxyHarness, path: string, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(h.app.url + path);
    const req = http.request(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${OPENAI_KEY}`, 'x-menagerie-token': h.actors.contributor.token, 'accept-encoding': 'gzip' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('recording proxy: failures reach the client as the upstream sent them, and are recorded', () => {
  let h: ProxyHarness;
  // A generous timeout: the 9 MB case must not be mistaken for a stall on a busy machine.
  before(async () => (h = await startProxyHarness({ proxyTimeoutMs: 30_000 })));
  after(() => h.close());

  it('passes 4xx and 5xx answers through byte for byte (status, headers, body) and records them as upstream errors', async () => {
    for (const [model, status] of [['error-400', 400], ['error-429', 429], ['error-500', 500]] as const) {
      const since = await h.mark();
      const res = await rawCall(h, '/proxy/openai/v1/chat/completions', JSON.stringify(ask(model)));
      const sent = h.upstream.sent.at(-1)!;
      assert.equal(res.status, status);
      assert.deepEqual(res.bytes, sent.body, `${model}: the body is the upstream's`);
      assert.equal(res.headers['x-request-id'], 'req_fake_1');
      if (status === 429) assert.equal(res.headers['retry-after'], '20');
      const [row] = await h.capturesSince(since);
      assert.equal(row?.httpStatus, status);
      assert.equal(row?.outcome, 'error');
      assert.equal(row?.endReason, 'upstream_error');
      assert.equal(row?.responseBody, sent.body.toString());
      assert.match(row?.error ?? '', new RegExp(`answered ${status}`));
    }
    await assert.rejects(h.openai().chat.completions.create(ask('error-400')), (e: unknown) => (e as { status?: number }).status === 400 && /Invalid value for 'temperature'/.test((e as Error).message));
  });

  it('records a stream the upstream cut mid-way as partial (network_error) with what arrived, and the client sees a broken stream', async () => {
    const since = await h.mark();
    const stream = await h.openai().chat.completions.create({ ...ask('cut-midway'), stream: true });
    let received = 0;
    await assert.rejects(async () => {
      for await (const _ of stream) received++;
    });
    assert.ok(received > 0, 'the events before the cut were delivered');
    const [row] = await h.capturesSince(since);
    assert.ok(row);
    assert.equal(row.outcome, 'partial');
    assert.equal(row.endReason, 'network_error');
    assert.equal(row.httpStatus, 200);
    assert.ok(row.responseBody.length > 0 && chatStream.startsWith(row.responseBody), 'the raw SSE that arrived, as a prefix of the stream');
    assert.equal((row.rebuilt as { id: string }).id, 'chatcmpl-stream-1', 'rebuilt from what arrived');
  });

  it('answers 502 JSON when the upstream cannot be reached, and records it', async () => {
    const dead = await startProxyHarness({ proxyUpstreams: [{ name: 'openai', api: 'openai', baseUrl: 'http://127.0.0.1:9' }] });
    try {
      const since = await dead.mark();
      await assert.rejects(dead.openai().chat.completions.create(ask('gpt-4o-mini')), (e: unknown) => (e as { status?: number }).status === 502 && /Could not reach the upstream "openai"/.test((e as Error).message));
      const [row] = await dead.capturesSince(since);
      assert.equal(row?.outcome, 'error');
      assert.equal(row?.endReason, 'network_error');
      assert.equal(row?.httpStatus, null);
    } finally {
      await dead.close();
    }
  });

  it('aborts the upstream call when the client goes away mid-stream, and records it as partial (client_abort)', async () => {
    const since = await h.mark();
    const controller = new AbortController();
    const stream = await h.openai().chat.completions.create({ ...ask('hold-after-first-event'), stream: true }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    await h.upstream.held();
    assert.equal((await iterator.next()).done, false);
    controller.abort();
    const [row] = await h.capturesSince(since);
    h.upstream.release();
    assert.ok(row);
    assert.equal(row.outcome, 'partial');
    assert.equal(row.endReason, 'client_abort');
    assert.ok(row.responseBody.startsWith('data: {'), 'what arrived before the client left');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.upstream.requests.at(-1)!.aborted, true, 'the upstream request was aborted');
  });

  it('forwards a gzip-encoded answer as the compressed bytes and stores it decoded', async () => {
    const since = await h.mark();
    const res = await rawCall(h, '/proxy/openai/v1/chat/completions', JSON.stringify(ask('gzip')));
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.deepEqual(res.bytes, h.upstream.sent.at(-1)!.body);
    assert.equal(JSON.parse(gunzipSync(res.bytes).toString()).model, 'gzip');
    const [row] = await h.capturesSince(since);
    assert.equal(row?.model, 'gzip');
    assert.deepEqual(row?.rebuilt, { ...chatCompletion, model: 'gzip' });
    assert.equal(row?.error, null);
  });

  it('forwards bodies larger than the capture limit whole, storing the first CAPTURE_BODY_LIMIT bytes and saying so', async () => {
    const since = await h.mark();
    const prompt = 'y'.repeat(CAPTURE_BODY_LIMIT + 1000);
    const res = await rawCall(h, '/proxy/openai/v1/chat/completions', JSON.stringify(ask('huge', { prompt })));
    assert.equal(res.status, 200);
    assert.deepEqual(res.bytes, h.upstream.sent.at(-1)!.body, 'the whole 9 MB answer');
    assert.equal(JSON.parse(h.upstream.requests.at(-1)!.body).prompt.length, prompt.length, 'the whole request reached the upstream');
    const [row] = await h.capturesSince(since);
    assert.ok(row);
    assert.equal(row.outcome, 'complete');
    assert.equal(row.responseBody.length, CAPTURE_BODY_LIMIT);
    assert.equal(row.requestBody.length, CAPTURE_BODY_LIMIT);
    assert.match(row.error ?? '', /The request body was 8\.0 MB.*first 8\.0 MB are stored/);
    assert.match(row.error ?? '', /The response body was 9\.0 MB/);
  });
});

describe('recording proxy: upstreams that never answer or stall (MENAGERIE_PROXY_TIMEOUT_MS)', () => {
  let h: ProxyHarness;
  before(async () => (h = await startProxyHarness({ proxyTimeoutMs: 600 })));
  after(() => h.close());

  it('cuts a stream whose upstream stalls past the timeout and records it as partial (timeout)', async () => {
    const since = await h.mark();
    const stream = await h.openai().chat.completions.create({ ...ask('stall-midway'), stream: true });
    const started = Date.now();
    await assert.rejects(async () => {
      for await (const _ of stream) {
        // read until the proxy cuts it
      }
    });
    assert.ok(Date.now() - started < 5000);
    const [row] = await h.capturesSince(since);
    assert.equal(row?.outcome, 'partial');
    assert.equal(row?.endReason, 'timeout');
    assert.match(row?.error ?? '', /stalled/);
    assert.equal(h.upstream.requests.at(-1)!.aborted, true, 'the upstream request was abandoned');
  });

  it('answers 504 JSON when the upstream never answers, and records the timeout', async () => {
    const since = await h.mark();
    const seen = h.upstream.requests.length;
    await assert.rejects(h.openai().chat.completions.create(ask('never-answers')), (e: unknown) => {
      assert.equal((e as { status?: number }).status, 504);
      assert.match((e as Error).message, /sent nothing for 0\.6 s/);
      return true;
    });
    assert.equal(h.upstream.requests.length, seen + 1, 'the call was forwarded');
    const [row] = await h.capturesSince(since);
    assert.equal(row?.outcome, 'error');
    assert.equal(row?.endReason, 'timeout');
    assert.equal(row?.httpStatus, null);
    assert.equal(row?.firstByteMs, null);
    assert.equal(row?.requestBody, JSON.stringify(ask('never-answers')));
  });
});
