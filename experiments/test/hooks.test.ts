// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** Hook replacement, cache selection and early stop, checked against the reference where it has an answer. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EngineError } from '../engine/errors.ts';
import { loadModel, type Model } from '../engine/model.ts';
import { FIXTURES, readReference, relativeError, type Reference } from './fixture-support.ts';

let model: Model;
let ref: Reference;
before(async () => {
  model = await loadModel(path.join(FIXTURES, 'gpt2'), { threads: 0 });
  ref = await readReference('gpt2');
});
after(() => model.close());

test('replacing every activation with itself (or a copy) changes nothing, bit for bit', async () => {
  const tokens = ref.prompts[0]!.tokens;
  const plain = await model.forward(tokens);
  // hook_result is left out here: hooking it makes attn_out the sum of per-head results (another summation order).
  const names = model.hookNames().filter((n) => !n.endsWith('hook_result'));
  const hooks = names.map((name, i) => ({ name, fn: (a: { data: Float32Array }) => (i % 2 ? a.data.slice() : undefined) }));
  const hooked = await model.runWithHooks(tokens, hooks);
  assert.deepEqual(hooked.logits.data, plain.data);
  const viaResult = await model.runWithHooks(tokens, { 'blocks.0.attn.hook_result': () => undefined });
  assert.ok(relativeError(viaResult.logits.data, plain.data) < 1e-6);
});

test('zeroing blocks.0.hook_attn_out changes the logits as the reference says', async () => {
  const tokens = ref.prompts[0]!.tokens;
  const plain = await model.forward(tokens);
  const { logits } = await model.runWithHooks(tokens, { 'blocks.0.hook_attn_out': (a) => new Float32Array(a.data.length) });
  const expected = ref.tensors.get('p0.zero_attn_out_0.logits')!;
  assert.ok(relativeError(logits.data, expected.data) < 1e-4);
  assert.ok(relativeError(plain.data, expected.data) > 1e-2, 'the ablation matters');
});

test('in-place edits in a hook take effect; hooks see context', async () => {
  const tokens = ref.prompts[1]!.tokens;
  const seen: (number | null)[] = [];
  const { logits } = await model.runWithHooks(tokens, [
    { name: (n) => n.endsWith('hook_attn_out'), fn: (a, ctx) => { seen.push(ctx.layer); a.data.fill(0); } },
  ]);
  const zeroedBoth = await model.runWithHooks(tokens, {
    'blocks.0.hook_attn_out': (a) => new Float32Array(a.data.length),
    'blocks.1.hook_attn_out': (a) => new Float32Array(a.data.length),
  });
  assert.deepEqual(seen, [0, 1]);
  assert.deepEqual(logits.data, zeroedBoth.logits.data);
});

test('runWithCache caches only the named hooks; stopAtLayer returns the residual stream', async () => {
  const tokens = ref.prompts[0]!.tokens;
  const { cache } = await model.runWithCache(tokens, { names: ['blocks.1.hook_resid_pre', 'blocks.0.attn.hook_pattern'] });
  assert.deepEqual([...cache.keys()].sort(), ['blocks.0.attn.hook_pattern', 'blocks.1.hook_resid_pre']);
  const pattern = cache.get('blocks.0.attn.hook_pattern')!;
  const n = tokens.length;
  assert.deepEqual(pattern.shape, [4, n, n]);
  for (let r = 0; r < 4 * n; r++) {
    const sum = pattern.data.subarray(r * n, (r + 1) * n).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, 'pattern rows sum to 1');
  }
  const early = await model.run(tokens, { stopAtLayer: 1 });
  assert.equal(early.logits, null);
  assert.deepEqual(early.residual!.data, cache.get('blocks.1.hook_resid_pre')!.data);
});

test('unknown hook names and wrong-sized replacements are refused with a clear message', async () => {
  const tokens = ref.prompts[0]!.tokens;
  await assert.rejects(model.runWithHooks(tokens, { 'blocks.9.hook_resid_pre': () => undefined }), (e: EngineError) => e.id === 'invalid_input' && /no hook/.test(e.message));
  await assert.rejects(model.runWithCache(tokens, { names: ['hook_nope'] }), (e: EngineError) => e.id === 'invalid_input');
  await assert.rejects(
    model.runWithHooks(tokens, { hook_embed: () => new Float32Array(3) }),
    (e: EngineError) => e.id === 'invalid_input' && /hook_embed returned 3 values/.test(e.message),
  );
});
