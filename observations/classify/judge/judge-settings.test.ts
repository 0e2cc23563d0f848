// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { estimateCost, priceEntryFor } from './judge-pricing.ts';
import { parseJudgeSettings, resolveJudgeKey } from './judge-settings.ts';

/** The validation error's per-field messages. */
function fieldsOf(input: unknown): Record<string, string> {
  try {
    parseJudgeSettings(input);
  } catch (error: any) {
    assert.equal(error.id, 'validation_failed');
    assert.match(error.message, /^The judge settings is not valid: /);
    return error.details.fields;
  }
  assert.fail('expected the settings to be rejected');
}

describe('judge settings', () => {
  test('fill in the official base URL, the conventional key variable and the defaults', () => {
    assert.deepEqual(parseJudgeSettings({ provider: 'openai', model: 'gpt-4o-mini' }), {
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: 'https://api.openai.com/v1',
      apiKeyEnv: 'OPENAI_API_KEY',
      temperature: 0,
      maxTokens: 4096,
      timeoutMs: 120_000,
      maxRetries: 2,
      structuredOutput: 'json_schema',
    });
    const anthropic = parseJudgeSettings({ provider: 'anthropic', model: 'claude-sonnet-4-5', temperature: null });
    assert.equal(anthropic.baseUrl, 'https://api.anthropic.com');
    assert.equal(anthropic.apiKeyEnv, 'ANTHROPIC_API_KEY');
    assert.equal(anthropic.temperature, null);
    const local = parseJudgeSettings({ provider: 'openai-compatible', model: 'qwen2.5-7b', baseUrl: 'http://127.0.0.1:8080/v1/', structuredOutput: 'guided_json', price: { inputPerMillion: 0, outputPerMillion: 0 } });
    assert.equal(local.baseUrl, 'http://127.0.0.1:8080/v1');
    assert.equal(local.apiKeyEnv, null, 'a local server needs no key unless one is named');
    assert.deepEqual(local.price, { inputPerMillion: 0, outputPerMillion: 0 });
  });

  test('a key itself is refused, with a message saying where it belongs', () => {
    assert.match(fieldsOf({ provider: 'openai', model: 'gpt-4o', apiKey: 'sk-live-123' }).apiKey!, /keys are not stored in the judge settings.*environment variable.*apiKeyEnv/);
    assert.match(fieldsOf({ provider: 'openai', model: 'gpt-4o', apiKeyEnv: 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789' }).apiKeyEnv!, /not the key itself/);
  });

  test('apiKeyEnv may only name a judge key variable, not any server variable', () => {
    for (const name of ['DATABASE_URL', 'MENAGERIE_SECRET', 'HOME', 'openai_api_key']) {
      assert.match(fieldsOf({ provider: 'openai-compatible', model: 'm', baseUrl: 'http://127.0.0.1:1/v1', apiKeyEnv: name }).apiKeyEnv!, /not a judge key variable.*MENAGERIE_JUDGE_/, name);
    }
    assert.equal(parseJudgeSettings({ provider: 'openai-compatible', model: 'm', baseUrl: 'http://127.0.0.1:1/v1', apiKeyEnv: 'MENAGERIE_JUDGE_LOCAL' }).apiKeyEnv, 'MENAGERIE_JUDGE_LOCAL');
  });

  test('each problem is named at its field', () => {
    const fields = fieldsOf({ provider: 'gemini', model: '', temperature: 3, maxTokens: 10.5, maxRetries: 9, extra: 1 });
    assert.match(fields.provider!, /"openai", "anthropic" or "openai-compatible"/);
    assert.match(fields.model!, /name the model/);
    assert.match(fields.temperature!, /between 0 and 2/);
    assert.match(fields.maxTokens!, /whole number/);
    assert.match(fields.maxRetries!, /at most 5/);
    assert.match(fields._!, /extra/);
    assert.match(fieldsOf({ provider: 'openai-compatible', model: 'llama' }).baseUrl!, /needs its baseUrl/);
    assert.match(fieldsOf({ provider: 'openai', model: 'gpt-4o', baseUrl: 'ftp://example.com' }).baseUrl!, /http\(s\) URL/);
    assert.match(fieldsOf({ provider: 'openai', model: 'gpt-4o', baseUrl: 'https://user:pw@example.com/v1' }).baseUrl!, /without credentials/);
    assert.match(fieldsOf({ provider: 'anthropic', model: 'claude-sonnet-4-5', temperature: 1.5 }).temperature!, /between 0 and 1/);
    assert.match(fieldsOf({ provider: 'anthropic', model: 'claude-sonnet-4-5', structuredOutput: 'guided_json' }).structuredOutput!, /OpenAI-compatible servers only/);
    assert.match(fieldsOf({ provider: 'openai', model: 'x', price: { inputPerMillion: -1, outputPerMillion: 1 } })['price.inputPerMillion']!, /negative/);
  });
});

describe('judge keys', () => {
  const openai = parseJudgeSettings({ provider: 'openai', model: 'gpt-4o-mini' });

  test('are read from the named variable at call time; a missing one names the variable', () => {
    assert.equal(resolveJudgeKey(openai, { OPENAI_API_KEY: ' sk-test ' }), 'sk-test');
    assert.throws(
      () => resolveJudgeKey(openai, {}),
      (e: any) => e.id === 'judge_missing_key' && e.retryable === false && /set the environment variable OPENAI_API_KEY on the server/.test(e.message) && e.details.setting === 'apiKeyEnv',
    );
    assert.equal(resolveJudgeKey(parseJudgeSettings({ provider: 'openai-compatible', model: 'm', baseUrl: 'http://127.0.0.1:1/v1' }), {}), null);
  });

  test("go only to the provider's official origin or one the operator lists", () => {
    const elsewhere = parseJudgeSettings({ provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'https://collector.example.net/v1' });
    assert.throws(
      () => resolveJudgeKey(elsewhere, { OPENAI_API_KEY: 'sk-test' }),
      (e: any) => e.id === 'judge_key_origin_not_allowed' && e.message.includes('https://collector.example.net') && e.message.includes('MENAGERIE_JUDGE_KEY_ORIGINS') && !e.message.includes('sk-test'),
    );
    assert.equal(resolveJudgeKey(elsewhere, { OPENAI_API_KEY: 'sk-test', MENAGERIE_JUDGE_KEY_ORIGINS: 'http://127.0.0.1:9, https://collector.example.net' }), 'sk-test');
    const local = parseJudgeSettings({ provider: 'openai-compatible', model: 'm', baseUrl: 'http://10.0.0.5:8000/v1', apiKeyEnv: 'MENAGERIE_JUDGE_VLLM' });
    assert.throws(() => resolveJudgeKey(local, { MENAGERIE_JUDGE_VLLM: 'k' }), (e: any) => e.id === 'judge_key_origin_not_allowed');
    assert.equal(resolveJudgeKey(local, { MENAGERIE_JUDGE_VLLM: 'k', MENAGERIE_JUDGE_KEY_ORIGINS: 'http://10.0.0.5:8000' }), 'k');
  });
});

describe('judge cost', () => {
  test('known models and their dated snapshots are priced; newer look-alikes are not', () => {
    assert.equal(priceEntryFor('gpt-4o-mini-2024-07-18')!.name, 'gpt-4o-mini');
    assert.equal(priceEntryFor('claude-sonnet-4-5-20250929')!.name, 'claude-sonnet-4-5');
    assert.equal(priceEntryFor('claude-3-5-haiku-latest')!.name, 'claude-3-5-haiku');
    assert.equal(priceEntryFor('gpt-4o')!.name, 'gpt-4o');
    assert.equal(priceEntryFor('claude-opus-4-6'), null);
    assert.equal(priceEntryFor('gpt-4o-mini-tts'), null);
  });

  test('cost is the token counts at the table price; unknown models and local servers are unknown, never 0', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 100_000 };
    assert.deepEqual(estimateCost(usage, { provider: 'openai', models: ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'] }), {
      usd: 0.21,
      basis: 'price-table',
      priceModel: 'gpt-4o-mini',
      pricesAsOf: '2025-11-30',
    });
    assert.deepEqual(estimateCost(usage, { provider: 'openai', models: ['my-finetune'] }), { usd: null, basis: 'unknown' });
    assert.deepEqual(estimateCost(usage, { provider: 'openai-compatible', models: ['gpt-4o-mini'] }), { usd: null, basis: 'unknown' }, 'a local server is not priced as the model it names');
    assert.deepEqual(estimateCost(usage, { provider: 'openai-compatible', models: ['m'], settingsPrice: { inputPerMillion: 0, outputPerMillion: 0 } }), { usd: 0, basis: 'settings' });
    assert.equal(estimateCost({ inputTokens: null, outputTokens: 5 }, { provider: 'openai', models: ['gpt-4o'] }).usd, null, 'unreported tokens');
  });

  test('Anthropic cache reads cost a tenth, cache writes a quarter more', () => {
    const cost = estimateCost(
      { inputTokens: 1_000_000, outputTokens: 0, cacheReadTokens: 500_000, cacheWriteTokens: 100_000 },
      { provider: 'anthropic', models: ['claude-sonnet-4-5'] },
    );
    // 400k plain + 500k x 0.1 + 100k x 1.25 = 575k input-token units at $3/M
    assert.equal(cost.usd, 1.725);
  });
});
