// @long: one of the slowest files (6-35 s); the runner starts these first, so a pass does not end waiting on one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { sql } from 'drizzle-orm';
import OpenAI from 'openai';
// By the package's own name, as a consumer imports it (package.json "exports" -> index.js, types index.d.ts).
import { flagged, flushObserved, observe, type CaptureSendFailure, type ObserveOptions } from 'menagerie/sdk';
import { makeActors } from '../../../test/support/clients.ts';
import { startFakeUpstream, type FakeUpstream } from '../../../test/support/fake-upstreams.ts';
import * as streams from '../../../test/support/model-streams.ts';
import { startTestApp, type TestApp } from '../../../test/support/test-app.ts';
import type * as Implementation from './observe.ts';

// The declarations consumers get (index.d.ts) and the implementation describe the same API: tsc fails otherwise.
type Declared = typeof import('menagerie/sdk');
type Implemented = Pick<typeof Implementation, keyof Declared>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameApi: Same<Declared, Implemented> & Same<ObserveOptions, Implementation.ObserveOptions> & Same<CaptureSendFailure, Implementation.CaptureSendFailure> = true;
assert.equal(sameApi, true);

// The fake upstream's hand-written requests, typed as the SDKs take them (`stream` is set per call).
const chatRequest = streams.chatRequest as unknown as Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, 'stream'>;
const responsesRequest = streams.responsesRequest as unknown as Omit<OpenAI.Responses.ResponseCreateParamsStreaming, 'stream'>;
const anthropicRequest = streams.anthropicRequest as unknown as Omit<Anthropic.MessageCreateParamsStreaming, 'stream'>;

const OPENAI_KEY = 'sk-proj-test-openai-key-0123456789';
const ANTHROPIC_KEY = 'sk-ant-api03-test-anthropic-key';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let app: TestApp;
let upstream: FakeUpstream;
let actors: Awaited<ReturnType<typeof makeActors>>;
/** Every body observe() sent to Menagerie, to prove no key ever left in one. */
const outgoing: string[] = [];
const spyFetch: typeof fetch = (input, init) => {
  if (typeof init?.body === 'string') outgoing.push(init.body);
  return fetch(input, init);
};

before(async () => {
  [app, upstream] = await Promise.all([startTestApp({ loadStarter: false }), startFakeUpstream()]);
  actors = await makeActors(app);
});
after(async () => {
  await upstream.close();
  await app.close();
});

function openai(): OpenAI {
  return new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${upstream.url}/v1`, maxRetries: 0 });
}
function anthropic(): Anthropic {
  return new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: upstream.url, maxRetries: 0 });
}
function options(name: string, extra: Partial<ObserveOptions> = {}): ObserveOptions & { errors: Error[] } {
  const errors: Error[] = [];
  return { menagerieUrl: app.url, token: actors.contributor.token, upstream: name, fetch: spyFetch, onError: (e) => errors.push(e), errors, ...extra };
}

/** The captures filed under an upstream name, oldest first, whole. */
async function capturesOf(upstreamName: string): Promise<any[]> {
  const list = await actors.contributor.api.get(`/captures?upstream=${encodeURIComponent(upstreamName)}&limit=200`);
  assert.equal(list.status, 200, list.text);
  const whole = await Promise.all(list.body.data.map((c: { id: string }) => actors.contributor.api.get(`/captures/${c.id}`)));
  return whole.map((r) => r.body).reverse();
}

/** What the fake upstream saw and sent for the call just made (calls run one at a time). */
function lastExchange(): { request: string; response: string; headers: Record<string, unknown> } {
  return { request: upstream.requests.at(-1)!.body, response: upstream.sent.at(-1)!.body.toString('utf8'), headers: upstream.requests.at(-1)!.headers };
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

const assistantText = (capture: any) =>
  capture.transcript.messages.filter((m: any) => m.role === 'assistant').flatMap((m: any) => m.parts.filter((p: any) => p.type === 'text').map((p: any) => p.text)).join('');

describe('observe(): an OpenAI client', () => {
  const name = 'sdk-openai';
  const exchanges: { request: string; response: string }[] = [];

  test('the caller gets exactly what an unobserved client gets, streams included', async () => {
    const direct = openai();
    const observed = observe(openai(), options(name));
    assert.equal(observe(observed, options(name)), observed, 'observing twice changes nothing');

    const calls: [string, (c: OpenAI) => Promise<unknown>][] = [
      ['chat', (c) => c.chat.completions.create({ ...chatRequest, stream: false })],
      ['chat stream', async (c) => collect(await c.chat.completions.create({ ...chatRequest, stream: true }))],
      ['responses', (c) => c.responses.create({ ...responsesRequest, stream: false })],
      ['responses stream', async (c) => collect(await c.responses.create({ ...responsesRequest, stream: true }))],
      ['completions', (c) => c.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Once' })],
      ['embeddings', (c) => c.embeddings.create({ model: 'text-embedding-3-small', input: 'hi', encoding_format: 'float' })],
    ];
    for (const [label, call] of calls) {
      const expected = await call(direct);
      const got = await call(observed);
      exchanges.push(lastExchange());
      assert.deepEqual(got, expected, label);
    }
    const { sent, lost } = await flushObserved(observed);
    assert.deepEqual({ sent, lost }, { sent: calls.length, lost: 0 });
  });

  test('every call arrives as a capture: raw request, raw response or SSE, rebuilt message and transcript, timings', async () => {
    const captures = await capturesOf(name);
    assert.deepEqual(
      captures.map((c) => [c.source, c.api, c.method, c.path, c.streamed, c.outcome, c.httpStatus]),
      [
        ['sdk', 'openai', 'POST', '/v1/chat/completions', false, 'complete', 200],
        ['sdk', 'openai', 'POST', '/v1/chat/completions', true, 'complete', 200],
        ['sdk', 'openai', 'POST', '/v1/responses', false, 'complete', 200],
        ['sdk', 'openai', 'POST', '/v1/responses', true, 'complete', 200],
        ['sdk', 'openai', 'POST', '/v1/completions', false, 'complete', 200],
        ['sdk', 'openai', 'POST', '/v1/embeddings', false, 'complete', 200],
      ],
    );
    captures.forEach((c, i) => {
      assert.equal(c.requestBody, exchanges[i]!.request, `request ${i} exactly as sent`);
      assert.equal(c.responseBody, exchanges[i]!.response, `response ${i} exactly as received`);
      assert.equal(c.keyFingerprint, sha256(OPENAI_KEY).slice(0, 12));
      assert.equal(c.requestHeaders.authorization, undefined);
      assert.ok(c.timings.firstByteMs > 0 && c.timings.durationMs >= c.timings.firstByteMs);
    });
    const [chat, chatStream, responses, responsesStream, completions, embeddings] = captures;
    assert.deepEqual(chat.transcript.messages.map((m: any) => m.role), ['system', 'user', 'assistant']);
    assert.match(chatStream.responseBody, /^data: \{"id":"chatcmpl-stream-1"/);
    assert.equal(assistantText(chatStream), 'Hello, héllo, こんにちは 👋', 'the stream is rebuilt into the message');
    assert.deepEqual(chatStream.rebuilt.choices[0].message.tool_calls.map((t: any) => t.function.arguments), ['{"city":"Paris"}', '{"city":"Tōkyō"}']);
    assert.deepEqual(chatStream.usage, { inputTokens: 52, outputTokens: 31, totalTokens: 83, reasoningTokens: 0 });
    assert.ok(chatStream.timings.firstTokenMs >= chatStream.timings.firstByteMs, 'time to first token is stamped');
    assert.equal(chat.timings.firstTokenMs, null);
    assert.ok(responses.transcript && responsesStream.transcript);
    assert.deepEqual(responsesStream.rebuilt, responses.rebuilt, 'the Responses stream rebuilds into the final response');
    assert.equal(completions.transcript, null);
    assert.equal(embeddings.transcript, null);
  });
});

describe('observe(): an Anthropic client', () => {
  const name = 'sdk-anthropic';
  const exchanges: { request: string; response: string; headers: Record<string, unknown> }[] = [];

  test('same results; thinking, signatures and flags arrive; the provider never sees the flag header', async () => {
    const direct = anthropic();
    const observed = observe(anthropic(), options(name, { flag: 'default note' }));
    const calls: [string, (c: Anthropic, flag?: string) => Promise<unknown>][] = [
      ['messages', (c, f) => c.messages.create({ ...anthropicRequest, stream: false }, f ? flagged(f) : undefined)],
      ['messages stream', async (c) => collect(await c.messages.create({ ...anthropicRequest, stream: true }))],
      ['count tokens', (c) => c.messages.countTokens({ model: anthropicRequest.model, messages: anthropicRequest.messages })],
    ];
    for (const [label, call] of calls) {
      const expected = await call(direct);
      const got = await call(observed, label === 'messages' ? 'naïve answer ✓ 100%' : undefined);
      exchanges.push(lastExchange());
      assert.deepEqual(got, expected, label);
    }
    await flushObserved(observed);
    for (const e of exchanges) {
      assert.equal(e.headers['x-menagerie-flag'], undefined, 'the flag header is taken off before the request leaves');
      assert.equal(e.headers.authorization, `Bearer ${ANTHROPIC_KEY}`, 'the provider key reaches the provider untouched');
    }

    const captures = await capturesOf(name);
    assert.deepEqual(captures.map((c) => [c.api, c.path, c.streamed, c.flag]), [
      ['anthropic', '/v1/messages', false, 'naïve answer ✓ 100%'],
      ['anthropic', '/v1/messages', true, 'default note'],
      ['anthropic', '/v1/messages/count_tokens', false, 'default note'],
    ]);
    captures.forEach((c, i) => {
      assert.equal(c.requestBody, exchanges[i]!.request);
      assert.equal(c.responseBody, exchanges[i]!.response);
      assert.equal(c.keyFingerprint, sha256(ANTHROPIC_KEY).slice(0, 12));
    });
    const stream = captures[1];
    assert.equal(stream.rebuilt.content[0].signature, 'EqQBCkgIARABGAIiQL+sig/opaque==');
    const reply = stream.transcript.messages.at(-1);
    assert.deepEqual(reply.parts.map((p: any) => p.type), ['reasoning', 'text', 'other', 'tool_call']);
    assert.match(reply.parts[2].originalType, /citation/, 'the citations are kept beside the text');
    assert.equal(reply.parts[0].text, 'The document says blue; naïve check ✓.');
    assert.equal(reply.parts[0].opaque, 'EqQBCkgIARABGAIiQL+sig/opaque==');
    assert.ok(stream.timings.firstTokenMs !== null);
    assert.equal(captures[2].transcript, null);
  });
});

describe('observe(): errors, abandoned streams and credentials', () => {
  test('an upstream error reaches the caller unchanged and is captured as an error', async () => {
    const name = 'sdk-errors';
    const direct = openai();
    const observed = observe(openai(), options(name));
    const fail = (c: OpenAI) => c.chat.completions.create({ model: 'error-400', messages: [{ role: 'user', content: 'hi' }] }).then(
      () => assert.fail('should throw'),
      (e: unknown) => e,
    );
    const expected = (await fail(direct)) as InstanceType<typeof OpenAI.BadRequestError>;
    const got = (await fail(observed)) as InstanceType<typeof OpenAI.BadRequestError>;
    assert.ok(got instanceof OpenAI.BadRequestError);
    assert.equal(got.status, expected.status);
    assert.equal(got.message, expected.message);
    await flushObserved(observed);
    const [capture] = await capturesOf(name);
    assert.equal(capture.outcome, 'error');
    assert.equal(capture.endReason, 'upstream_error');
    assert.equal(capture.httpStatus, 400);
    assert.equal(capture.responseBody, lastExchange().response);
  });

  test('a stream the caller abandons is captured as partial, with what arrived', async () => {
    const name = 'sdk-abandoned';
    const observed = observe(openai(), options(name));
    const stream = await observed.chat.completions.create({ ...chatRequest, model: 'hold-after-first-event', stream: true });
    for await (const chunk of stream) {
      assert.equal(chunk.id, 'chatcmpl-stream-1');
      break;
    }
    upstream.release();
    await flushObserved(observed);
    const [capture] = await capturesOf(name);
    assert.equal(capture.outcome, 'partial');
    assert.equal(capture.endReason, 'client_abort');
    assert.match(capture.responseBody, /^data: \{"id":"chatcmpl-stream-1"/);
    assert.ok(!capture.responseBody.includes('[DONE]'));
  });

  test('no provider key ever leaves for Menagerie or is stored; a refused token is reported, not thrown', async () => {
    assert.ok(outgoing.length > 0);
    for (const body of outgoing) {
      assert.ok(!body.includes(OPENAI_KEY) && !body.includes(ANTHROPIC_KEY), 'no key in what was sent');
      assert.ok(!/"authorization"|"x-api-key"/i.test(body), 'no credential header in what was sent');
    }
    const stored = await app.deps.db.execute(sql`SELECT request_headers::text || request_body || response_headers::text AS t FROM captures`);
    assert.ok(!JSON.stringify(stored).includes(OPENAI_KEY) && !JSON.stringify(stored).includes(ANTHROPIC_KEY));

    const failures: [Error, CaptureSendFailure][] = [];
    const observed = observe(openai(), { ...options('sdk-bad-token'), token: 'mng_not_a_token', onError: (e, f) => failures.push([e, f]) });
    const result = await observed.chat.completions.create({ ...chatRequest, stream: false });
    assert.equal(result.id, 'chatcmpl-whole-1');
    await flushObserved(observed);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]![1].kind, 'rejected');
    assert.equal(failures[0]![1].status, 401);
    assert.match(failures[0]![0].message, /HTTP 401/);
    assert.ok(!failures[0]![0].message.includes(OPENAI_KEY));
  });
});

describe('observe(): a Menagerie that is down or slow neither breaks nor slows the call', () => {
  let slow: Server;
  let slowUrl: string;
  let downUrl: string;
  before(async () => {
    // Accepts connections and never answers.
    slow = createServer(() => {});
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    downUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
  });
  after(() => {
    slow.closeAllConnections();
    slow.close();
  });

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  for (const which of ['down', 'slow'] as const) {
    test(`Menagerie ${which}: same answers, latency as without observe(), failures reported to onError`, async (t) => {
      const failures: CaptureSendFailure[] = [];
      const direct = openai();
      const observed = observe(openai(), {
        menagerieUrl: which === 'down' ? downUrl : slowUrl,
        token: actors.contributor.token,
        timeoutMs: 2_000,
        maxQueue: 5,
        onError: (_e, f) => failures.push(f),
      });
      const body = { ...chatRequest, stream: false as const };
      const expected = await direct.chat.completions.create(body);
      await observed.chat.completions.create(body); // warm both connections
      const times = { direct: [] as number[], observed: [] as number[] };
      for (let i = 0; i < 40; i++) {
        const pair = [['direct', direct], ['observed', observed]] as const;
        for (const [key, client] of i % 2 === 0 ? pair : [...pair].reverse()) {
          const t0 = performance.now();
          const got = await client.chat.completions.create(body);
          times[key].push(performance.now() - t0);
          assert.deepEqual(got, expected);
        }
      }
      // Calls alternate (in both orders), so each pair ran under the same load: the median of the pairs'
      // differences is what observe() adds. A design that waited for Menagerie would add its 2 s timeout.
      const added = median(times.observed.map((o, i) => o - times.direct[i]!));
      t.diagnostic(`median call: direct ${median(times.direct).toFixed(2)} ms, observed ${median(times.observed).toFixed(2)} ms; added (paired median) ${added.toFixed(2)} ms; slowest observed ${Math.max(...times.observed).toFixed(1)} ms`);
      assert.ok(added < 10, `observe() added ${added.toFixed(2)} ms to the median call (direct ${median(times.direct).toFixed(2)} ms)`);
      assert.ok(Math.max(...times.observed) < 1_000, `no call waited for Menagerie's 2 s timeout (slowest ${Math.max(...times.observed).toFixed(0)} ms)`);
      const t0 = performance.now();
      const { sent, lost } = await flushObserved(observed);
      assert.ok(performance.now() - t0 < 10_000, 'flushing is bounded by the send timeout');
      assert.equal(sent, 0);
      assert.equal(lost, 41);
      assert.ok(failures.some((f) => f.kind === 'unreachable'));
      if (which === 'slow') assert.ok(failures.some((f) => f.kind === 'queue_full'), 'the queue is bounded');
    });
  }
});

test('plain Node (no tsx) imports menagerie/sdk by the package name', () => {
  const script = "const m = await import('menagerie/sdk'); console.log([typeof m.observe, typeof m.flushObserved, typeof m.flagged].join(','));";
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../../..', import.meta.url).pathname, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'function,function,function');
});
