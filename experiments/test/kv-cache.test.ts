// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/**
 * The key/value cache: greedy generation one position per step gives exactly (bit for bit) the tokens and logits of
 * recomputing the whole sequence each step, on every fixture architecture; hooks see the new positions only, with
 * the right shapes and positions.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hookShape } from '../engine/hooks.ts';
import { loadModel, type Model } from '../engine/model.ts';
import { EngineError } from '../engine/errors.ts';
import { FIXTURES, FIXTURE_MODELS, loadFixtureModel, readReference, type Reference } from './fixture-support.ts';

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

for (const name of FIXTURE_MODELS) {
  describe(`key/value cache on fixture ${name}`, () => {
    let model: Model;
    let ref: Reference;
    before(async () => {
      model = await loadFixtureModel(name);
      ref = await readReference(name);
    });
    after(() => model.close());

    test('cached greedy generation equals full recomputation, tokens and logits bit for bit', async () => {
      const prompt = ref.prompts[0]!.tokens;
      const steps = 8;
      // Full recomputation: the whole sequence every step.
      const full = [...prompt];
      const fullLogits: Float32Array[] = [];
      for (let s = 0; s < steps; s++) {
        const logits = await model.forward(full);
        const V = logits.shape[1]!;
        const last = logits.data.slice((full.length - 1) * V);
        fullLogits.push(last);
        full.push(argmax(last));
      }
      // Cached: the prompt once (last-position logits only), then one token per step.
      const kv = model.createKvCache();
      const cached = [...prompt];
      let r = await model.run(prompt, { kvCache: kv, logits: 'last' });
      for (let s = 0; s < steps; s++) {
        assert.deepEqual(r.logits!.shape, [1, model.config.dVocab]);
        assert.deepEqual(r.logits!.data, fullLogits[s], `step ${s}: logits`);
        const next = argmax(r.logits!.data);
        cached.push(next);
        if (s < steps - 1) r = await model.run([next], { kvCache: kv });
      }
      assert.deepEqual(cached, full);
      assert.equal(kv.length, prompt.length + steps - 1);
    });

    test('hooks fire for the new position only, with nKeys key positions and the right start', async () => {
      const prompt = ref.prompts[1]!.tokens;
      const kv = model.createKvCache();
      await model.run(prompt, { kvCache: kv });
      const seen = new Map<string, { shape: number[]; start: number; tokens: number }>();
      const extra = prompt[1]!;
      const r = await model.run([extra], {
        kvCache: kv,
        hooks: [{ name: () => true, fn: (a, ctx) => void seen.set(ctx.name, { shape: a.shape, start: ctx.start, tokens: ctx.tokens.length }) }],
        cache: { names: ['blocks.0.attn.hook_pattern'] },
      });
      const nKeys = prompt.length + 1;
      assert.equal(seen.size, model.hookNames().length, 'every hook fired');
      for (const [hook, s] of seen) {
        assert.deepEqual(s.shape, hookShape(model.config, hook, 1, nKeys), hook);
        assert.equal(s.start, prompt.length);
        assert.equal(s.tokens, nKeys);
      }
      assert.deepEqual(r.tokens, [...prompt, extra]);
      assert.equal(r.start, prompt.length);
      // The cached pattern row equals the last row of a full run's pattern.
      const fullRun = await model.runWithCache([...prompt, extra], { names: ['blocks.0.attn.hook_pattern'] });
      const fullPat = fullRun.cache.get('blocks.0.attn.hook_pattern')!;
      const pat = r.cache.get('blocks.0.attn.hook_pattern')!;
      const H = model.config.nHeads;
      for (let h = 0; h < H; h++) {
        const row = fullPat.data.subarray((h * nKeys + nKeys - 1) * nKeys, (h * nKeys + nKeys) * nKeys);
        assert.deepEqual(pat.data.subarray(h * nKeys, (h + 1) * nKeys), row);
      }
    });
  });
}

test('a forked cache continues independently; a failed run leaves the cache as it was', async () => {
  const model = await loadModel(path.join(FIXTURES, 'gpt2'), { threads: 0 });
  try {
    const kv = model.createKvCache();
    await model.run([1, 2, 3], { kvCache: kv });
    const fork = kv.fork();
    const a = await model.run([4], { kvCache: kv });
    const b = await model.run([4], { kvCache: fork });
    assert.deepEqual(a.logits!.data, b.logits!.data);
    await assert.rejects(
      model.run([5], { kvCache: kv, hooks: { 'blocks.1.hook_resid_pre': () => { throw new Error('boom'); } } }),
      /boom/,
    );
    assert.equal(kv.length, 4);
    const c = await model.run([5], { kvCache: kv });
    const d = await model.forward([1, 2, 3, 4, 5]);
    const V = model.config.dVocab;
    assert.deepEqual(c.logits!.data, d.data.slice(4 * V));
    await assert.rejects(model.run([1], { kvCache: kv, stopAtLayer: 1 }), (e: EngineError) => e.id === 'invalid_input');
    const long = model.createKvCache();
    await assert.rejects(
      model.run(Array.from({ length: model.config.nCtx + 1 }, () => 1), { kvCache: long }),
      (e: EngineError) => e.id === 'prompt_too_long',
    );
  } finally {
    await model.close();
  }
});

test('generation-sized products (1 to 3 rows, matrix-vector kernel) give the same bits as the same rows of a larger product', async () => {
  const { Arena } = await import('../engine/kernels/arena.ts');
  const { MatmulEngine } = await import('../engine/kernels/matmul.ts');
  const m = 45;
  const k = 27;
  const arena = Arena.create(m * k * 4);
  const off = arena.allocWeights(m * k * 4);
  arena.seal();
  arena.f32(off, m * k).set(Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37)));
  const w = { dtype: 'F32' as const, rows: m, cols: k, offset: off, ld: k };
  const x = Float32Array.from({ length: 7 * k }, (_, i) => Math.cos(i * 1.3));
  const bias = Float32Array.from({ length: m }, (_, i) => i / 7);
  for (const threads of [0, 2]) {
    const eng = await MatmulEngine.create(arena, threads, 0);
    try {
      const full = await eng.matmul(x, 7, w, bias);
      for (const n of [1, 2, 3]) {
        const part = await eng.matmul(x.subarray(k * (7 - n)), n, w, bias);
        assert.deepEqual(part, full.slice(m * (7 - n)), `${n} rows, ${threads} threads`);
      }
    } finally {
      await eng.close();
    }
  }
});
