// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/**
 * generate, steering and runTechnique: greedy generation equals the argmax of full forward passes; sampling is
 * reproducible from its seed; steering with coefficient 0 changes nothing (tokens and logits bit for bit) and a
 * large coefficient changes the text; the result document's envelope; parameter errors list every problem.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Model } from '../engine/model.ts';
import { generateTechnique } from '../techniques/generate.ts';
import { parseParams, runTechnique as runByName, techniqueJsonSchemas } from '../techniques/run-technique.ts';
import { argmax, createRng, generateTokens, sampleToken } from '../techniques/sampling.ts';
import { steeringHook, steeringTechnique, steeringVector } from '../techniques/steering.ts';
import { techniques } from '../techniques/index.ts';
import { loadFixture, runTechnique } from './techniques-support.ts';

let model: Model;
before(async () => {
  model = await loadFixture('gpt2');
});
after(() => model.close());

const PROMPT = 'The cat sat on the';

test('greedy generate equals the argmax of a full forward pass at every step, with progress per token', async () => {
  const { result, progress } = await runTechnique(generateTechnique, model, { prompt: PROMPT, maxNewTokens: 6, stopAtEos: false });
  const seq = model.toTokens(PROMPT);
  assert.deepEqual(result.prompt_tokens, seq);
  for (let i = 0; i < 6; i++) {
    const logits = await model.forward(seq);
    const V = logits.shape[1]!;
    seq.push(argmax(logits.data.subarray((seq.length - 1) * V)));
  }
  assert.deepEqual(result.continuation.tokens, seq.slice(result.prompt_tokens.length));
  assert.equal(result.continuation.stop_reason, 'max_new_tokens');
  assert.equal(result.continuation.logprobs.length, 6);
  assert.ok(result.continuation.logprobs.every((x) => x <= 0));
  assert.deepEqual(progress.map((p) => p[0]), [1, 2, 3, 4, 5, 6]);
});

test('sampling: the same seed gives the same text; seeds differ; top-k 1 is greedy', async () => {
  const run = async (extra: object) => (await runTechnique(generateTechnique, model, { prompt: PROMPT, maxNewTokens: 8, temperature: 1.5, stopAtEos: false, ...extra })).result.continuation.tokens;
  const a = await run({ seed: 7 });
  assert.deepEqual(await run({ seed: 7 }), a);
  const others = [await run({ seed: 8 }), await run({ seed: 9 }), await run({ seed: 10 })];
  assert.ok(others.some((o) => JSON.stringify(o) !== JSON.stringify(a)), 'different seeds give different samples');
  const greedy = (await runTechnique(generateTechnique, model, { prompt: PROMPT, maxNewTokens: 8, stopAtEos: false })).result.continuation.tokens;
  assert.deepEqual(await run({ seed: 3, topK: 1 }), greedy);
  assert.deepEqual(await run({ seed: 3, topP: 1e-9 }), greedy);
});

test('the sampler draws in proportion to the probabilities and honours top-k', () => {
  const rng = createRng(42);
  const logits = [0, Math.log(3), -50];
  let ones = 0;
  for (let i = 0; i < 8000; i++) if (sampleToken(logits, { temperature: 1, topK: 0, topP: 1 }, rng) === 1) ones++;
  assert.ok(Math.abs(ones / 8000 - 0.75) < 0.02, `P(1) ~ 0.75, got ${ones / 8000}`);
  for (let i = 0; i < 200; i++) assert.notEqual(sampleToken([5, 4, 3, 2], { temperature: 5, topK: 2, topP: 1 }, rng) > 1, true);
  const a = createRng(5);
  const b = createRng(5);
  assert.deepEqual([a(), a(), a()], [b(), b(), b()]);
});

test('generation stops at the end-of-sequence token', async () => {
  const eos = model.config.eosTokenId!;
  // Make EOS the only sensible next token: push the final normalized stream along EOS's unembedding row.
  const row = model.weightRows('W_U', eos, 1).data;
  const g = await generateTokens(model, PROMPT, {
    maxNewTokens: 5, temperature: 0, topK: 0, topP: 1, seed: 0, stopAtEos: true,
    hooks: { 'ln_final.hook_normalized': (a) => { for (let j = 0; j < a.data.length; j++) a.data[j] = 1000 * row[j % row.length]!; } },
  });
  assert.deepEqual(g.newTokens, [eos]);
  assert.equal(g.stopReason, 'eos');
});

const vector = { kind: 'contrast', positive: 'I love this', negative: 'I hate this' } as const;

test('steering with coefficient 0 changes nothing: identical tokens and identical logits', async () => {
  const params = steeringTechnique.params.parse({ prompt: PROMPT, layer: 1, vector, coefficient: 0, maxNewTokens: 6, stopAtEos: false });
  const v = await steeringVector(model, params);
  assert.ok(v.some((x) => x !== 0), 'the vector is not zero');
  const opts = { maxNewTokens: 6, temperature: 0.8, topK: 0, topP: 1, seed: 5, stopAtEos: false, keepLogits: true };
  const plain = await generateTokens(model, PROMPT, opts);
  const steered = await generateTokens(model, PROMPT, { ...opts, hooks: { 'blocks.1.hook_resid_pre': steeringHook(v, 0) } });
  assert.deepEqual(steered.newTokens, plain.newTokens);
  assert.equal(steered.stepLogits.length, 6);
  for (let i = 0; i < 6; i++) assert.deepEqual(steered.stepLogits[i], plain.stepLogits[i]);
  const { result } = await runTechnique(steeringTechnique, model, { prompt: PROMPT, layer: 1, vector, coefficient: 0, maxNewTokens: 6, stopAtEos: false, temperature: 0.8, seed: 5 });
  assert.deepEqual(result.steered.tokens, result.baseline.tokens);
  assert.deepEqual(result.steered.logprobs, result.baseline.logprobs);
  assert.equal(result.first_difference, null);
});

test('steering with a large coefficient changes the text; the vector is the residual difference of the pair', async () => {
  const { result, progress } = await runTechnique(steeringTechnique, model, { prompt: PROMPT, layer: 1, hook: 'resid_post', vector, coefficient: 40, maxNewTokens: 6, stopAtEos: false });
  assert.notDeepEqual(result.steered.tokens, result.baseline.tokens);
  const fd = result.first_difference!;
  assert.notEqual(result.steered.tokens[fd.index], result.baseline.tokens[fd.index]);
  assert.deepEqual(result.steered.tokens.slice(0, fd.index), result.baseline.tokens.slice(0, fd.index));
  assert.equal(fd.position, result.prompt_tokens.length + fd.index);
  assert.equal(progress.at(-1)![0], progress.at(-1)![1]);
  // The vector: resid_post at layer 1, last position, positive minus negative.
  const pos = await model.runWithCache('I love this', { names: ['blocks.1.hook_resid_post'] });
  const neg = await model.runWithCache('I hate this', { names: ['blocks.1.hook_resid_post'] });
  const d = model.config.dModel;
  const a = pos.cache.get('blocks.1.hook_resid_post')!;
  const b = neg.cache.get('blocks.1.hook_resid_post')!;
  const expected = Array.from({ length: d }, (_, j) => a.data[a.data.length - d + j]! - b.data[b.data.length - d + j]!);
  const got = await steeringVector(model, steeringTechnique.params.parse({ prompt: 'x', layer: 1, hook: 'resid_post', vector, coefficient: 1 }));
  for (let j = 0; j < d; j++) assert.ok(Math.abs(got[j]! - expected[j]!) < 1e-6);
  const means = await steeringVector(model, steeringTechnique.params.parse({ prompt: 'x', layer: 1, hook: 'resid_post', vector: { kind: 'means', positive: ['I love this'], negative: ['I hate this'] }, coefficient: 1 }));
  assert.deepEqual(means, got);
  // Steering from a position after the prompt leaves the first new token's distribution alone.
  const late = await runTechnique(steeringTechnique, model, { prompt: PROMPT, layer: 1, vector, coefficient: 40, fromPosition: result.prompt_tokens.length, maxNewTokens: 3, stopAtEos: false });
  assert.equal(late.result.steered.logprobs[0], late.result.baseline.logprobs[0]);
  assert.equal(late.result.steered.tokens[0], late.result.baseline.tokens[0]);
});

test('runTechnique returns the envelope; the run seed fills in a missing seed; parameter errors list every problem', async () => {
  const doc = await runByName('generate', { prompt: PROMPT, maxNewTokens: 2, temperature: 1 }, { model, seed: 99 });
  assert.equal(doc.technique, 'generate');
  assert.equal(doc.schemaVersion, generateTechnique.schemaVersion);
  assert.match(doc.engineVersion, /^\d+\.\d+\.\d+$/);
  assert.equal(doc.model.weightsSha256, model.weightsSha256);
  assert.equal(doc.model.type, 'gpt2');
  assert.equal(doc.seed, 99);
  assert.equal((doc.params as { seed: number }).seed, 99);
  assert.ok(!Number.isNaN(Date.parse(doc.startedAt)));
  assert.ok(doc.durationMs >= 0);
  generateTechnique.result.parse(doc.result);
  assert.throws(
    () => parseParams(steeringTechnique, { prompt: '', layer: -1, coefficient: 'big' }),
    (e: Error) => /prompt/.test(e.message) && /layer/.test(e.message) && /coefficient/.test(e.message) && /vector/.test(e.message),
  );
  await assert.rejects(runByName('nope', {}, { model }), /There is no technique "nope".*generate/);
});

test('every technique has JSON Schemas for its parameters, result and document', () => {
  const schemas = techniqueJsonSchemas();
  assert.deepEqual(Object.keys(schemas).sort(), techniques.map((t) => t.name).sort());
  for (const name of ['generate', 'steering', 'glitch-tokens']) {
    const s = schemas[name]!;
    assert.equal((s.params as { type: string }).type, 'object');
    assert.equal((s.result as { type: string }).type, 'object');
    assert.ok(JSON.stringify(s.document).includes('weightsSha256'));
  }
  assert.ok('coefficient' in (schemas.steering!.params as { properties: object }).properties);
});
