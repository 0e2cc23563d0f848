// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** inspectModelFolder: the registry's check of a folder, without loading it, and its refusals with reasons. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EngineError, inspectModelFolder, loadModel, writeRandomGpt2 } from '../index.ts';

const root = mkdtempSync(path.join(tmpdir(), 'menagerie-inspect-'));
const good = path.join(root, 'good');
const shape = { nLayers: 2, dModel: 16, nHeads: 2, dVocab: 300, nCtx: 64 };

before(() => {
  writeRandomGpt2(good, shape, 7);
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the good folder, changed by `edit`. */
function variant(name: string, edit: (dir: string) => void): string {
  const dir = path.join(root, name);
  cpSync(good, dir, { recursive: true });
  edit(dir);
  return dir;
}

async function refusal(dir: string): Promise<EngineError> {
  const error = await inspectModelFolder(dir).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof EngineError, `expected an EngineError, got ${String(error)}`);
  return error;
}

test('a good folder: its shape, parameter count, dtypes and the same sha256 loadModel reports', async () => {
  const report = await inspectModelFolder(good);
  assert.equal(report.architecture, 'GPT2LMHeadModel');
  assert.equal(report.config.nLayers, 2);
  assert.equal(report.config.dModel, 16);
  assert.deepEqual(report.dtypes, ['F32']);
  assert.deepEqual(report.weightFiles, ['model.safetensors']);
  // Every stored float, counted from the file size: the header is small next to the tensors.
  const header = Number(readFileSync(path.join(good, 'model.safetensors')).readBigUInt64LE(0));
  assert.equal(report.parameters * 4, report.weightFileBytes - 8 - header);
  assert.ok(report.tokenizerVocabSize <= shape.dVocab);
  const model = await loadModel(good, { threads: 0 });
  try {
    assert.equal(report.weightsSha256, model.weightsSha256);
  } finally {
    await model.close();
  }
  assert.equal((await inspectModelFolder(good, { hash: false })).weightsSha256, '');
});

test('changed weights give another sha256', async () => {
  const dir = variant('changed', (d) => {
    const file = path.join(d, 'model.safetensors');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(file, bytes);
  });
  assert.notEqual((await inspectModelFolder(dir)).weightsSha256, (await inspectModelFolder(good)).weightsSha256);
});

test('refusals name the reason: no folder, no tokenizer, truncated weights, a tokenizer too big for the vocabulary, an unknown architecture', async () => {
  assert.equal((await refusal(path.join(root, 'nowhere'))).id, 'model_not_found');

  const noTokenizer = variant('no-tokenizer', (d) => {
    for (const f of ['tokenizer.json', 'vocab.json', 'merges.txt']) rmSync(path.join(d, f), { force: true });
  });
  assert.equal((await refusal(noTokenizer)).id, 'model_incomplete');

  const truncated = variant('truncated', (d) => truncateSync(path.join(d, 'model.safetensors'), 1000));
  const t = await refusal(truncated);
  assert.equal(t.id, 'corrupt_weights');
  assert.match(t.message, /model\.safetensors/);

  const smallVocab = variant('small-vocab', (d) => {
    const config = JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8'));
    writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...config, vocab_size: 100 }));
  });
  assert.equal((await refusal(smallVocab)).id, 'tokenizer_mismatch');

  const unknown = variant('unknown-arch', (d) => {
    const config = JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8'));
    writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...config, model_type: 'mamba' }));
  });
  assert.equal((await refusal(unknown)).id, 'unsupported_architecture');

  const noWeights = variant('no-weights', (d) => unlinkSync(path.join(d, 'model.safetensors')));
  assert.equal((await refusal(noWeights)).id, 'model_incomplete');
});
