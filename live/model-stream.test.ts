// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AppError } from '../core/errors.ts';
import { echoTokens, startFakeChatServer, type FakeChatRequest, type FakeChatServer } from '../test/support/fake-chat-server.ts';
import { describeTarget, parseLiveTarget, resolveLiveKey, type LiveTarget, type LiveTargetInput } from './live-target.ts';
import { LiveModelError, streamModel, type LiveMessage, type ModelStreamEvent } from './model-stream.ts';

const OPENAI_KEY = 'sk-test-live-openai-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-test-live-0123456789abcdef';
const QUESTION: LiveMessage[] = [{ role: 'user', content: 'Is 9.11 bigger than 9.9?' }];

type Outcome = { events: ModelStreamEvent[]; error: LiveModelError | null; ms: number };

/** Runs a stream to its end, keeping the events it yielded and the LiveModelError it ended with, if any. */
async function run(stream: AsyncGenerator<ModelStreamEvent>, onEvent?: (event: ModelStreamEvent, events: ModelStreamEvent[]) => void | Promise<void>): Promise<Outcome> {
  const events: ModelStreamEvent[] = [];
  const started = performance.now();
  let error: LiveModelError | null = null;
  try {
    for await (const event of stream) {
      events.push(event);
      await onEvent?.(event, events);
    }
  } catch (e) {
    assert.ok(e instanceof LiveModelError, `expected a LiveModelError, got ${String(e)}`);
    error = e;
  }
  return { events, error, ms: performance.now() - started };
}

const textOf = (events: ModelStreamEvent[]) => events.map((e) => (e.type === 'text' ? e.text : '')).join('');
const texts = (events: ModelStreamEvent[]) => events.filter((e) => e.type === 'text');

async function until(condition: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('streaming a live target through the real SDKs', () => {
  let fake: FakeChatServer;
  let env: Record<string, string>;
  before(async () => {
    fake = await startFakeChatServer({ delayMs: 2 });
    env = { OPENAI_API_KEY: OPENAI_KEY, ANTHROPIC_API_KEY: ANTHROPIC_KEY, MENAGERIE_JUDGE_KEY_ORIGINS: fake.url };
  });
  after(() => fake.close());

  const targetFor = (provider: LiveTarget['provider'], extra: Partial<LiveTargetInput> = {}) =>
    parseLiveTarget({ provider, model: provider === 'anthropic' ? 'claude-test' : 'gpt-test', baseUrl: provider === 'anthropic' ? fake.anthropicBaseUrl : fake.openaiBaseUrl, ...extra });
  /** Streams and returns the outcome with the one request the fake saw. */
  async function stream(target: LiveTarget, messages: LiveMessage[] = QUESTION, signal?: AbortSignal, onEvent?: Parameters<typeof run>[1]) {
    const from = fake.requests.length;
    const outcome = await run(streamModel({ target, messages, env, signal }), onEvent);
    assert.equal(fake.requests.length, from + 1, 'one request per stream');
    return { ...outcome, request: fake.requests[from]! };
  }
  const expectedReply = (request: FakeChatRequest) => echoTokens(request);

  for (const provider of ['openai', 'anthropic', 'openai-compatible'] as const) {
    test(`${provider}: text deltas in order, then one done with the reported model, finish reason and usage`, async () => {
      const { events, error, request } = await stream(targetFor(provider));
      assert.equal(error, null);
      const tokens = expectedReply(request);
      assert.ok(tokens.length > 10, 'the reply is streamed in many pieces');
      assert.deepEqual(texts(events), tokens.map((text) => ({ type: 'text', text })));
      assert.match(textOf(events), /^You said: Is 9\.11 bigger than 9\.9\?\. Here is a longer answer/);
      assert.deepEqual(events.at(-1), {
        type: 'done',
        finishReason: provider === 'anthropic' ? 'end_turn' : 'stop',
        modelVersion: `${request.body.model}-20250101`,
        usage: { inputTokens: 5, outputTokens: tokens.length },
      });
      assert.equal(events.filter((e) => e.type === 'done').length, 1);
      assert.equal(request.body.stream, true);
    });
  }

  test('openai: system prompt first, every turn in order, sampling settings and the key as sent', async () => {
    const target = targetFor('openai', { systemPrompt: 'Answer in one line.', temperature: 0.7, topP: 0.9, maxTokens: 500, seed: 42 });
    const turns: LiveMessage[] = [...QUESTION, { role: 'assistant', content: 'Yes.' }, { role: 'user', content: 'Are you sure?' }];
    const { events, request } = await stream(target, turns);
    assert.equal(request.path, '/v1/chat/completions');
    assert.equal(request.headers.authorization, `Bearer ${OPENAI_KEY}`);
    assert.deepEqual(request.body.messages, [{ role: 'system', content: 'Answer in one line.' }, ...turns]);
    assert.deepEqual(
      { model: request.body.model, temperature: request.body.temperature, top_p: request.body.top_p, max_completion_tokens: request.body.max_completion_tokens, seed: request.body.seed },
      { model: 'gpt-test', temperature: 0.7, top_p: 0.9, max_completion_tokens: 500, seed: 42 },
    );
    assert.equal(request.body.max_tokens, undefined, 'OpenAI reasoning models reject max_tokens');
    assert.deepEqual(request.body.stream_options, { include_usage: true });
    assert.match(textOf(events), /^You said: Are you sure\?\./, 'the model answered the last user turn');
  });

  test('openai: unset sampling settings and an empty system prompt are not sent', async () => {
    const { request } = await stream(targetFor('openai'));
    assert.deepEqual(request.body.messages, QUESTION);
    for (const field of ['temperature', 'top_p', 'seed']) assert.equal(request.body[field], undefined, field);
  });

  test('anthropic: system prompt at the top level, turns in order, sampling settings and the key as sent', async () => {
    const target = targetFor('anthropic', { systemPrompt: 'Answer in one line.', temperature: 0.3, topP: 0.8, maxTokens: 300 });
    const turns: LiveMessage[] = [...QUESTION, { role: 'assistant', content: 'Yes.' }, { role: 'user', content: 'Are you sure?' }];
    const { events, request } = await stream(target, turns);
    assert.equal(request.path, '/v1/messages');
    // SDK versions differ in the header they put the key in.
    assert.ok(request.headers['x-api-key'] === ANTHROPIC_KEY || request.headers.authorization === `Bearer ${ANTHROPIC_KEY}`, 'the Anthropic key is sent');
    assert.ok(!JSON.stringify(request.headers).includes(OPENAI_KEY), 'and no other key');
    assert.equal(request.body.system, 'Answer in one line.');
    assert.deepEqual(request.body.messages, turns);
    assert.deepEqual(
      { model: request.body.model, temperature: request.body.temperature, top_p: request.body.top_p, max_tokens: request.body.max_tokens, seed: request.body.seed },
      { model: 'claude-test', temperature: 0.3, top_p: 0.8, max_tokens: 300, seed: undefined },
    );
    assert.match(textOf(events), /^You said: Are you sure\?\./);
    const bare = await stream(targetFor('anthropic'));
    assert.equal(bare.request.body.system, undefined, 'an empty system prompt is not sent');
  });

  test('openai-compatible: max_tokens and seed, and no server key is sent to a keyless server', async () => {
    const { request } = await stream(targetFor('openai-compatible', { maxTokens: 64, seed: 7 }));
    assert.equal(request.body.max_tokens, 64);
    assert.equal(request.body.max_completion_tokens, undefined);
    assert.equal(request.body.seed, 7);
    assert.equal(request.headers.authorization, 'Bearer no-key-configured');
  });

  test('a reply cut by maxTokens says so in its finish reason', async () => {
    for (const provider of ['openai', 'anthropic'] as const) {
      const { events, error } = await stream(targetFor(provider, { maxTokens: 3 }));
      assert.equal(error, null);
      assert.equal(texts(events).length, 3);
      const done = events.at(-1);
      assert.ok(done?.type === 'done');
      assert.equal(done.finishReason, provider === 'anthropic' ? 'max_tokens' : 'length');
    }
  });

  test('aborting mid-stream ends the stream at once with "stopped", keeping the text so far, and closes the connection', async () => {
    fake.setReply(Array.from({ length: 200 }, (_, i) => `t${i} `), 20);
    try {
      for (const provider of ['openai', 'anthropic'] as const) {
        const controller = new AbortController();
        let abortedAt = 0;
        const outcome = await stream(targetFor(provider), QUESTION, controller.signal, (_event, events) => {
          if (events.length === 3) {
            abortedAt = performance.now();
            controller.abort();
          }
        });
        const ended = performance.now() - abortedAt;
        assert.equal(outcome.error?.reason, 'stopped', provider);
        assert.ok(ended < 200, `${provider}: ended ${Math.round(ended)} ms after the abort`);
        assert.equal(textOf(outcome.events), 't0 t1 t2 ');
        assert.ok(!outcome.events.some((e) => e.type === 'done'));
        await until(() => outcome.request.aborted, `${provider}: the server to see the disconnect`);
      }
    } finally {
      fake.setReply(echoTokens, 2);
    }
  });

  test('aborting while the answer is still on its way (before any token) also ends with "stopped"', async () => {
    fake.failNext('no-answer');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const { events, error, ms, request } = await stream(targetFor('openai'), QUESTION, controller.signal);
    assert.equal(error?.reason, 'stopped');
    assert.equal(events.length, 0);
    assert.ok(ms < 1000, `took ${Math.round(ms)} ms`);
    await until(() => request.aborted, 'the server to see the disconnect');
  });

  test('an already aborted signal makes no request', async () => {
    const from = fake.requests.length;
    const { error } = await run(streamModel({ target: targetFor('openai'), messages: QUESTION, env, signal: AbortSignal.abort() }));
    assert.equal(error?.reason, 'stopped');
    assert.equal(fake.requests.length, from);
  });

  test('breaking out of the loop closes the upstream connection', async () => {
    fake.setReply(Array.from({ length: 100 }, (_, i) => `t${i} `), 20);
    try {
      const from = fake.requests.length;
      for await (const event of streamModel({ target: targetFor('anthropic'), messages: QUESTION, env })) {
        if (event.type === 'text') break;
      }
      await until(() => fake.requests[from]?.aborted === true, 'the server to see the disconnect');
    } finally {
      fake.setReply(echoTokens, 2);
    }
  });

  const httpFailures = [
    { kind: 'http-401', reason: 'auth', status: 401, words: /Incorrect API key provided/ },
    { kind: 'http-429', reason: 'rate_limited', status: 429, words: /Rate limit reached.*wait 2 s/ },
    { kind: 'http-500', reason: 'upstream_error', status: 500, words: /The server had an error/ },
  ] as const;
  for (const provider of ['openai', 'anthropic'] as const) {
    for (const { kind, reason, status, words } of httpFailures) {
      test(`${provider}: ${kind} → "${reason}", with the status and the upstream's words, never the key`, async () => {
        fake.failNext(kind);
        const { events, error } = await stream(targetFor(provider));
        assert.equal(events.length, 0);
        assert.equal(error?.reason, reason);
        assert.equal(error?.status, status);
        assert.match(error!.message, new RegExp(`HTTP ${status}`));
        assert.match(error!.message, words);
        if (kind === 'http-401') assert.match(error!.message, provider === 'anthropic' ? /ANTHROPIC_API_KEY/ : /OPENAI_API_KEY/, 'names the variable to fix');
        // The fake's 401 quotes the key it was sent: it must be redacted.
        assert.ok(!error!.message.includes(OPENAI_KEY) && !error!.message.includes(ANTHROPIC_KEY), error!.message);
      });
    }
  }

  test('a server that is not there → "unreachable", naming the origin', async () => {
    const port = await freePort();
    const target = parseLiveTarget({ provider: 'openai-compatible', model: 'local', baseUrl: `http://127.0.0.1:${port}/v1` });
    const { events, error } = await run(streamModel({ target, messages: QUESTION, env }));
    assert.equal(events.length, 0);
    assert.equal(error?.reason, 'unreachable');
    assert.match(error!.message, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  });

  for (const provider of ['openai', 'anthropic'] as const) {
    test(`${provider}: a connection cut midway throws "upstream_error" after the deltas already sent`, async () => {
      fake.failNext('cut-midway');
      const { events, error, request } = await stream(targetFor(provider));
      const tokens = expectedReply(request);
      assert.equal(error?.reason, 'upstream_error');
      assert.match(error!.message, /broke after \d+ characters/);
      assert.ok(texts(events).length > 0 && texts(events).length < tokens.length, `got ${texts(events).length} of ${tokens.length} deltas`);
      assert.equal(textOf(events), tokens.slice(0, texts(events).length).join(''), 'the partial text is the start of the reply');
      assert.ok(!events.some((e) => e.type === 'done'));
    });

    test(`${provider}: a stream that ends cleanly before the answer is complete throws "upstream_error"`, async () => {
      fake.failNext('end-midway');
      const { events, error, request } = await stream(targetFor(provider));
      assert.equal(error?.reason, 'upstream_error');
      assert.match(error!.message, /ended the stream before the answer was complete/);
      assert.equal(texts(events).length, Math.ceil(expectedReply(request).length / 2));
      assert.ok(!events.some((e) => e.type === 'done'));
    });

    test(`${provider}: an error inside the 200 stream throws "in_band_error" after the deltas already sent`, async () => {
      fake.failNext('in-band-error');
      const { events, error, request } = await stream(targetFor(provider));
      assert.equal(error?.reason, 'in_band_error');
      assert.equal(error?.status, null);
      assert.match(error!.message, provider === 'anthropic' ? /overloaded_error: Overloaded/ : /server_error: The model is overloaded/);
      assert.equal(texts(events).length, Math.ceil(expectedReply(request).length / 2));
    });
  }

  test('a stream that goes silent → "timeout" after timeoutMs, keeping the deltas', async () => {
    fake.failNext('stall');
    const { events, error, ms, request } = await stream(targetFor('anthropic', { timeoutMs: 1000 }));
    assert.equal(error?.reason, 'timeout');
    assert.match(error!.message, /sent nothing for 1 s.*timeoutMs/);
    assert.equal(texts(events).length, 2);
    assert.ok(ms >= 900 && ms < 5000, `took ${Math.round(ms)} ms`);
    await until(() => request.aborted, 'the server to see the disconnect');
  });

  test('a server that never answers → "timeout"', async () => {
    fake.failNext('no-answer');
    const { events, error, ms } = await stream(targetFor('openai', { timeoutMs: 1000 }));
    assert.equal(error?.reason, 'timeout');
    assert.equal(events.length, 0);
    assert.ok(ms >= 900 && ms < 5000, `took ${Math.round(ms)} ms`);
  });

  test('a slow consumer does not count as the model being silent', async () => {
    fake.setReply(['one ', 'two ', 'three'], 1);
    try {
      const { events, error } = await stream(targetFor('openai', { timeoutMs: 1000 }), QUESTION, undefined, async (_event, events) => {
        if (events.length === 1) await new Promise((r) => setTimeout(r, 1500));
      });
      assert.equal(error, null);
      assert.equal(textOf(events), 'one two three');
      assert.equal(events.at(-1)?.type, 'done');
    } finally {
      fake.setReply(echoTokens, 2);
    }
  });

  test('reasoning and thinking deltas are left out of the text', async () => {
    const thinker = await startFakeChatServer({ thinking: ['Let me think. ', 'Tenths first. '], tokens: ['9.9 ', 'is ', 'bigger.'], delayMs: 1 });
    try {
      const keyEnv = { ...env, MENAGERIE_JUDGE_KEY_ORIGINS: thinker.url };
      for (const [provider, baseUrl] of [['openai-compatible', thinker.openaiBaseUrl], ['anthropic', thinker.anthropicBaseUrl]] as const) {
        const target = parseLiveTarget({ provider, model: 'thinker', baseUrl });
        const { events, error } = await run(streamModel({ target, messages: QUESTION, env: keyEnv }));
        assert.equal(error, null, provider);
        assert.equal(textOf(events), '9.9 is bigger.', provider);
        assert.equal(events.at(-1)?.type, 'done', provider);
      }
    } finally {
      await thinker.close();
    }
  });

  test('a missing key or a key aimed at an unlisted origin fails before any request', async () => {
    const from = fake.requests.length;
    const missing = await rejection(streamModel({ target: targetFor('openai'), messages: QUESTION, env: { MENAGERIE_JUDGE_KEY_ORIGINS: fake.url } }));
    assert.equal(missing.id, 'validation_failed');
    assert.match(missing.message, /set the environment variable OPENAI_API_KEY/);
    const unlisted = await rejection(streamModel({ target: targetFor('anthropic'), messages: QUESTION, env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY } }));
    assert.equal(unlisted.id, 'forbidden');
    assert.equal(fake.requests.length, from);
  });
});

describe('live target settings', () => {
  /** The validation error's per-field messages. */
  function fieldsOf(input: unknown): Record<string, string> {
    try {
      parseLiveTarget(input);
    } catch (error) {
      const appError = error as AppError;
      assert.equal(appError.id, 'validation_failed');
      assert.match(appError.message, /^The target model is not valid: /);
      return appError.details!.fields!;
    }
    assert.fail('expected the target to be rejected');
  }

  test('fill in the official base URL, the conventional key variable and the defaults', () => {
    assert.deepEqual(parseLiveTarget({ provider: 'openai', model: ' gpt-4o-mini ' }), {
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: 'https://api.openai.com/v1',
      apiKeyEnv: 'OPENAI_API_KEY',
      systemPrompt: '',
      temperature: null,
      topP: null,
      maxTokens: 1024,
      seed: null,
      timeoutMs: 120_000,
    });
    const anthropic = parseLiveTarget({ provider: 'anthropic', model: 'claude-sonnet-4-5' });
    assert.equal(anthropic.baseUrl, 'https://api.anthropic.com');
    assert.equal(anthropic.apiKeyEnv, 'ANTHROPIC_API_KEY');
    const local = parseLiveTarget({ provider: 'openai-compatible', model: 'qwen2.5-7b', baseUrl: 'http://127.0.0.1:8080/v1/' });
    assert.equal(local.baseUrl, 'http://127.0.0.1:8080/v1');
    assert.equal(local.apiKeyEnv, null, 'a local server needs no key unless one is named');
  });

  test('a parsed target parses to itself, so stored targets can be validated again', () => {
    for (const input of [
      { provider: 'openai', model: 'gpt-4o', systemPrompt: '  Keep the spaces.  ', temperature: 1.5, topP: 0.5, seed: 3, maxTokens: 32_000 },
      { provider: 'anthropic', model: 'claude-haiku-4-5', temperature: 1, timeoutMs: 1000 },
      { provider: 'openai-compatible', model: 'llama', baseUrl: 'http://10.0.0.2:8000/v1', apiKeyEnv: 'MENAGERIE_JUDGE_LOCAL' },
    ]) {
      const once = parseLiveTarget(input);
      assert.deepEqual(parseLiveTarget(once), once);
    }
    assert.equal(parseLiveTarget({ provider: 'openai', model: 'm', systemPrompt: '  Keep the spaces.  ' }).systemPrompt, '  Keep the spaces.  ');
  });

  test('an OpenAI-compatible server needs its baseUrl', () => {
    assert.match(fieldsOf({ provider: 'openai-compatible', model: 'qwen' }).baseUrl!, /OpenAI-compatible server needs its baseUrl/);
    assert.match(fieldsOf({ provider: 'openai', model: 'm', baseUrl: 'ftp://example.com' }).baseUrl!, /http\(s\) URL without credentials/);
    assert.match(fieldsOf({ provider: 'openai', model: 'm', baseUrl: 'https://user:pw@example.com/v1' }).baseUrl!, /without credentials/);
  });

  test('Anthropic takes no seed and a temperature up to 1', () => {
    assert.match(fieldsOf({ provider: 'anthropic', model: 'claude', seed: 1 }).seed!, /Anthropic models take no seed/);
    assert.equal(parseLiveTarget({ provider: 'anthropic', model: 'claude', seed: null }).seed, null);
    assert.match(fieldsOf({ provider: 'anthropic', model: 'claude', temperature: 1.5 }).temperature!, /Anthropic models take a temperature between 0 and 1/);
    assert.equal(parseLiveTarget({ provider: 'openai', model: 'gpt', temperature: 1.5 }).temperature, 1.5);
  });

  test('apiKeyEnv may only name a key variable, never hold the key', () => {
    for (const name of ['DATABASE_URL', 'MENAGERIE_SECRET', 'HOME', 'openai_api_key']) {
      assert.match(fieldsOf({ provider: 'openai', model: 'm', apiKeyEnv: name }).apiKeyEnv!, /not a key variable.*MENAGERIE_JUDGE_/, name);
    }
    assert.match(fieldsOf({ provider: 'openai', model: 'm', apiKeyEnv: 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789' }).apiKeyEnv!, /not the key itself/);
    assert.match(fieldsOf({ provider: 'openai', model: 'm', apiKey: 'sk-live-123' }).apiKey!, /keys are not stored in the target settings/);
    assert.match(fieldsOf({ provider: 'anthropic', model: 'm', apiKeyEnv: null }).apiKeyEnv!, /anthropic API needs a key/);
    assert.equal(parseLiveTarget({ provider: 'openai', model: 'm', apiKeyEnv: 'MENAGERIE_JUDGE_TEAM_B' }).apiKeyEnv, 'MENAGERIE_JUDGE_TEAM_B');
  });

  test('each problem is named at its field', () => {
    const fields = fieldsOf({ provider: 'gemini', model: '', systemPrompt: 'x'.repeat(20_001), temperature: 3, topP: 1.5, maxTokens: 10.5, seed: 'lucky', timeoutMs: 10, extra: 1 });
    assert.match(fields.provider!, /"openai", "anthropic" or "openai-compatible"/);
    assert.match(fields.model!, /name the model/);
    assert.match(fields.systemPrompt!, /at most 20,000 characters/);
    assert.match(fields.temperature!, /between 0 and 2/);
    assert.match(fields.topP!, /between 0 and 1/);
    assert.match(fields.maxTokens!, /whole number/);
    assert.match(fields.seed!, /whole number/);
    assert.match(fields.timeoutMs!, /at least 1000/);
    assert.match(fields._!, /extra/);
    assert.match(fieldsOf({ provider: 'openai', model: 'm', maxTokens: 32_001 }).maxTokens!, /at most 32,000/);
    assert.match(fieldsOf({ provider: 'openai', model: 'm', maxTokens: 0 }).maxTokens!, /at least 1/);
    assert.match(fieldsOf({ provider: 'openai', model: 'm'.repeat(201) }).model!, /at most 200/);
  });

  test('describeTarget names the provider and model, and the host when it is not the official API', () => {
    assert.equal(describeTarget(parseLiveTarget({ provider: 'openai', model: 'gpt-4o-mini' })), 'openai gpt-4o-mini');
    assert.equal(describeTarget(parseLiveTarget({ provider: 'anthropic', model: 'claude-sonnet-4-5' })), 'anthropic claude-sonnet-4-5');
    assert.equal(describeTarget(parseLiveTarget({ provider: 'openai-compatible', model: 'qwen', baseUrl: 'http://127.0.0.1:8080/v1' })), 'openai-compatible qwen at 127.0.0.1:8080');
  });

  test('resolveLiveKey: the key, none for a keyless server, a named missing variable, a refused origin', () => {
    const official = parseLiveTarget({ provider: 'openai', model: 'gpt-4o' });
    assert.equal(resolveLiveKey(official, { OPENAI_API_KEY: ` ${OPENAI_KEY} ` }), OPENAI_KEY);
    assert.equal(resolveLiveKey(parseLiveTarget({ provider: 'openai-compatible', model: 'm', baseUrl: 'http://127.0.0.1:9/v1' }), { OPENAI_API_KEY: OPENAI_KEY }), null);

    const missing = thrown(() => resolveLiveKey(official, { ANTHROPIC_API_KEY: ANTHROPIC_KEY }));
    assert.equal(missing.id, 'validation_failed');
    assert.match(missing.message, /set the environment variable OPENAI_API_KEY on the server/);
    assert.match(missing.details!.fields!.apiKeyEnv!, /OPENAI_API_KEY/);

    const elsewhere = parseLiveTarget({ provider: 'openai', model: 'gpt-4o', baseUrl: 'https://proxy.example.com/v1' });
    const refused = thrown(() => resolveLiveKey(elsewhere, { OPENAI_API_KEY: OPENAI_KEY }));
    assert.equal(refused.id, 'forbidden');
    assert.match(refused.message, /OPENAI_API_KEY is not sent to https:\/\/proxy\.example\.com.*MENAGERIE_JUDGE_KEY_ORIGINS/);
    assert.ok(!refused.message.includes(OPENAI_KEY));
    assert.equal(resolveLiveKey(elsewhere, { OPENAI_API_KEY: OPENAI_KEY, MENAGERIE_JUDGE_KEY_ORIGINS: 'https://other.example.com, https://proxy.example.com' }), OPENAI_KEY);

    const namedLocal = parseLiveTarget({ provider: 'openai-compatible', model: 'm', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'MENAGERIE_JUDGE_LOCAL' });
    assert.equal(thrown(() => resolveLiveKey(namedLocal, { MENAGERIE_JUDGE_LOCAL: 'k' })).id, 'forbidden', 'a local server is not an official origin');
  });
});

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    assert.equal((error as Error).name, 'AppError', String(error));
    return error as AppError;
  }
  assert.fail('expected an AppError');
}

async function rejection(stream: AsyncGenerator<ModelStreamEvent>): Promise<AppError> {
  try {
    for await (const _ of stream) assert.fail('expected no event');
  } catch (error) {
    assert.equal((error as Error).name, 'AppError', String(error));
    return error as AppError;
  }
  assert.fail('expected an AppError');
}

/** A port nothing listens on: one the system just gave out and took back. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
