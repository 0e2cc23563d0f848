// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/**
 * glitch-tokens on a test-made GPT-2-shaped model whose embedding (tied) rows are a shared offset plus noise, where
 * the reference tokens (bytes never in UTF-8) and three "planted" tokens are left at the shared offset, as rows that
 * training never moved are: the unembedding indicator ranks the planted tokens first. Three other tokens get tiny
 * rows: the embedding-norm indicator ranks those first. Verification runs and classifies by max probability.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, readSync, writeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadModel, type Model } from '../engine/model.ts';
import { writeRandomGpt2 } from '../engine/testing/random-model.ts';
import { glitchTokensTechnique, unreachableTokens } from '../techniques/glitch-tokens.ts';
import { createRng } from '../techniques/sampling.ts';
import { runTechnique } from './techniques-support.ts';

const PLANTED = [65, 120, 150];
const TINY = [70, 71, 72];
const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-glitch-'));
let model: Model;

before(async () => {
  const shape = { nLayers: 1, dModel: 32, nHeads: 2, dVocab: 257, nCtx: 128 };
  writeRandomGpt2(dir, shape, 3);
  const file = path.join(dir, 'model.safetensors');
  const fd = openSync(file, 'r+');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE());
    const head = Buffer.alloc(n);
    readSync(fd, head, 0, n, 8);
    const [begin] = JSON.parse(head.toString('utf8'))['wte.weight'].data_offsets as [number, number];
    const { dVocab: V, dModel: d } = shape;
    const rng = createRng(11);
    const offset = Float32Array.from({ length: d }, () => (rng() - 0.5) * 0.3);
    const reference = [0xc0, 0xc1, ...Array.from({ length: 11 }, (_, i) => 0xf5 + i)]; // byte tokens: id = byte here
    const rows = new Float32Array(V * d);
    for (let i = 0; i < V; i++) {
      const still = reference.includes(i) || PLANTED.includes(i);
      for (let j = 0; j < d; j++) {
        const noise = (rng() - 0.5) * (still ? 1e-4 : 0.15);
        rows[i * d + j] = TINY.includes(i) ? noise * 0.01 : offset[j]! + noise;
      }
    }
    writeSync(fd, new Uint8Array(rows.buffer), 0, rows.byteLength, 8 + n + begin);
  } finally {
    closeSync(fd);
  }
  model = await loadModel(dir, { threads: 0 });
});
after(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the reference tokens are the bytes never found in UTF-8', () => {
  assert.deepEqual(unreachableTokens(model), [0xc0, 0xc1, ...Array.from({ length: 11 }, (_, i) => 0xf5 + i)]);
});

test('the unembedding indicator ranks the planted under-trained tokens first; verification classifies them', async () => {
  const { result, progress } = await runTechnique(glitchTokensTechnique, model, { percentile: 5, verify: 3, verifyTokens: 2 });
  assert.equal(result.indicator, 'unembedding_cosine');
  assert.equal(result.tied_embeddings, true);
  assert.equal(result.reference_tokens.length, 13);
  assert.deepEqual(result.candidates.slice(0, 3).map((c) => c.id).sort((a, b) => a - b), PLANTED);
  assert.ok(result.candidates[0]!.score < 1e-3, `planted distance ${result.candidates[0]!.score}`);
  assert.ok(result.candidates.every((c, i) => i === 0 || c.score >= result.candidates[i - 1]!.score), 'sorted by score');
  assert.ok(result.distribution.threshold >= result.candidates.at(-1)!.score);
  for (const c of result.candidates.slice(0, 3)) {
    const v = c.verification!;
    assert.equal(v.prompts.length, 3);
    assert.ok(v.max_prob >= 0 && v.max_prob <= 1);
    assert.equal(v.max_prob, Math.max(...v.prompts.map((p) => p.max_prob)));
    const expected = v.max_prob > 0.9 ? 'strong_rejected' : v.max_prob > 0.1 ? 'weak_rejected' : v.max_prob < 0.001 ? 'strong_verified' : 'weak_verified';
    assert.equal(v.status, expected);
  }
  assert.equal(result.candidates[3]?.verification ?? null, null, 'only the first three are verified');
  assert.equal(progress.at(-1)![0], progress.at(-1)![1]);
});

test('the embedding-norm indicator ranks the tiny rows first', async () => {
  const { result } = await runTechnique(glitchTokensTechnique, model, { indicator: 'embedding_norm', verify: 0, maxCandidates: 3 });
  assert.equal(result.indicator, 'embedding_norm');
  assert.deepEqual(result.candidates.map((c) => c.id).sort((a, b) => a - b), TINY);
  assert.ok(result.candidates.every((c) => c.verification === null));
});

test('reference tokens beyond the vocabulary are refused', async () => {
  await assert.rejects(runTechnique(glitchTokensTechnique, model, { referenceTokens: [100000] }), /not in the vocabulary/);
});
