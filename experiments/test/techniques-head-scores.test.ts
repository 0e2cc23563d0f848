// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/**
 * The `head-scores` technique. A hand-built 2-layer attention-only GPT-2 model (written here, weights set by hand)
 * has a previous-token head (layer 0, head 2) and an induction head (layer 1, head 1); head-scores must find them.
 * On the random fixtures, the scores must equal the definitions computed directly from hook_pattern.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EngineError } from '../engine/errors.ts';
import { loadModel, type Model } from '../engine/model.ts';
import { headScoresTechnique } from '../techniques/head-scores.ts';
import { loadFixture, paramErrors, runTechnique } from './techniques-support.ts';

const V = 64; // 63 ordinary tokens + BOS (63)
const N_CTX = 40;
const D = 256;
const H = 4;
const DH = 64;
const PREV_HEAD = 2; // layer 0
const INDUCTION_HEAD = 1; // layer 1
// Residual stream subspaces: token identity, positions, previous token; each with a "ballast" dimension holding
// minus the sum of the others, so every residual vector has mean 0 and LayerNorm only rescales it.
const T = 0;
const T_BALLAST = T + V;
const POS = T_BALLAST + 1;
const POS_BALLAST = POS + N_CTX;
const PREV = POS_BALLAST + 1;
const PREV_BALLAST = PREV + V;

/** Writes the hand-built model (F32 safetensors, config.json, vocab.json, merges.txt) into `dir`. */
function writeInductionModel(dir: string): void {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const add = (name: string, shape: number[], fill?: (set: (i: number, j: number, v: number) => void) => void) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const cols = shape[1] ?? 1;
    if (fill) fill((i, j, v) => (data[i * cols + j] = v));
    tensors.set(name, { shape, data });
  };
  const ones = (name: string) => add(name, [D], (set) => { for (let j = 0; j < D; j++) set(j, 0, 1); });
  add('wte.weight', [V, D], (set) => { for (let t = 0; t < V; t++) { set(t, T + t, 1); set(t, T_BALLAST, -1); } });
  add('wpe.weight', [N_CTX, D], (set) => { for (let p = 0; p < N_CTX; p++) { set(p, POS + p, 1); set(p, POS_BALLAST, -1); } });
  const alpha = 2; // LayerNorm scales the residual by ~8 (layer 0) and ~6.5 (layer 1): scores of ~32 and ~21.
  for (let l = 0; l < 2; l++) {
    const h = `h.${l}.`;
    ones(`${h}ln_1.weight`); add(`${h}ln_1.bias`, [D]);
    ones(`${h}ln_2.weight`); add(`${h}ln_2.bias`, [D]);
    // Conv1D [in, out]: columns Q | K | V, head h owning columns h*DH .. h*DH + DH - 1 of each.
    add(`${h}attn.c_attn.weight`, [D, 3 * D], (set) => {
      if (l === 0) {
        const o = PREV_HEAD * DH;
        for (let k = 0; k < N_CTX; k++) set(POS + k, o + k, alpha); // query: my position k
        for (let k = 1; k < N_CTX; k++) set(POS + k - 1, D + o + k, alpha); // key at position k - 1 answers query k
        for (let t = 0; t < V; t++) set(T + t, 2 * D + o + t, 1); // value: the token there
      } else {
        const o = INDUCTION_HEAD * DH;
        for (let t = 0; t < V; t++) {
          set(T + t, o + t, alpha); // query: my token
          set(PREV + t, D + o + t, alpha); // key: the token before the key position
          set(T + t, 2 * D + o + t, 1); // value: the key position's token (what came next last time)
        }
      }
    });
    add(`${h}attn.c_attn.bias`, [3 * D]);
    add(`${h}attn.c_proj.weight`, [D, D], (set) => {
      if (l === 0) for (let t = 0; t < V; t++) { set(PREV_HEAD * DH + t, PREV + t, 1 / 8); set(PREV_HEAD * DH + t, PREV_BALLAST, -1 / 8); }
      else for (let t = 0; t < V; t++) { set(INDUCTION_HEAD * DH + t, T + t, 0.5); set(INDUCTION_HEAD * DH + t, T_BALLAST, -0.5); }
    });
    add(`${h}attn.c_proj.bias`, [D]);
    add(`${h}mlp.c_fc.weight`, [D, 4]); add(`${h}mlp.c_fc.bias`, [4]);
    add(`${h}mlp.c_proj.weight`, [4, D]); add(`${h}mlp.c_proj.bias`, [D]);
  }
  ones('ln_f.weight'); add('ln_f.bias', [D]);

  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([len, Buffer.from(json), ...[...tensors.values()].map((t) => Buffer.from(t.data.buffer))]));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: V, n_embd: D, n_head: H, n_layer: 2, n_positions: N_CTX,
    n_inner: 4, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new', bos_token_id: V - 1, eos_token_id: V - 1,
  }));
  const chars = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!'];
  const vocab: Record<string, number> = Object.fromEntries(chars.map((c, i) => [c, i]));
  vocab['<|endoftext|>'] = V - 1;
  writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(path.join(dir, 'merges.txt'), '#version: 0.2\n');
}

let dir: string;
let induction: Model;
let gpt2: Model;
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'menagerie-induction-'));
  writeInductionModel(dir);
  induction = await loadModel(dir, { threads: 0 });
  gpt2 = await loadFixture('gpt2');
});
after(async () => {
  await induction.close();
  await gpt2.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Repeat length for the hand-built model: random tokens repeat within a sequence less often when it is short. */
const S = 10;

test('the hand-built model\'s induction head and previous-token head are ranked first', async (t) => {
  const { result, progress } = await runTechnique(headScoresTechnique, induction, { seqLen: S, nSequences: 4, seed: 3 });
  t.diagnostic(headScoresTechnique.summarize(result, induction));
  assert.equal(result.seq_len, S);
  assert.equal(result.bos, true);
  assert.equal(progress.length, 4);
  for (const key of ['previous_token', 'duplicate_token', 'induction'] as const) {
    assert.equal(result[key].length, 2);
    for (const r of result[key]) assert.equal(r.length, H);
  }
  assert.deepEqual([result.top.induction[0]!.layer, result.top.induction[0]!.head], [1, INDUCTION_HEAD]);
  assert.ok(result.induction[1]![INDUCTION_HEAD]! > 0.9, `induction score ${result.induction[1]![INDUCTION_HEAD]}`);
  assert.ok(result.top.induction[1]!.score < 0.5, 'no other head looks like an induction head');
  assert.deepEqual([result.top.previous_token[0]!.layer, result.top.previous_token[0]!.head], [0, PREV_HEAD]);
  assert.ok(result.previous_token[0]![PREV_HEAD]! > 0.9);
  for (const seq of result.sequences) {
    assert.equal(seq.length, 2 * S + 1);
    assert.equal(seq[0], V - 1);
    assert.deepEqual(seq.slice(1, S + 1), seq.slice(S + 1));
  }
  // It is a working induction circuit: in the second repeat the model predicts the repeated sequence's next token.
  const seq = result.sequences[0]!;
  const logits = await induction.forward(seq);
  let right = 0;
  for (let i = S + 1; i < seq.length - 1; i++) {
    const rowValues = logits.data.subarray(i * V, (i + 1) * V);
    if (rowValues.indexOf(Math.max(...rowValues)) === seq[i + 1]) right++;
  }
  assert.ok(right >= S - 2, `${right} of ${S - 1} next tokens predicted`);
});

test('on a random fixture the scores are the definitions applied to hook_pattern; seeds reproduce the tokens', async () => {
  const { result } = await runTechnique(headScoresTechnique, gpt2, { nSequences: 2, seed: 7 });
  const s = result.seq_len;
  assert.equal(s, 15, 'the longest repeat that fits 32 positions with BOS');
  const L = 2;
  const HH = 4;
  const expected = { previous_token: [[0, 0, 0, 0], [0, 0, 0, 0]], duplicate_token: [[0, 0, 0, 0], [0, 0, 0, 0]], induction: [[0, 0, 0, 0], [0, 0, 0, 0]] };
  for (const seq of result.sequences) {
    assert.ok(seq.slice(1).every((t) => t !== 316), 'BOS/EOS is not drawn');
    const n = seq.length;
    const { cache } = await gpt2.runWithCache(seq, { filter: (name) => name.endsWith('hook_pattern') });
    for (let l = 0; l < L; l++) {
      const A = cache.get(`blocks.${l}.attn.hook_pattern`)!.data;
      for (let h = 0; h < HH; h++) {
        const at = (i: number, j: number) => A[(h * n + i) * n + j]!;
        let prev = 0;
        for (let i = 1; i < n; i++) prev += at(i, i - 1) / (n - 1);
        let dup = 0;
        let ind = 0;
        for (let i = 1 + s; i < n; i++) {
          dup += at(i, i - s) / s;
          ind += at(i, i - s + 1) / s;
        }
        expected.previous_token[l]![h]! += prev / 2;
        expected.duplicate_token[l]![h]! += dup / 2;
        expected.induction[l]![h]! += ind / 2;
      }
    }
  }
  for (const key of ['previous_token', 'duplicate_token', 'induction'] as const) {
    for (let l = 0; l < L; l++) for (let h = 0; h < HH; h++) assert.ok(Math.abs(result[key][l]![h]! - expected[key][l]![h]!) < 1e-6, `${key} L${l}H${h}`);
  }
  const again = await runTechnique(headScoresTechnique, gpt2, { nSequences: 2, seed: 7 });
  assert.deepEqual(again.result, result);
  const other = await runTechnique(headScoresTechnique, gpt2, { nSequences: 2, seed: 8 });
  assert.notDeepEqual(other.result.sequences, result.sequences);
  const ranged = await runTechnique(headScoresTechnique, gpt2, { nSequences: 1, seqLen: 5, tokenRange: [10, 20], prependBos: false });
  assert.equal(ranged.result.sequences[0]!.length, 10);
  assert.ok(ranged.result.sequences[0]!.every((t) => t >= 10 && t < 20));
});

test('head-scores refuses bad parameters with clear messages', async () => {
  assert.match(paramErrors(headScoresTechnique.params, { seqLen: 1 }), /^seqLen: seqLen is at least 2/);
  assert.match(paramErrors(headScoresTechnique.params, { nSequences: 0 }), /^nSequences: nSequences is at least 1/);
  assert.match(paramErrors(headScoresTechnique.params, { prompt: 'x' }), /prompt/);
  await assert.rejects(
    runTechnique(headScoresTechnique, gpt2, { seqLen: 16 }),
    (e: EngineError) => e.id === 'invalid_input' && /seqLen 16 does not fit: .* context of 32 tokens, so seqLen is at most 15/.test(e.message),
  );
  await assert.rejects(runTechnique(headScoresTechnique, gpt2, { tokenRange: [300, 400] }), (e: EngineError) => /within the vocabulary \[0, 320\)/.test(e.message));
});
