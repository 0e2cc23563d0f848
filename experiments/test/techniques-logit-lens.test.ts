// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** The `logit-lens` technique on the GPT-2, Llama and NeoX fixtures: the last layer is the model's own logits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../engine/errors.ts';
import { logitLensTechnique } from '../techniques/logit-lens.ts';
import { logSoftmax, rankOf, topK } from '../techniques/metrics.ts';
import { readReference } from './fixture-support.ts';
import { paramErrors, runTechnique, useFixtures } from './techniques-support.ts';

const NAMES = ['gpt2', 'llama', 'neox'] as const;
const models = useFixtures(NAMES);

for (const name of NAMES) {
  test(`${name}: the last layer of the lens equals the model's logits; targets default to the next token`, async () => {
    const model = models.get(name)!;
    const ref = await readReference(name);
    const tokens = ref.prompts[0]!.tokens;
    const n = tokens.length;
    const logits = await model.forward(tokens);
    const V = model.config.dVocab;
    const { result, progress } = await runTechnique(logitLensTechnique, model, { prompt: tokens, positions: [0, 2, -1], k: 5 });
    assert.deepEqual(result.layer_labels, ['embed', '0', '1']);
    assert.deepEqual(result.hooks, ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
    assert.deepEqual(result.positions.map((p) => p.position), [0, 2, n - 1]);
    assert.equal(progress.at(-1)![0], 3);
    for (const pos of result.positions) {
      const row = logits.data.subarray(pos.position * V, (pos.position + 1) * V);
      const lp = logSoftmax(row);
      const last = pos.layers.at(-1)!;
      // Same top tokens, logits and probabilities as the final logits.
      assert.deepEqual(last.top.map((t) => t.id), topK(row, 5));
      for (const t of last.top) {
        assert.ok(Math.abs(t.logit - row[t.id]!) <= 1e-5 * Math.max(1, Math.abs(row[t.id]!)), `${t.logit} vs ${row[t.id]}`);
        assert.ok(Math.abs(t.prob - Math.exp(lp[t.id]!)) < 1e-6);
      }
      assert.ok(last.kl_to_final < 1e-9);
      // Default target: the next token, or the final top-1 at the last position.
      if (pos.position < n - 1) assert.deepEqual([pos.target.id, pos.target.source], [tokens[pos.position + 1], 'next_token']);
      else assert.deepEqual([pos.target.id, pos.target.source], [topK(row, 1)[0], 'final_top1']);
      assert.equal(last.target_rank, rankOf(row, pos.target.id));
      assert.ok(Math.abs(last.target_prob - Math.exp(lp[pos.target.id]!)) < 1e-6);
      for (const l of pos.layers) {
        assert.equal(l.top.length, 5);
        for (let i = 1; i < 5; i++) assert.ok(l.top[i - 1]!.logit >= l.top[i]!.logit, 'top tokens in order');
      }
      // Earlier layers differ from the final logits (the lens shows something).
      assert.ok(pos.layers[0]!.kl_to_final > 1e-6);
    }
  });
}

test('an explicit target (id or single-token text) is tracked at every layer; the embedding entry can be left out', async () => {
  const model = models.get('gpt2')!;
  const prompt = 'Hello world! The cat sat.';
  const target = model.tokenize(' cat')[0]!;
  const byText = await runTechnique(logitLensTechnique, model, { prompt, target: ' cat', includeEmbeddings: false });
  const byId = await runTechnique(logitLensTechnique, model, { prompt, target });
  assert.equal(model.tokenize(' cat').length, 1);
  assert.deepEqual(byText.result.layer_labels, ['0', '1']);
  assert.equal(byText.result.positions[0]!.target.id, target);
  assert.equal(byText.result.positions[0]!.target.source, 'param');
  assert.deepEqual(byText.result.positions[0]!.layers, byId.result.positions[0]!.layers.slice(1));
});

test('logit-lens refuses bad parameters with clear messages', async () => {
  const model = models.get('gpt2')!;
  assert.match(paramErrors(logitLensTechnique.params, { prompt: 'x', k: 0 }), /^k: k is at least 1/);
  assert.match(paramErrors(logitLensTechnique.params, { prompt: 'x', positions: [] }), /at least one position/);
  assert.match(paramErrors(logitLensTechnique.params, { prompt: 'x', positions: [0.5] }), /whole number/);
  assert.match(paramErrors(logitLensTechnique.params, { k: 3 }), /^prompt: /);
  await assert.rejects(
    runTechnique(logitLensTechnique, model, { prompt: 'Hello', positions: [40] }),
    (e: EngineError) => e.id === 'invalid_input' && /position 40 is outside the prompt's \d+ tokens/.test(e.message),
  );
  await assert.rejects(
    runTechnique(logitLensTechnique, model, { prompt: 'Hello', target: 'Hello world' }),
    (e: EngineError) => e.id === 'invalid_input' && /target: "Hello world" is \d+ tokens/.test(e.message),
  );
  await assert.rejects(runTechnique(logitLensTechnique, model, { prompt: 'Hello', target: 99999 }), (e: EngineError) => /not in the vocabulary/.test(e.message));
});
