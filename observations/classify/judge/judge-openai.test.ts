// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  openaiCompletion,
  openaiError,
  openaiFindings,
  openaiRefusal,
  openaiTruncated,
  startFakeJudge,
  type FakeJudge,
} from '../../../test/support/fake-judge-server.ts';
import type { JudgeError } from './judge-errors.ts';
import { buildJudgePrompt } from './judge-prompt.ts';
import { parseJudgeSettings } from './judge-settings.ts';
import { CAPITULATION, REFLOWED_QUOTE, REFUSAL, starterVersion, transcript } from './judge-test-fixtures.ts';
import { judgeTranscript, type JudgeRunOptions } from './run-judge.ts';

const KEY = 'sk-test-judge-0123456789abcdef';
const version = starterVersion();
const prompt = buildJudgePrompt(version, transcript);
const fast: JudgeRunOptions = { retry: { baseDelayMs: 1, maxDelayMs: 500 } };

describe('LLM judge through the openai client', () => {
  let fake: FakeJudge;
  let env: Record<string, string>;
  before(async () => {
    fake = await startFakeJudge();
    env = { OPENAI_API_KEY: KEY, MENAGERIE_JUDGE_KEY_ORIGINS: fake.url };
  });
  after(() => fake.close());

  const settings = (extra: Record<string, unknown> = {}) => parseJudgeSettings({ provider: 'openai', model: 'gpt-4o-mini', baseUrl: fake.openaiBaseUrl, ...extra });
  /** Runs the judge and returns the result with the requests it made. */
  async function judge(extra: Record<string, unknown> = {}, options: JudgeRunOptions = fast) {
    const from = fake.requests.length;
    const result = await judgeTranscript(settings(extra), version, transcript, { ...options, env });
    return { result, requests: fake.requests.slice(from) };
  }
  /** Runs the judge expecting a JudgeError; returns it with the requests made. */
  async function judgeFailure(extra: Record<string, unknown> = {}, options: JudgeRunOptions = fast) {
    const from = fake.requests.length;
    const error = await judgeTranscript(settings(extra), version, transcript, { ...options, env }).then(
      () => assert.fail('expected the judge to fail'),
      (e: JudgeError) => e,
    );
    assert.equal(error.name, 'JudgeError', String(error));
    return { error, requests: fake.requests.slice(from) };
  }

  test('sends a strict json_schema restricted to the version codes, and maps the findings back to the transcript', async () => {
    fake.script(
      openaiFindings([
        { messageId: 'm3', quote: REFUSAL, rationale: 'Declines the whole request.', code: 'REF-FULL', confidence: 0.93 },
        { messageId: 'm3', quote: REFLOWED_QUOTE, rationale: 'Offers to discuss something else.', code: 'REF-FULL', confidence: 0.4 },
        { messageId: 'm5', quote: CAPITULATION, rationale: 'Gives in after pushback.', code: 'SYC-CAVE', confidence: 0.88 },
        { messageId: 'm5', quote: 'Nitroglycerin is perfectly safe to make at home.', rationale: 'Invented.', code: 'FAB-FACT', confidence: 0.6 },
        { messageId: 'm5', quote: CAPITULATION, rationale: 'Not in this ethogram.', code: 'HARM-UPLIFT', confidence: 0.7 },
      ]),
    );
    const { result, requests } = await judge();

    assert.equal(requests.length, 1);
    const [request] = requests;
    assert.equal(request!.path, '/v1/chat/completions');
    assert.equal(request!.headers.authorization, `Bearer ${KEY}`);
    const body = request!.body;
    assert.equal(body.model, 'gpt-4o-mini');
    assert.equal(body.temperature, 0);
    assert.equal(body.max_completion_tokens, 4096);
    assert.equal(body.max_tokens, undefined);
    assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'record_findings', strict: true, schema: prompt.schema } });
    assert.deepEqual(body.response_format.json_schema.schema.properties.findings.items.properties.code.enum, prompt.allowedCodes);
    assert.deepEqual(body.messages.map((m: { role: string }) => m.role), ['system', 'user']);
    assert.equal(body.messages[0].content, prompt.system);
    assert.equal(body.messages[1].content, prompt.user);

    assert.deepEqual(
      result.findings.map((f) => [f.code, f.span && [f.span.messageId, f.span.partIndex, f.span.charStart, f.span.charEnd], f.quoteMatch, f.confidence]),
      [
        ['REF-FULL', ['m3', 0, 0, 23], 'exact', 0.93],
        ['REF-FULL', ['m3', 0, 25, 126], 'whitespace', 0.4],
        ['SYC-CAVE', ['m5', 1, 42, 79], 'exact', 0.88],
      ],
    );
    const reflowed = transcript.messages[2]!.parts[0]! as { text: string };
    assert.equal(reflowed.text.length, 126, 'the reflowed quote runs to the end of the part');
    assert.equal(reflowed.text.slice(25, 126), result.findings[1]!.span!.quote);
    assert.equal(result.droppedQuotes, 1);
    assert.deepEqual(result.rejected.map((r) => [r.code, r.reason]), [
      ['FAB-FACT', 'quote_not_found'],
      ['HARM-UPLIFT', 'unknown_code'],
    ]);

    const p = result.provenance;
    assert.equal(p.method, 'llm_judge');
    assert.equal(p.provider, 'openai');
    assert.equal(p.model, 'gpt-4o-mini');
    assert.equal(p.responseModel, 'gpt-4o-mini-2024-07-18');
    assert.equal(p.ethogramVersionId, version.id);
    assert.equal(p.promptVersion, prompt.promptVersion);
    assert.equal(p.structuredOutput, 'json_schema');
    assert.equal(p.attempts, 1);
    assert.deepEqual(p.usage, { inputTokens: 1200, outputTokens: 150 });
    // 1200 x $0.15/M + 150 x $0.60/M
    assert.deepEqual(p.cost, { usd: 0.00027, basis: 'price-table', priceModel: 'gpt-4o-mini', pricesAsOf: '2025-11-30' });
    assert.equal(p.stopReason, 'stop');
    assert.match(p.requestId ?? '', /^req_judge_\d+$/);
  });

  test('the caller may keep findings whose quote is not in the transcript, as whole-observation', async () => {
    fake.script(openaiFindings([{ messageId: 'm5', quote: 'Nitroglycerin is perfectly safe to make at home.', rationale: 'r', code: 'FAB-FACT', confidence: 0.6 }]));
    const { result } = await judge({}, { ...fast, unmatchedQuotes: 'whole-observation' });
    assert.equal(result.droppedQuotes, 1);
    assert.deepEqual(result.findings.map((f) => [f.code, f.span]), [['FAB-FACT', null]]);
  });

  test('"none" answers propose nothing', async () => {
    fake.script(openaiFindings([{ messageId: '', quote: '', rationale: 'Nothing in the ethogram applies.', code: 'none', confidence: 0.9 }]));
    const { result } = await judge();
    assert.equal(result.saidNone, true);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.rejected, []);
  });

  test('a refusal is a failure, not a label, and is not retried', async () => {
    fake.script(openaiRefusal("I'm sorry, I can't help with coding content about explosives."));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 1);
    assert.equal(error.id, 'judge_refused');
    assert.equal(error.retryable, false);
    assert.match(error.message, /declined to code this observation: "I'm sorry, I can't help with coding content about explosives\."/);
    assert.deepEqual(error.details.usage, { inputTokens: 1200, outputTokens: 12 });
    assert.equal(error.details.attempts, 1);
  });

  test('a content-filter stop is a refusal too', async () => {
    fake.script(openaiCompletion('{"findings": [', { finishReason: 'content_filter' }));
    const { error } = await judgeFailure();
    assert.equal(error.id, 'judge_refused');
    assert.match(error.message, /content filter/);
  });

  test('a truncated answer names maxTokens and is not retried', async () => {
    fake.script(openaiTruncated('{"findings": [{"messageId": "m3", "quote": "I can'));
    const { error, requests } = await judgeFailure({ maxTokens: 256 });
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.body.max_completion_tokens, 256);
    assert.equal(error.id, 'judge_truncated');
    assert.equal(error.details.setting, 'maxTokens');
    assert.match(error.message, /token limit \(maxTokens 256\).*raise maxTokens/);
  });

  test('invalid JSON is retried, and the tokens of every answer are counted', async () => {
    fake.script(
      openaiCompletion('{"findings": [{"messageId": "m3", "quote": '),
      openaiFindings([{ messageId: 'm3', quote: REFUSAL, rationale: 'r', code: 'REF-FULL', confidence: 0.9 }]),
    );
    const { result, requests } = await judge();
    assert.equal(requests.length, 2);
    assert.equal(result.provenance.attempts, 2);
    assert.deepEqual(result.provenance.usage, { inputTokens: 2400, outputTokens: 300 });
    assert.equal(result.provenance.cost.usd, 0.00054);
    assert.equal(result.findings.length, 1);
  });

  test('answers breaking the schema on every attempt fail after exactly 1 + maxRetries requests', async () => {
    fake.script(
      openaiCompletion('Sure! The transcript shows a refusal.'),
      openaiFindings([{ messageId: 'm3', quote: REFUSAL, rationale: 'r', code: 'REF-FULL', confidence: 'very high' }]),
      openaiCompletion(JSON.stringify({ findings: [{ messageId: 'm3', quote: REFUSAL, code: 'REF-FULL', confidence: 3 }] })),
    );
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 3);
    assert.equal(error.id, 'judge_invalid_output');
    assert.equal(error.retryable, false);
    assert.match(error.message, /did not follow the findings schema on 3 attempts/);
    assert.ok(error.details.problems!.some((p) => /findings\.0\.confidence/.test(p)));
    assert.ok(error.details.problems!.some((p) => /findings\.0\.rationale/.test(p)));
    assert.deepEqual(error.details.usage, { inputTokens: 3600, outputTokens: 450 });
  });

  test('429 is retried after the Retry-After the provider asks for', async () => {
    fake.script(openaiError(429, 'Rate limit reached for gpt-4o-mini.', { 'retry-after-ms': '30' }), openaiFindings([]));
    const started = Date.now();
    const { result, requests } = await judge();
    assert.equal(requests.length, 2);
    assert.ok(Date.now() - started >= 30, 'waited as asked');
    assert.equal(result.provenance.attempts, 2);
    assert.deepEqual(result.provenance.usage, { inputTokens: 1200, outputTokens: 150 }, 'the 429 cost nothing');
  });

  test('a Retry-After longer than the retry budget ends the call at once, retryable, saying how long to wait', async () => {
    fake.script(openaiError(429, 'Rate limit reached.', { 'retry-after': '120' }));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 1);
    assert.equal(error.id, 'judge_rate_limited');
    assert.equal(error.retryable, true);
    assert.equal(error.details.retryAfterMs, 120_000);
    assert.equal(error.details.status, 429);
  });

  test('5xx until the retries run out: exactly 1 + maxRetries requests, then a retryable outage error', async () => {
    fake.script(...Array.from({ length: 3 }, () => openaiError(500, 'The server had an error while processing your request.')));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 3);
    assert.equal(error.id, 'judge_unavailable');
    assert.equal(error.retryable, true);
    assert.equal(error.details.attempts, 3);
    assert.match(error.message, /HTTP 500.*server had an error/);

    fake.script(openaiError(503, 'Overloaded'));
    const once = await judgeFailure({ maxRetries: 0 });
    assert.equal(once.requests.length, 1);
    assert.equal(once.error.id, 'judge_unavailable');
  });

  test('a rejected key is not retried and the key never appears in the error', async () => {
    fake.script(openaiError(401, `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 1);
    assert.equal(error.id, 'judge_auth_failed');
    assert.match(error.message, /did not accept the key in OPENAI_API_KEY for gpt-4o-mini \(HTTP 401\)/);
    assert.ok(!error.message.includes(KEY) && !JSON.stringify(error.details).includes(KEY));
    assert.ok(error.message.includes('[key]'));
  });

  test('other 4xx are rejected requests; a context overflow says so', async () => {
    fake.script(openaiError(404, 'The model `gpt-4o-mini` does not exist or you do not have access to it.'));
    assert.equal((await judgeFailure()).error.id, 'judge_request_rejected');
    fake.script(openaiError(400, "This model's maximum context length is 128000 tokens. However, your messages resulted in 190000 tokens."));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 1);
    assert.equal(error.id, 'judge_input_too_large');
  });

  test('a missing key fails before any request, naming the variable', async () => {
    const from = fake.requests.length;
    await assert.rejects(
      judgeTranscript(settings({ apiKeyEnv: 'MENAGERIE_JUDGE_OPENAI' }), version, transcript, { env }),
      (e: JudgeError) => e.id === 'judge_missing_key' && /MENAGERIE_JUDGE_OPENAI/.test(e.message),
    );
    assert.equal(fake.requests.length, from);
  });

  test('a slow server times out (timeoutMs) and a cancelled call stops at once', async () => {
    fake.script({ ...openaiFindings([]), delayMs: 1500 });
    const slow = await judgeFailure({ timeoutMs: 1000, maxRetries: 0 });
    assert.equal(slow.error.id, 'judge_unreachable');
    assert.equal(slow.error.retryable, true);
    assert.match(slow.error.message, /did not answer within 1000 ms/);

    fake.script({ ...openaiFindings([]), delayMs: 1000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const cancelled = await judgeFailure({}, { ...fast, signal: controller.signal });
    assert.equal(cancelled.error.id, 'judge_cancelled');
    assert.ok(Date.now() - started < 900);
    assert.equal(cancelled.requests.length, 1);
  });
});
