// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/**
 * Golden fixtures: for each architecture (GPT-2 F32, Llama BF16 with GQA, Qwen2 with q/k/v biases and sharded
 * weights, NeoX F16 with partial rotary), the engine's logits and every hooked activation match the float64 PyTorch
 * reference of experiments/fixtures/make_fixtures.py to a relative error of 1e-4.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Model } from '../engine/model.ts';
import { FIXTURE_MODELS, loadFixtureModel, readReference, relativeError, type Reference } from './fixture-support.ts';

const TOL = 1e-4;

for (const name of FIXTURE_MODELS) {
  describe(`fixture ${name}`, () => {
    let model: Model;
    let ref: Reference;
    before(async () => {
      model = await loadFixtureModel(name);
      ref = await readReference(name);
    });
    after(() => model.close());

    test('tokenizes each prompt as the reference does, and decodes back', () => {
      for (const p of ref.prompts) {
        assert.deepEqual(model.toTokens(p.text), p.tokens, p.text);
        const body = ref.prepend_bos ? p.tokens.slice(1) : p.tokens;
        assert.equal(model.detokenize(body), p.text);
      }
    });

    test('logits and every hook activation match the reference', async () => {
      for (const [i, p] of ref.prompts.entries()) {
        const { logits, cache } = await model.runWithCache(p.tokens, { filter: () => true });
        const expected = ref.tensors.get(`p${i}.logits`)!;
        assert.deepEqual(logits.shape, expected.shape);
        const e = relativeError(logits.data, expected.data);
        assert.ok(e < TOL, `prompt ${i} logits: relative error ${e}`);
        assert.deepEqual([...cache.keys()].sort(), [...ref.hooks].sort(), 'the engine has exactly the reference hooks');
        for (const hook of ref.hooks) {
          const exp = ref.tensors.get(`p${i}.${hook}`)!;
          const act = cache.get(hook)!;
          assert.deepEqual(act.shape, exp.shape, `${hook} shape`);
          const err = relativeError(act.data, exp.data);
          assert.ok(err < TOL, `prompt ${i} ${hook}: relative error ${err}`);
        }
      }
    });
  });
}
