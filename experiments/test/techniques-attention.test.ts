// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** The `attention` technique: patterns per layer and head with token labels, selections, bad params. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EngineError } from '../engine/errors.ts';
import type { Model } from '../engine/model.ts';
import { attentionTechnique } from '../techniques/attention.ts';
import { readReference } from './fixture-support.ts';
import { loadFixture, paramErrors, runTechnique } from './techniques-support.ts';

let llama: Model;
before(async () => {
  llama = await loadFixture('llama');
});
after(() => llama.close());

test('attention returns every layer and head by default: the cached patterns, causal rows summing to 1, labelled axes', async () => {
  const ref = await readReference('llama');
  const { tokens, text } = ref.prompts[0]!;
  const n = tokens.length;
  const { result, progress } = await runTechnique(attentionTechnique, llama, { prompt: text });
  assert.deepEqual(result.tokens, tokens);
  assert.deepEqual(result.query_tokens, llama.tokenizer.tokenStrings(tokens));
  assert.deepEqual(result.key_tokens, result.query_tokens);
  assert.deepEqual(result.layers.map((l) => l.layer), [0, 1]);
  assert.deepEqual(progress.map((p) => p[0]), [1, 2]);
  for (const l of result.layers) {
    assert.deepEqual(l.heads.map((h) => h.head), [0, 1, 2, 3]);
    const expected = ref.tensors.get(`p0.blocks.${l.layer}.attn.hook_pattern`)!;
    for (const h of l.heads) {
      assert.equal(h.pattern.length, n);
      h.pattern.forEach((rowValues, q) => {
        assert.equal(rowValues.length, n);
        assert.ok(Math.abs(rowValues.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'row sums to 1');
        for (let k = 0; k < n; k++) {
          if (k > q) assert.equal(rowValues[k], 0, 'no attention to later tokens');
          assert.ok(Math.abs(rowValues[k]! - expected.data[(h.head * n + q) * n + k]!) < 1e-4);
        }
      });
    }
  }
});

test('attention selects layers and heads', async () => {
  const { result } = await runTechnique(attentionTechnique, llama, { prompt: 'the cat', layers: [1], heads: [3, 0] });
  assert.deepEqual(result.layers.map((l) => [l.layer, l.heads.map((h) => h.head)]), [[1, [3, 0]]]);
});

test('attention refuses bad parameters with clear messages', async () => {
  assert.match(paramErrors(attentionTechnique.params, { prompt: 'x', layers: [] }), /^layers: Give at least one layer/);
  assert.match(paramErrors(attentionTechnique.params, { prompt: 'x', heads: [-1] }), /^heads.0: Indices are not negative/);
  await assert.rejects(runTechnique(attentionTechnique, llama, { prompt: 'x', layers: [2] }), (e: EngineError) => e.id === 'invalid_input' && /no layer 2: the model has 2 layers/.test(e.message));
  await assert.rejects(runTechnique(attentionTechnique, llama, { prompt: 'x', heads: [4] }), (e: EngineError) => /no head 4: each layer has 4 heads/.test(e.message));
});
