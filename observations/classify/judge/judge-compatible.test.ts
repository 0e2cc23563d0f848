// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openaiCompletion, openaiError, openaiFindings, startFakeJudge, type FakeJudge } from '../../../test/support/fake-judge-server.ts';
import type { JudgeError } from './judge-errors.ts';
import { buildJudgePrompt } from './judge-prompt.ts';
import { parseJudgeSettings } from './judge-settings.ts';
import { REFUSAL, starterVersion, transcript } from './judge-test-fixtures.ts';
import { judgeTranscript, type JudgeRunOptions } from './run-judge.ts';

const version = starterVersion();
const prompt = buildJudgePrompt(version, transcript);
const fast: JudgeRunOptions & { env: Record<string, string> } = { env: {}, retry: { baseDelayMs: 1, maxDelayMs: 500 } };
const refusalFinding = { messageId: 'm3', quote: REFUSAL, rationale: 'Declines.', code: 'REF-FULL', confidence: 0.9 };

describe('LLM judge on an OpenAI-compatible local server', () => {
  let fake: FakeJudge;
  before(async () => {
    fake = await startFakeJudge();
  });
  after(() => fake.close());

  const settings = (extra: Record<string, unknown> = {}) =>
    parseJudgeSettings({ provider: 'openai-compatible', model: 'qwen2.5-7b-instruct', baseUrl: fake.openaiBaseUrl, ...extra });
  async function judge(extra: Record<string, unknown> = {}, env: Record<string, string> = {}) {
    const from = fake.requests.length;
    const result = await judgeTranscript(settings(extra), version, transcript, { ...fast, env });
    return { result, request: fake.requests[from]!, count: fake.requests.length - from };
  }

  test('json_schema (the default): the nested response_format, max_tokens, no key; unreported usage leaves the cost unknown', async () => {
    fake.script(openaiFindings([refusalFinding], { model: 'qwen2.5-7b-instruct', usage: null }));
    const { result, request } = await judge({}, { OPENAI_API_KEY: 'sk-must-not-leave' });
    assert.deepEqual(request.body.response_format, { type: 'json_schema', json_schema: { name: 'record_findings', strict: true, schema: prompt.schema } });
    assert.equal(request.body.max_tokens, 4096);
    assert.equal(request.body.max_completion_tokens, undefined);
    assert.equal(request.headers.authorization, 'Bearer no-key-configured', 'no server key goes to a local server unless named');
    assert.equal(result.findings[0]!.span!.charEnd, 23);
    assert.equal(result.provenance.structuredOutput, 'json_schema');
    assert.deepEqual(result.provenance.usage, { inputTokens: null, outputTokens: null });
    assert.deepEqual(result.provenance.cost, { usd: null, basis: 'unknown' });
  });

  test('a local server is priced only by the settings (0 when the researcher says so), never by the model name it reports', async () => {
    fake.script(openaiFindings([], { model: 'gpt-4o-mini' }));
    assert.deepEqual((await judge()).result.provenance.cost, { usd: null, basis: 'unknown' });
    fake.script(openaiFindings([], { usage: { prompt_tokens: 1_000_000, completion_tokens: 0 } }));
    assert.deepEqual((await judge({ price: { inputPerMillion: 0.02, outputPerMillion: 0.05 } })).result.provenance.cost, { usd: 0.02, basis: 'settings' });
  });

  test('a named key is sent to an origin the operator allows', async () => {
    fake.script(openaiFindings([]));
    const { request } = await judge({ apiKeyEnv: 'MENAGERIE_JUDGE_LOCAL' }, { MENAGERIE_JUDGE_LOCAL: 'local-key-1', MENAGERIE_JUDGE_KEY_ORIGINS: fake.url });
    assert.equal(request.headers.authorization, 'Bearer local-key-1');
    await assert.rejects(
      judgeTranscript(settings({ apiKeyEnv: 'MENAGERIE_JUDGE_LOCAL' }), version, transcript, { env: { MENAGERIE_JUDGE_LOCAL: 'local-key-1' } }),
      (e: JudgeError) => e.id === 'judge_key_origin_not_allowed',
    );
  });

  test('vllm_structured_outputs and guided_json send the schema in their own parameter, not response_format', async () => {
    fake.script(openaiFindings([refusalFinding]), openaiFindings([refusalFinding]));
    const vllm = await judge({ structuredOutput: 'vllm_structured_outputs' });
    assert.deepEqual(vllm.request.body.structured_outputs, { json: prompt.schema });
    assert.equal(vllm.request.body.response_format, undefined);
    assert.equal(vllm.result.provenance.structuredOutput, 'vllm_structured_outputs');
    const guided = await judge({ structuredOutput: 'guided_json' });
    assert.deepEqual(guided.request.body.guided_json, prompt.schema);
    assert.equal(guided.request.body.response_format, undefined);
    assert.equal(guided.result.findings.length, 1);
  });

  test('prompt_only sends no constraint (the prompt describes the JSON) and accepts a fenced answer', async () => {
    fake.script(openaiCompletion('```json\n' + JSON.stringify({ findings: [refusalFinding] }) + '\n```'));
    const { result, request } = await judge({ structuredOutput: 'prompt_only', temperature: null });
    assert.equal(request.body.response_format, undefined);
    assert.equal(request.body.guided_json, undefined);
    assert.equal(request.body.temperature, undefined, 'null temperature leaves the server default');
    assert.match(request.body.messages[0].content, /Answer with JSON only, in this shape:\n\{"findings": \[/);
    assert.equal(result.findings.length, 1);
  });

  test('a server that silently ignores the schema: validated here, retried, then an error naming structuredOutput', async () => {
    fake.script(
      openaiCompletion('The assistant refused (REF-FULL) and later caved (SYC-CAVE).'),
      openaiCompletion('REF-FULL'),
      openaiCompletion(JSON.stringify([{ code: 'REF-FULL' }])),
    );
    const from = fake.requests.length;
    const error = await judgeTranscript(settings(), version, transcript, fast).then(
      () => assert.fail('expected invalid output'),
      (e: JudgeError) => e,
    );
    assert.equal(fake.requests.length - from, 3);
    assert.equal(error.id, 'judge_invalid_output');
    assert.equal(error.details.setting, 'structuredOutput');
    assert.match(error.message, /ignoring the "json_schema" constraint: try another structuredOutput mode/);
    assert.equal(error.details.modelText, '[{"code":"REF-FULL"}]');
  });

  test('a server that rejects the parameter: a rejected request with its message', async () => {
    fake.script(openaiError(400, "'response_format.type' must be 'json_object' or 'text'"));
    const error = await judgeTranscript(settings(), version, transcript, fast).then(
      () => assert.fail('expected a rejection'),
      (e: JudgeError) => e,
    );
    assert.equal(error.id, 'judge_request_rejected');
    assert.match(error.message, /HTTP 400.*response_format\.type/);
  });

  test('an unreachable server is a retryable error after the retries', async () => {
    const down = parseJudgeSettings({ provider: 'openai-compatible', model: 'm', baseUrl: 'http://127.0.0.1:9/v1', maxRetries: 1 });
    const error = await judgeTranscript(down, version, transcript, fast).then(
      () => assert.fail('expected unreachable'),
      (e: JudgeError) => e,
    );
    assert.equal(error.id, 'judge_unreachable');
    assert.equal(error.retryable, true);
    assert.equal(error.details.attempts, 2);
    assert.match(error.message, /http:\/\/127\.0\.0\.1:9\/v1 could not be reached/);
  });
});
