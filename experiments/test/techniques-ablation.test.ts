// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** The `ablation` technique: zero ablation of a head is removing its result; mean ablation; neurons; metrics; bad params. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EngineError } from '../engine/errors.ts';
import { meanNextTokenLoss, type Model } from '../engine/model.ts';
import { ablationTechnique } from '../techniques/ablation.ts';
import { logitDiff } from '../techniques/metrics.ts';
import { readReference } from './fixture-support.ts';
import { loadFixture, paramErrors, runTechnique } from './techniques-support.ts';

let gpt2: Model;
let llama: Model;
before(async () => {
  gpt2 = await loadFixture('gpt2');
  llama = await loadFixture('llama');
});
after(async () => {
  await gpt2.close();
  await llama.close();
});

test('zero-ablating a head equals subtracting its hook_result from the attention output', async () => {
  for (const model of [gpt2, llama]) {
    const tokens = (await readReference(model === gpt2 ? 'gpt2' : 'llama')).prompts[0]!.tokens;
    const [l, h] = [1, 2];
    const { result } = await runTechnique(ablationTechnique, model, {
      prompt: tokens, heads: [{ layer: l, head: h }], metric: { kind: 'logit_diff', answer: 5, wrong: 7 },
    });
    const d = model.config.dModel;
    const H = model.config.nHeads;
    const { cache } = await model.runWithCache(tokens, { names: [`blocks.${l}.attn.hook_result`] });
    const res = cache.get(`blocks.${l}.attn.hook_result`)!;
    const { logits } = await model.runWithHooks(tokens, {
      [`blocks.${l}.hook_attn_out`]: (act) => {
        for (let p = 0; p < tokens.length; p++) for (let e = 0; e < d; e++) act.data[p * d + e]! -= res.data[(p * H + h) * d + e]!;
      },
    });
    const expected = logitDiff(logits, tokens.length - 1, 5, 7);
    assert.ok(Math.abs(result.after - expected) < 1e-4 * Math.max(1, Math.abs(expected)), `${result.after} vs ${expected}`);
    const plain = await model.forward(tokens);
    assert.ok(Math.abs(result.before - logitDiff(plain, tokens.length - 1, 5, 7)) < 1e-5);
    assert.ok(Math.abs(result.delta - (result.after - result.before)) < 1e-12);
    assert.ok(Math.abs(result.delta) > 1e-6, 'the head matters');
  }
});

test('mean ablation uses the mean over the prompt\'s positions (or over given prompts); loss metric; neurons; individually', async () => {
  const ref = await readReference('gpt2');
  const tokens = ref.prompts[1]!.tokens;
  const n = tokens.length;
  const before = await gpt2.loss(tokens);
  const { result, progress } = await runTechnique(ablationTechnique, gpt2, {
    prompt: tokens, method: 'mean', heads: [{ layer: 0, head: 1 }], neurons: [{ layer: 1, neuron: 17 }], individually: true,
  });
  assert.equal(result.metric.kind, 'loss');
  assert.equal(result.mean_over, 'prompt');
  assert.ok(Math.abs(result.before - before) < 1e-6);
  assert.deepEqual(result.individual!.map((x) => x.label), ['L0H1', 'L1N17']);
  assert.deepEqual(progress.map((p) => p[0]), [1, 2, 3]);

  // The neuron's own mean ablation, done by hand from its cached activation.
  const { cache } = await gpt2.runWithCache(tokens, { names: ['blocks.1.mlp.hook_post'] });
  const post = cache.get('blocks.1.mlp.hook_post')!;
  let mean = 0;
  for (let p = 0; p < n; p++) mean += post.data[p * 128 + 17]!;
  mean /= n;
  const byHand = await gpt2.runWithHooks(tokens, { 'blocks.1.mlp.hook_post': (a) => { for (let p = 0; p < n; p++) a.data[p * 128 + 17] = mean; } });
  assert.ok(Math.abs(result.individual![1]!.after - meanNextTokenLoss(byHand.logits, tokens)) < 1e-5);

  // Means over a set of prompts that is just this prompt are the same as over its positions.
  const same = await runTechnique(ablationTechnique, gpt2, { prompt: tokens, method: 'mean', neurons: [{ layer: 1, neuron: 17 }], meanPrompts: [tokens] });
  assert.equal(same.result.mean_over, 'mean_prompts');
  assert.ok(Math.abs(same.result.after - result.individual![1]!.after) < 1e-9);
  // Other prompts give other means.
  const other = await runTechnique(ablationTechnique, gpt2, { prompt: tokens, method: 'mean', neurons: [{ layer: 1, neuron: 17 }], meanPrompts: [ref.prompts[0]!.tokens, ref.prompts[2]!.tokens] });
  assert.notEqual(other.result.after, same.result.after);
  // Zero ablation of a neuron differs from mean ablation.
  const zero = await runTechnique(ablationTechnique, gpt2, { prompt: tokens, neurons: [{ layer: 1, neuron: 17 }] });
  assert.equal(zero.result.method, 'zero');
  assert.notEqual(zero.result.after, same.result.after);
  assert.equal(zero.result.individual, null);
});

test('ablation refuses bad parameters with clear messages', async () => {
  assert.match(paramErrors(ablationTechnique.params, { prompt: 'x' }), /^heads: Name at least one head or neuron/);
  assert.match(paramErrors(ablationTechnique.params, { prompt: 'x', heads: [{ layer: 0 }] }), /^heads.0.head: /);
  assert.match(paramErrors(ablationTechnique.params, { prompt: 'x', heads: [{ layer: 0, head: 0 }], method: 'resample' }), /method is "zero" or "mean"/);
  assert.match(paramErrors(ablationTechnique.params, { prompt: 'x', heads: [{ layer: 0, head: 0 }], metric: { kind: 'accuracy' } }), /^metric.kind: metric is \{ kind: "loss" \}/);
  assert.match(paramErrors(ablationTechnique.params, { prompt: 'x', heads: [{ layer: 0, head: 0 }], metric: { kind: 'logit_diff', answer: 1 } }), /^metric.wrong: /);
  await assert.rejects(runTechnique(ablationTechnique, gpt2, { prompt: 'Hello', heads: [{ layer: 0, head: 9 }] }), (e: EngineError) => e.id === 'invalid_input' && /no head 9/.test(e.message));
  await assert.rejects(runTechnique(ablationTechnique, gpt2, { prompt: 'Hello', neurons: [{ layer: 0, neuron: 128 }] }), (e: EngineError) => /no neuron 128: each MLP has 128 neurons/.test(e.message));
  await assert.rejects(runTechnique(ablationTechnique, gpt2, { prompt: [3], heads: [{ layer: 0, head: 0 }] }), (e: EngineError) => /at least two tokens/.test(e.message));
});
