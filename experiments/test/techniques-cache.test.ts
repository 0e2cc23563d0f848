// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** The `cache` technique: activations as nested arrays in their shapes, selections, last-position documents, bad params. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EngineError } from '../engine/errors.ts';
import type { Model } from '../engine/model.ts';
import { cacheTechnique } from '../techniques/cache.ts';
import { readReference, relativeError, type Reference } from './fixture-support.ts';
import { loadFixture, paramErrors, runTechnique } from './techniques-support.ts';

let model: Model;
let ref: Reference;
before(async () => {
  model = await loadFixture('gpt2');
  ref = await readReference('gpt2');
});
after(() => model.close());

const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x === null ? -Infinity : (x as number)]);

test('cache returns tokens, logits and the named activations in their shapes, matching the reference', async () => {
  const { tokens, text } = ref.prompts[0]!;
  const hooks = ['blocks.1.hook_resid_pre', 'blocks.0.attn.hook_pattern', 'blocks.0.attn.hook_attn_scores', 'blocks.1.mlp.hook_post'];
  const { result } = await runTechnique(cacheTechnique, model, { prompt: text, hooks });
  assert.deepEqual(result.tokens, tokens);
  assert.equal(result.token_strings.length, tokens.length);
  assert.deepEqual(Object.keys(result.activations).sort(), [...hooks].sort());
  const n = tokens.length;
  assert.deepEqual(result.shapes['blocks.0.attn.hook_pattern'], [4, n, n]);
  assert.deepEqual(result.shapes['blocks.1.mlp.hook_post'], [n, 128]);
  for (const h of hooks) {
    const expected = ref.tensors.get(`p0.${h}`)!;
    assert.ok(relativeError(Float32Array.from(flat(result.activations[h])), expected.data) < 1e-4, h);
  }
  // Masked scores are -Infinity in the engine, null in JSON.
  const scores = result.activations['blocks.0.attn.hook_attn_scores'] as (number | null)[][][];
  assert.equal(scores[0]![0]![1], null);
  assert.equal(result.logits!.length, n);
  assert.ok(relativeError(Float32Array.from(result.logits!.flat()), ref.tensors.get('p0.logits')!.data) < 1e-4);
});

test('lastPositionOnly keeps the last position of every activation and of the logits; a pattern selects hooks', async () => {
  const tokens = ref.prompts[1]!.tokens;
  const n = tokens.length;
  const full = await runTechnique(cacheTechnique, model, { prompt: tokens, hooks: { pattern: '^blocks\\.1\\.(attn\\.hook_pattern|hook_resid_post)$' } });
  const { result } = await runTechnique(cacheTechnique, model, { prompt: tokens, hooks: { pattern: '^blocks\\.1\\.(attn\\.hook_pattern|hook_resid_post)$' }, lastPositionOnly: true });
  assert.deepEqual(Object.keys(result.activations).sort(), ['blocks.1.attn.hook_pattern', 'blocks.1.hook_resid_post']);
  assert.deepEqual(result.positions, [n - 1]);
  assert.deepEqual(result.shapes['blocks.1.attn.hook_pattern'], [4, 1, n]);
  assert.deepEqual(result.shapes['blocks.1.hook_resid_post'], [1, 32]);
  const fullPattern = full.result.activations['blocks.1.attn.hook_pattern'] as number[][][];
  const lastPattern = result.activations['blocks.1.attn.hook_pattern'] as number[][][];
  for (let h = 0; h < 4; h++) assert.deepEqual(lastPattern[h]![0], fullPattern[h]![n - 1]);
  assert.deepEqual((result.activations['blocks.1.hook_resid_post'] as number[][])[0], (full.result.activations['blocks.1.hook_resid_post'] as number[][])[n - 1]);
  assert.equal(result.logits!.length, 1);
  assert.deepEqual(result.logits![0], full.result.logits![n - 1]);
  const noLogits = await runTechnique(cacheTechnique, model, { prompt: tokens, hooks: ['hook_embed'], includeLogits: false });
  assert.equal(noLogits.result.logits, null);
});

test('cache refuses bad parameters with clear messages', async () => {
  assert.match(paramErrors(cacheTechnique.params, { prompt: '' }), /prompt.*empty|prompt/);
  assert.match(paramErrors(cacheTechnique.params, { prompt: 'x', hooks: [] }), /at least one hook/);
  assert.match(paramErrors(cacheTechnique.params, { prompt: 'x', hooks: { pattern: '(' } }), /not a valid regular expression/);
  assert.match(paramErrors(cacheTechnique.params, { prompt: [1, -2] }), /not negative|prompt/);
  assert.match(paramErrors(cacheTechnique.params, { prompt: 'x', lastPosition: true }), /lastPosition/);
  await assert.rejects(
    runTechnique(cacheTechnique, model, { prompt: 'x', hooks: ['blocks.7.hook_resid_pre'] }),
    (e: EngineError) => e.id === 'invalid_input' && /no hook "blocks.7.hook_resid_pre"/.test(e.message),
  );
});
