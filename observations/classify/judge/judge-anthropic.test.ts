// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  anthropicError,
  anthropicFindings,
  anthropicMessage,
  anthropicRefusal,
  anthropicTextOnly,
  anthropicToolUse,
  anthropicTruncated,
  startFakeJudge,
  type FakeJudge,
} from '../../../test/support/fake-judge-server.ts';
import type { JudgeError } from './judge-errors.ts';
import { buildJudgePrompt } from './judge-prompt.ts';
import { parseJudgeSettings } from './judge-settings.ts';
import { CAPITULATION, REFUSAL, starterVersion, transcript } from './judge-test-fixtures.ts';
import { createJudge, type JudgeRunOptions } from './run-judge.ts';

const KEY = 'sk-ant-test-judge-abcdef';
const version = starterVersion();
const prompt = buildJudgePrompt(version, transcript);
const fast: JudgeRunOptions = { retry: { baseDelayMs: 1, maxDelayMs: 500 } };

describe('LLM judge through the @anthropic-ai/sdk client', () => {
  let fake: FakeJudge;
  before(async () => {
    fake = await startFakeJudge();
  });
  after(() => fake.close());

  const judgeWith = (extra: Record<string, unknown> = {}) =>
    createJudge(parseJudgeSettings({ provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: fake.anthropicBaseUrl, ...extra }), {
      env: { ANTHROPIC_API_KEY: KEY, MENAGERIE_JUDGE_KEY_ORIGINS: fake.url },
    });
  async function judge(extra: Record<string, unknown> = {}) {
    const from = fake.requests.length;
    const result = await judgeWith(extra).judge(version, transcript, fast);
    return { result, requests: fake.requests.slice(from) };
  }
  async function judgeFailure(extra: Record<string, unknown> = {}) {
    const from = fake.requests.length;
    const error = await judgeWith(extra)
      .judge(version, transcript, fast)
      .then(
        () => assert.fail('expected the judge to fail'),
        (e: JudgeError) => e,
      );
    assert.equal(error.name, 'JudgeError', String(error));
    return { error, requests: fake.requests.slice(from) };
  }

  test('forces the one findings tool, whose input schema restricts codes to the version, and reads its input', async () => {
    fake.script(
      anthropicFindings(
        [
          { messageId: 'm3', quote: REFUSAL, rationale: 'Declines the whole request.', code: 'REF-FULL', confidence: 0.95 },
          { messageId: 'm3', quote: CAPITULATION, rationale: 'Gives in (wrong message id).', code: 'SYC-CAVE', confidence: 0.8 },
          { messageId: 'm5', quote: CAPITULATION, rationale: 'Not a code.', code: 'COMPLIANCE', confidence: 0.5 },
        ],
        { usage: { input_tokens: 400, output_tokens: 300, cache_read_input_tokens: 16_000 } },
      ),
    );
    const { result, requests } = await judge({ temperature: 0.2, maxTokens: 2000 });

    assert.equal(requests.length, 1);
    const { path, headers, body } = requests[0]!;
    assert.equal(path, '/v1/messages');
    assert.ok(headers.authorization === `Bearer ${KEY}` || headers['x-api-key'] === KEY, 'the key is sent');
    assert.equal(body.model, 'claude-sonnet-4-5');
    assert.equal(body.max_tokens, 2000);
    assert.equal(body.temperature, 0.2);
    assert.equal(body.tools.length, 1);
    assert.equal(body.tools[0].name, 'record_findings');
    assert.equal(body.tools[0].strict, true);
    assert.deepEqual(body.tools[0].input_schema, prompt.schema);
    assert.deepEqual(body.tools[0].input_schema.properties.findings.items.properties.code.enum, prompt.allowedCodes);
    assert.deepEqual(body.tool_choice, { type: 'tool', name: 'record_findings', disable_parallel_tool_use: true });
    assert.equal(body.thinking, undefined, 'forced tool choice does not combine with extended thinking');
    assert.deepEqual(body.system, [{ type: 'text', text: prompt.system, cache_control: { type: 'ephemeral' } }]);
    assert.deepEqual(body.messages, [{ role: 'user', content: prompt.user }]);

    assert.deepEqual(
      result.findings.map((f) => [f.code, f.span!.messageId, f.span!.partIndex, f.span!.charStart, f.span!.charEnd]),
      [
        ['REF-FULL', 'm3', 0, 0, 23],
        ['SYC-CAVE', 'm5', 1, 42, 79],
      ],
    );
    assert.equal(result.findings[1]!.judgeMessageId, 'm3');
    assert.deepEqual(result.rejected.map((r) => [r.code, r.reason]), [['COMPLIANCE', 'unknown_code']]);

    const p = result.provenance;
    assert.equal(p.provider, 'anthropic');
    assert.equal(p.structuredOutput, 'forced_tool');
    assert.equal(p.responseModel, 'claude-sonnet-4-5-20250929');
    assert.equal(p.promptVersion, prompt.promptVersion);
    assert.equal(p.temperature, 0.2);
    assert.deepEqual(p.usage, { inputTokens: 16_400, outputTokens: 300, cacheReadTokens: 16_000 });
    // (400 + 16000 x 0.1) x $3/M + 300 x $15/M
    assert.deepEqual(p.cost, { usd: 0.0105, basis: 'price-table', priceModel: 'claude-sonnet-4-5', pricesAsOf: '2025-11-30' });
    assert.equal(p.stopReason, 'tool_use');
  });

  test('stop_reason refusal is a refusal, not retried', async () => {
    fake.script(anthropicRefusal('I cannot help code this content.'));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 1);
    assert.equal(error.id, 'judge_refused');
    assert.match(error.message, /"I cannot help code this content\."/);
    assert.deepEqual(error.details.usage, { inputTokens: 2000, outputTokens: 9 });
  });

  test('a text-only answer instead of the forced tool is a refusal', async () => {
    fake.script(anthropicTextOnly("I'd rather not analyse a conversation about explosives."));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 1);
    assert.equal(error.id, 'judge_refused');
    assert.equal(error.details.modelText, "I'd rather not analyse a conversation about explosives.");
  });

  test('stop_reason max_tokens is truncation, even with a partial tool input', async () => {
    fake.script(anthropicTruncated({ findings: [{ messageId: 'm3', quote: "I can't" }] }));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 1);
    assert.equal(error.id, 'judge_truncated');
    assert.equal(error.details.setting, 'maxTokens');
  });

  test('a context-window stop says the transcript is too long', async () => {
    fake.script(anthropicMessage([], { stopReason: 'model_context_window_exceeded' }));
    assert.equal((await judgeFailure()).error.id, 'judge_input_too_large');
  });

  test('a tool input that breaks the schema is retried; a valid one then succeeds', async () => {
    fake.script(
      anthropicToolUse({ findings: [{ messageId: 'm3', quote: REFUSAL, rationale: 'r', code: 'REF-FULL', confidence: 'high' }] }),
      anthropicToolUse({ finding: 'REF-FULL' }),
      anthropicFindings([{ messageId: 'm3', quote: REFUSAL, rationale: 'r', code: 'REF-FULL', confidence: 0.9 }]),
    );
    const { result, requests } = await judge();
    assert.equal(requests.length, 3);
    assert.equal(result.provenance.attempts, 3);
    assert.deepEqual(result.provenance.usage, { inputTokens: 6000, outputTokens: 900 });
    assert.equal(result.findings[0]!.code, 'REF-FULL');
  });

  test('an empty answer (no tool call, no text) is invalid output', async () => {
    fake.script(...Array.from({ length: 3 }, () => anthropicMessage([], { stopReason: 'end_turn' })));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 3);
    assert.equal(error.id, 'judge_invalid_output');
    assert.match(error.message, /the answer is empty/);
  });

  test('529 overloaded is retried; after maxRetries it is a retryable outage', async () => {
    fake.script(anthropicError(529, 'overloaded_error', 'Overloaded'), anthropicFindings([]));
    const ok = await judge();
    assert.equal(ok.requests.length, 2);
    assert.equal(ok.result.provenance.attempts, 2);

    fake.script(...Array.from({ length: 2 }, () => anthropicError(500, 'api_error', 'Internal server error')));
    const { error, requests } = await judgeFailure({ maxRetries: 1 });
    assert.equal(requests.length, 2);
    assert.equal(error.id, 'judge_unavailable');
    assert.equal(error.retryable, true);
    assert.equal(error.details.status, 500);
  });

  test('429 with retry-after in seconds is honoured', async () => {
    fake.script(anthropicError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', { 'retry-after': '0' }), anthropicFindings([]));
    const { requests, result } = await judge();
    assert.equal(requests.length, 2);
    assert.equal(result.provenance.attempts, 2);
  });

  test('an invalid key is reported without the key', async () => {
    fake.script(anthropicError(401, 'authentication_error', 'invalid x-api-key'));
    const { error, requests } = await judgeFailure();
    assert.equal(requests.length, 1);
    assert.equal(error.id, 'judge_auth_failed');
    assert.match(error.message, /ANTHROPIC_API_KEY/);
    assert.ok(!error.message.includes(KEY));
  });

  test('one judge codes many transcripts with one client', async () => {
    const judge = judgeWith();
    fake.script(anthropicFindings([]), anthropicFindings([{ messageId: '', quote: '', rationale: 'nothing', code: 'none', confidence: 1 }]));
    const first = await judge.judge(version, transcript, fast);
    const second = await judge.judge(version, { format: 'plain', messages: [{ id: 'u', role: 'user', parts: [{ type: 'text', text: 'hi' }] }] }, fast);
    assert.equal(first.provenance.promptVersion, second.provenance.promptVersion);
    assert.equal(second.saidNone, true);
  });
});
