// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/**
 * Optional: with a real GPT-2 small folder named by MENAGERIE_GPT2_DIR (config.json, model.safetensors, tokenizer),
 * the TransformerLens reference values hold: loss on "Hello world!" with BOS is 5.331856 ± 4e-5, the tokens are
 * [50256, 15496, 995, 0], and " SolidGoldMagikarp" is one token (43453).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModel } from '../engine/model.ts';

const dir = process.env.MENAGERIE_GPT2_DIR;
const skip = dir ? false : 'MENAGERIE_GPT2_DIR is not set (no local GPT-2 small folder), so the real-GPT-2 checks are skipped';

test('GPT-2 small: TransformerLens reference loss and tokens', { skip }, async () => {
  const model = await loadModel(dir!);
  try {
    assert.deepEqual(model.toTokens('Hello world!'), [50256, 15496, 995, 0]);
    assert.deepEqual(model.tokenize(' SolidGoldMagikarp'), [43453]);
    const loss = await model.loss('Hello world!');
    assert.ok(Math.abs(loss - 5.331856) <= 4e-5, `loss ${loss}`);
  } finally {
    await model.close();
  }
});
