// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** The `dla` technique: the parts (embeddings, heads, attention biases, MLPs, final biases) sum to the logit difference. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../engine/errors.ts';
import { dlaTechnique } from '../techniques/dla.ts';
import { topK } from '../techniques/metrics.ts';
import { readReference } from './fixture-support.ts';
import { paramErrors, runTechnique, useFixtures } from './techniques-support.ts';

const NAMES = ['gpt2', 'llama', 'neox'] as const;
const models = useFixtures(NAMES);

for (const name of NAMES) {
  test(`${name}: the parts sum to the logit difference (and to a single logit without a contrast)`, async () => {
    const model = models.get(name)!;
    const ref = await readReference(name);
    for (const [pi, position] of [[0, -1], [2, 3]] as const) {
      const tokens = ref.prompts[pi]!.tokens;
      const logits = await model.forward(tokens);
      const V = model.config.dVocab;
      const p = position < 0 ? tokens.length + position : position;
      const [target, contrast] = topK(logits.data.subarray(p * V, (p + 1) * V), 2) as [number, number];
      for (const c of [contrast, undefined]) {
        const { result } = await runTechnique(dlaTechnique, model, { prompt: tokens, target, contrast: c, position });
        const expected = logits.data[p * V + target]! - (c === undefined ? 0 : logits.data[p * V + c]!);
        assert.ok(Math.abs(result.total - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `total ${result.total} vs ${expected}`);
        const sum = result.components.reduce((s, x) => s + x.value, 0);
        assert.ok(Math.abs(sum - result.sum_of_parts) < 1e-9);
        assert.ok(Math.abs(sum - result.total) < 1e-3 * Math.abs(result.total), `${name}: parts sum to ${sum}, total ${result.total}`);
        assert.equal(result.position, p);
        const { nLayers, nHeads } = model.config;
        assert.equal(result.heads.length, nLayers);
        for (const r of result.heads) assert.equal(r.length, nHeads);
        assert.equal(result.components.filter((x) => x.kind === 'head').length, nLayers * nHeads);
        assert.equal(result.components.filter((x) => x.kind === 'mlp').length, nLayers);
        assert.equal(result.pos_embed === null, model.config.positional !== 'learned');
        // The grouped views repeat the component values.
        assert.equal(result.heads[1]![0], result.components.find((x) => x.label === 'L1H0')!.value);
        assert.equal(result.mlps[0], result.components.find((x) => x.label === 'L0 MLP')!.value);
        assert.ok(result.components.every((x) => Number.isFinite(x.value)));
      }
    }
  });
}

test('dla takes tokens as text and refuses bad parameters with clear messages', async () => {
  const model = models.get('gpt2')!;
  const { result } = await runTechnique(dlaTechnique, model, { prompt: 'Hello world! The', target: ' cat', contrast: ' fox' });
  assert.equal(result.target.text, ' cat');
  assert.equal(result.contrast!.text, ' fox');
  assert.match(paramErrors(dlaTechnique.params, { prompt: 'x' }), /^target: /);
  assert.match(paramErrors(dlaTechnique.params, { prompt: 'x', target: 1.5 }), /target/);
  await assert.rejects(
    runTechnique(dlaTechnique, model, { prompt: 'Hello', target: ' cat', contrast: ' cat sat' }),
    (e: EngineError) => e.id === 'invalid_input' && /contrast: " cat sat" is \d+ tokens/.test(e.message),
  );
  await assert.rejects(runTechnique(dlaTechnique, model, { prompt: 'Hello', target: 3, position: -40 }), (e: EngineError) => /position -40 is outside/.test(e.message));
});
