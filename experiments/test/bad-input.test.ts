// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** Each bad input fails up front with a stable error id and a message naming the problem. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { EngineError, type EngineErrorId } from '../engine/errors.ts';
import { loadModel } from '../engine/model.ts';
import { FIXTURES } from './fixture-support.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'menagerie-engine-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
function copyOf(model: string): string {
  const dir = path.join(tmp, `${model}-${counter++}`);
  cpSync(path.join(FIXTURES, model), dir, { recursive: true });
  return dir;
}

function fails(id: EngineErrorId, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof EngineError, `expected an EngineError, got ${String(e)}`);
    assert.equal(e.id, id, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

test('a missing folder, and a hub id instead of a folder', async () => {
  await assert.rejects(loadModel(path.join(tmp, 'nowhere')), fails('model_not_found', /no model folder/));
  await assert.rejects(loadModel('openai-community/gpt2'), fails('model_not_found', /hub id.*nothing is downloaded.*place the model folder locally/s));
});

test('a folder without config.json, or without weights', async () => {
  const noConfig = copyOf('gpt2');
  rmSync(path.join(noConfig, 'config.json'));
  await assert.rejects(loadModel(noConfig, { threads: 0 }), fails('model_incomplete', /no config\.json/));
  const noWeights = copyOf('gpt2');
  rmSync(path.join(noWeights, 'model.safetensors'));
  await assert.rejects(loadModel(noWeights, { threads: 0 }), fails('model_incomplete', /no weights/));
  const noShard = copyOf('qwen2');
  rmSync(path.join(noShard, 'model-00002-of-00002.safetensors'));
  await assert.rejects(loadModel(noShard, { threads: 0 }), fails('model_incomplete', /model-00002-of-00002\.safetensors.*missing/));
  const noTokenizer = copyOf('neox');
  rmSync(path.join(noTokenizer, 'tokenizer.json'));
  await assert.rejects(loadModel(noTokenizer, { threads: 0 }), fails('model_incomplete', /No tokenizer/));
});

test('an unsupported architecture names the supported ones', async () => {
  const dir = copyOf('gpt2');
  const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, model_type: 'mamba', architectures: ['MambaForCausalLM'] }));
  await assert.rejects(loadModel(dir, { threads: 0 }), fails('unsupported_architecture', /"mamba".*Supported: GPT-2.*Llama.*GPT-NeoX/s));
});

test('a truncated or corrupt safetensors file is named', async () => {
  const truncated = copyOf('gpt2');
  const file = path.join(truncated, 'model.safetensors');
  truncateSync(file, statSync(file).size - 100);
  await assert.rejects(loadModel(truncated, { threads: 0 }), fails('corrupt_weights', /model\.safetensors.*truncated/s));
  const garbage = copyOf('gpt2');
  const bytes = readFileSync(path.join(garbage, 'model.safetensors'));
  bytes.write('#', 8);
  writeFileSync(path.join(garbage, 'model.safetensors'), bytes);
  await assert.rejects(loadModel(garbage, { threads: 0 }), fails('corrupt_weights', /model\.safetensors.*not JSON/s));
  const tiny = copyOf('gpt2');
  writeFileSync(path.join(tiny, 'model.safetensors'), Buffer.from([1, 2, 3]));
  await assert.rejects(loadModel(tiny, { threads: 0 }), fails('corrupt_weights', /only 3 bytes/));
});

test('weights that do not fit the config are refused', async () => {
  const dir = copyOf('gpt2');
  const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, n_embd: 64 }));
  await assert.rejects(loadModel(dir, { threads: 0 }), fails('corrupt_weights', /wte\.weight.*shape \[320, 32\].*\[320, 64\]/s));
});

test('a tokenizer larger than the vocabulary is refused', async () => {
  const dir = copyOf('gpt2');
  const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, vocab_size: 300 }));
  await assert.rejects(loadModel(dir, { threads: 0 }), fails('tokenizer_mismatch', /ids up to 316.*only 300/s));
});

test('a prompt longer than the context, and bad token ids', async () => {
  const model = await loadModel(path.join(FIXTURES, 'gpt2'), { threads: 0 });
  try {
    await assert.rejects(model.forward(new Array(33).fill(5)), fails('prompt_too_long', /33 tokens.*context holds 32/));
    await assert.rejects(model.forward([1, 2, 320]), fails('invalid_input', /Token id 320/));
    await assert.rejects(model.forward([]), fails('invalid_input', /empty/));
  } finally {
    await model.close();
  }
});

test('a load or a run needing more memory than allowed is refused up front with the estimate', async () => {
  await assert.rejects(
    loadModel(path.join(FIXTURES, 'gpt2'), { threads: 0, memoryLimitBytes: 1e6 }),
    fails('insufficient_memory', /Loading gpt2 needs about [\d.]+ MB of memory, but only 1\.0 MB is available/),
  );
  const model = await loadModel(path.join(FIXTURES, 'gpt2'), { threads: 0 });
  try {
    await assert.rejects(
      model.run(new Array(32).fill(7), { cache: true, memoryLimitBytes: 10e6 }),
      fails('insufficient_memory', /A run over 32 tokens caching \d+ hooks needs about [\d.]+ MB of memory, but only 10\.0 MB/),
    );
    assert.ok((await model.run(new Array(32).fill(7), { cache: true })).logits, 'the same run fits the machine');
  } finally {
    await model.close();
  }
});
