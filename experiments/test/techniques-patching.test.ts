// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** The `patching` technique: endpoints 0 and 1, head patching, progress, cancellation, mismatched prompts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../engine/errors.ts';
import { logitDiff } from '../techniques/metrics.ts';
import { normalisedPatch, patchingTechnique, patchPositions } from '../techniques/patching.ts';
import { readReference } from './fixture-support.ts';
import { paramErrors, runTechnique, useFixtures } from './techniques-support.ts';

const NAMES = ['gpt2', 'neox'] as const;
const models = useFixtures(NAMES);

/** A clean prompt, a corrupted one differing at one position `k`, and answer/wrong tokens the clean run separates. */
async function setup(name: string) {
  const model = models.get(name)!;
  const ref = await readReference(name);
  const clean = ref.prompts[0]!.tokens.slice(0, 7);
  const k = 3;
  const corrupted = [...clean];
  corrupted[k] = clean[k] === 100 ? 101 : 100;
  return { model, clean, corrupted, k, answer: 5, wrong: 7 };
}

for (const name of NAMES) {
  test(`${name}: at layer 0 the changed position recovers 1 and the unchanged positions 0; patching everything is 1`, async () => {
    const { model, clean, corrupted, k, answer, wrong } = await setup(name);
    const { result, progress } = await runTechnique(patchingTechnique, model, { clean, corrupted, answer, wrong });
    const n = clean.length;
    const { nLayers, nHeads } = model.config;
    const L0 = result.resid_pre!.values[0]!;
    assert.equal(L0.length, n);
    for (let p = 0; p < n; p++) {
      if (p === k) assert.ok(Math.abs(L0[p]! - 1) < 1e-5, `position ${p}: ${L0[p]}`);
      else assert.equal(L0[p], 0, `position ${p} is the same in both prompts: patching it is no patch`);
    }
    // Positions before k are identical in both runs at every layer (causal attention): no effect.
    for (const r of result.resid_pre!.values) for (let p = 0; p < k; p++) assert.ok(Math.abs(r[p]!) < 1e-6);
    assert.deepEqual(result.attn_head_out!.layers, [...Array(nLayers).keys()]);
    assert.deepEqual(result.attn_head_out!.heads, [...Array(nHeads).keys()]);
    assert.ok(result.attn_head_out!.values.flat().every(Number.isFinite));
    // Progress: one report per layer and kind.
    assert.deepEqual(progress.map(([done, total]) => [done, total]), [...Array(2 * nLayers).keys()].map((i) => [i + 1, 2 * nLayers]));
    assert.match(progress[0]![2]!, /resid_pre layer 0/);

    // The endpoints by definition: every position of resid_pre at layer 0 from the clean run is the clean run.
    const cleanCache = await model.runWithCache(clean, { names: ['blocks.0.hook_resid_pre'] });
    const all = await model.runWithHooks(corrupted, {
      'blocks.0.hook_resid_pre': (act) => patchPositions(act, cleanCache.cache.get('blocks.0.hook_resid_pre')!, [...Array(n).keys()]),
    });
    const full = normalisedPatch(logitDiff(all.logits, n - 1, answer, wrong), result.clean_logit_diff, result.corrupted_logit_diff);
    assert.ok(Math.abs(full - 1) < 1e-5);
    const none = await model.runWithHooks(corrupted, { 'blocks.0.hook_resid_pre': () => undefined });
    assert.equal(normalisedPatch(logitDiff(none.logits, n - 1, answer, wrong), result.clean_logit_diff, result.corrupted_logit_diff), 0);
  });
}

test('patching selects kinds, layers and positions', async () => {
  const { model, clean, corrupted, answer, wrong } = await setup('gpt2');
  const { result } = await runTechnique(patchingTechnique, model, { clean, corrupted, answer, wrong, kinds: ['resid_pre'], layers: [1], positions: [-1, 3] });
  assert.equal(result.attn_head_out, null);
  assert.deepEqual(result.resid_pre!.layers, [1]);
  assert.deepEqual(result.resid_pre!.positions, [clean.length - 1, 3]);
  const full = await runTechnique(patchingTechnique, model, { clean, corrupted, answer, wrong, kinds: ['resid_pre'] });
  assert.deepEqual(result.resid_pre!.values[0], [full.result.resid_pre!.values[1]![clean.length - 1], full.result.resid_pre!.values[1]![3]]);
  const heads = await runTechnique(patchingTechnique, model, { clean, corrupted, answer, wrong, kinds: ['attn_head_out'], layers: [0] });
  assert.equal(heads.result.resid_pre, null);
  assert.equal(heads.result.attn_head_out!.values.length, 1);
});

test('patching refuses prompts of different lengths, indistinguishable prompts, bad parameters; it stops when aborted', async () => {
  const { model, clean, corrupted, answer, wrong } = await setup('gpt2');
  await assert.rejects(
    runTechnique(patchingTechnique, model, { clean, corrupted: corrupted.slice(1), answer, wrong }),
    (e: EngineError) => e.id === 'invalid_input' && /clean prompt is 7 tokens and the corrupted prompt 6; activation patching needs prompts of the same length/.test(e.message),
  );
  await assert.rejects(
    runTechnique(patchingTechnique, model, { clean: 'Hello world!', corrupted: 'Hello!', answer, wrong }),
    (e: EngineError) => /same length in tokens/.test(e.message),
  );
  await assert.rejects(
    runTechnique(patchingTechnique, model, { clean, corrupted: clean, answer, wrong }),
    (e: EngineError) => e.id === 'invalid_input' && /same logit difference/.test(e.message),
  );
  assert.match(paramErrors(patchingTechnique.params, { clean, corrupted, answer }), /^wrong: /);
  assert.match(paramErrors(patchingTechnique.params, { clean, corrupted, answer, wrong, kinds: ['mlp_out'] }), /"resid_pre" or "attn_head_out"/);
  assert.match(paramErrors(patchingTechnique.params, { corrupted, answer, wrong }), /^clean: /);
  const controller = new AbortController();
  controller.abort(new Error('stopped by the test'));
  await assert.rejects(runTechnique(patchingTechnique, model, { clean, corrupted, answer, wrong }, controller.signal), /stopped by the test/);
});
