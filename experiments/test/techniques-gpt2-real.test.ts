// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/**
 * Optional: with a real GPT-2 small folder named by MENAGERIE_GPT2_DIR, the techniques find what TransformerLens'
 * demos report: head 5.5 is the top induction head on repeated random tokens (TL demos/Main_Demo.ipynb); on the IOI
 * prompt, heads 9.6 and 9.9 push " Mary" over " John" (TL demos/Exploratory_Analysis_Demo.ipynb); the logit lens
 * and DLA invariances hold at full size.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadModel, type Model } from '../engine/model.ts';
import { dlaTechnique } from '../techniques/dla.ts';
import { headScoresTechnique } from '../techniques/head-scores.ts';
import { logitLensTechnique } from '../techniques/logit-lens.ts';
import { runTechnique } from './techniques-support.ts';

const dir = process.env.MENAGERIE_GPT2_DIR;
const skip = dir ? false : 'MENAGERIE_GPT2_DIR is not set (no local GPT-2 small folder), so the real-GPT-2 technique checks are skipped';

let model: Model;
before(async () => {
  if (dir) model = await loadModel(dir);
});
after(async () => {
  if (dir) await model.close();
});

test('GPT-2 small: head 5.5 is the top induction head', { skip }, async () => {
  const { result } = await runTechnique(headScoresTechnique, model, { seqLen: 50, nSequences: 10, seed: 0 });
  assert.deepEqual([result.top.induction[0]!.layer, result.top.induction[0]!.head], [5, 5], JSON.stringify(result.top.induction));
});

test('GPT-2 small: IOI direct logit attribution (9.6 and 9.9 positive), parts sum to the logit difference', { skip }, async () => {
  const prompt = 'When John and Mary went to the shops, John gave the bag to';
  const { result } = await runTechnique(dlaTechnique, model, { prompt, target: ' Mary', contrast: ' John' });
  assert.ok(result.total > 0, `the model prefers " Mary" (${result.total})`);
  assert.ok(Math.abs(result.sum_of_parts - result.total) < 1e-3 * Math.abs(result.total));
  assert.ok(result.heads[9]![6]! > 0 && result.heads[9]![9]! > 0, `9.6 ${result.heads[9]![6]}, 9.9 ${result.heads[9]![9]}`);
  const lens = await runTechnique(logitLensTechnique, model, { prompt, target: ' Mary' });
  assert.ok(lens.result.positions[0]!.layers.at(-1)!.kl_to_final < 1e-9, 'the lens\'s last layer is the model\'s logits');
});
