// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/**
 * The experiment pictures: real result documents (every technique run on a tiny random GPT-2 this file writes),
 * each picture rendered through the real view engine (partials and helpers as the server registers them).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createViewEngine } from '../../server/views/engine.ts';
import { loadModel, writeRandomGpt2, type Model } from '../index.ts';
import { runTechnique, type ResultDocument } from '../techniques/run-technique.ts';
import type { AttentionResult } from '../techniques/attention.ts';
import type { DlaResult } from '../techniques/dla.ts';
import type { LogitLensResult } from '../techniques/logit-lens.ts';
import type { PatchingResult } from '../techniques/patching.ts';
import type { SteeringResult } from '../techniques/steering.ts';
import { picturePartials, resultPicture, type PictureView } from './result-picture.ts';
import { RAW_MAX_CHARS } from './raw.picture.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pictures-test-'));
const modelDir = path.join(dir, 'model');
const templateFile = path.join(dir, 'picture.hbs');
let model: Model;
const render = createViewEngine();
const docs = new Map<string, ResultDocument>();

const PARAMS: Record<string, unknown> = {
  attention: { prompt: 'The cat sat' },
  patching: { clean: 'The cat sat', corrupted: 'The bat sat', answer: 'a', wrong: 'b' },
  'logit-lens': { prompt: 'Hello world', positions: [2, 5, -1], k: 5 },
  dla: { prompt: 'Hello world', target: 'a', contrast: 'b' },
  steering: { prompt: 'Hello', layer: 1, vector: { kind: 'contrast', positive: 'I love this', negative: 'I hate this' }, coefficient: 60, maxNewTokens: 8, stopAtEos: false },
  'glitch-tokens': { percentile: 5, verify: 2, verifyTokens: 2 },
  ablation: { prompt: 'Hello world', heads: [{ layer: 0, head: 1 }], neurons: [{ layer: 1, neuron: 3 }], individually: true },
  'head-scores': { nSequences: 2, seqLen: 8 },
  cache: { prompt: 'Hi there' },
  generate: { prompt: 'Hello', maxNewTokens: 6, stopAtEos: false },
};

before(async () => {
  writeRandomGpt2(modelDir, { nLayers: 2, dModel: 16, nHeads: 2, dVocab: 300, nCtx: 64 }, 7);
  writeFileSync(templateFile, '{{> (lookup picture "partial") picture.view}}');
  model = await loadModel(modelDir, { threads: 0 });
  for (const [name, params] of Object.entries(PARAMS)) docs.set(name, await runTechnique(name, params, { model, seed: 1 }));
});

after(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The picture rendered as the experiment page renders it. */
function html(picture: PictureView): Promise<string> {
  return new Promise((resolve, reject) => {
    render(templateFile, { picture, layout: false }, (err, out) => (err ? reject(err) : resolve(out!)));
  });
}

const doc = <R>(name: string) => structuredClone(docs.get(name)!) as ResultDocument<R>;
const count = (s: string, needle: string) => s.split(needle).length - 1;
/** The text of each `<td>` of each body row of the first table after `from` in the html. */
function tableCells(s: string, from = 0): string[][] {
  const start = s.indexOf('<tbody>', from);
  const body = s.slice(start, s.indexOf('</tbody>', start));
  return [...body.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) => [...m[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((c) => c[1]!));
}
/** Every heat map cell (its fill and tooltip), in order. */
const cells = (s: string) => [...s.matchAll(/<g class="pic-cells">(.*?)<\/g>/gs)]
  .flatMap((g) => [...g[1]!.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="\d+" height="\d+" fill="(#[0-9a-f]{6})">(?:<title>([^<]*)<\/title>)?<\/rect>/g)])
  .map((m) => ({ fill: m[1]!, title: m[2] ?? '' }));
const cellFills = (s: string) => cells(s).map((c) => c.fill);
/** The value ending each heat map cell's tooltip, in order. */
const cellTitleValues = (s: string) => cells(s).map((c) => c.title.slice(c.title.lastIndexOf(': ') + 2));

test('every technique gets its own picture, with its numbers in a table and no leftover placeholders', async () => {
  for (const [name, d] of docs) {
    const picture = resultPicture(d, { run: 1 });
    assert.equal(picture.partial, `experiments/${name}`, `${name} has its own picture`);
    assert.ok(picturePartials.includes(picture.partial));
    assert.ok(picture.caption.length > 10, `${name} has a caption`);
    const out = await html(picture);
    assert.match(out, /<table class="pic-table/, `${name} shows a table`);
    if (!['logit-lens', 'steering'].includes(name)) assert.match(out, /<svg [^>]*role="img" aria-labelledby="[^"]+"/, `${name} draws an SVG picture`);
    for (const m of out.matchAll(/aria-labelledby="([^"]+)"/g)) assert.match(out, new RegExp(`<title id="${m[1]}">[^<]+</title>`), `${name}: the SVG's title exists`);
    assert.doesNotMatch(out, /\[object Object\]|>undefined<|="undefined"|NaN/, `${name} renders no placeholder`);
    assert.doesNotMatch(out, /\sstyle=|<script/, `${name}: no inline style or script (the Content-Security-Policy forbids them)`);
    assert.ok(out.length < 200_000, `${name} renders ${out.length} characters`);
  }
});

test('attention: a tokens × tokens heat map of the chosen layer and head whose table holds the same numbers', async () => {
  const d = doc<AttentionResult>('attention');
  const n = d.result.query_tokens.length;
  assert.equal(n, 12, 'BOS and 11 byte tokens');
  const pattern = d.result.layers.find((l) => l.layer === 1)!.heads.find((h) => h.head === 0)!.pattern;
  const out = await html(resultPicture(d, { run: 3, layer: 1, head: 0 }));
  assert.equal(cells(out).length, n * n);
  assert.match(out, new RegExp(`data-rows="${n}" data-columns="${n}"`));
  assert.match(out, /<title id="pic-run3-attention-pattern-title">Attention pattern of layer 1, head 0/);

  const rows = tableCells(out, out.indexOf('<table class="pic-table'));
  assert.equal(rows.length, n);
  rows.forEach((cells, q) => {
    assert.equal(cells.length, n);
    cells.forEach((text, k) => assert.ok(Math.abs(Number(text) - pattern[q]![k]!) <= 5e-4, `table [${q}][${k}] ${text} vs ${pattern[q]![k]}`));
  });
  assert.ok(rows[n - 1]!.some((t) => Number(t) > 0 && Number(t) < 1), 'the last row spreads its attention');
  // The cells' tooltips carry the same numbers as the table, cell by cell.
  assert.deepEqual(cellTitleValues(out), rows.flat());
  // Causal: keys after the query get 0, and their cells are the scale's white.
  assert.equal(rows[0]![1], '0');
  assert.equal(cellFills(out)[1], '#f7fbff');
  assert.match(out, /<linearGradient id="pic-run3-attention-pattern-scale"/, 'the colour scale has a legend');
});

test('attention: choosing another head (or layer) changes the cells', async () => {
  const d = doc<AttentionResult>('attention');
  const h0 = cellFills(await html(resultPicture(d, { run: 3, layer: 1, head: 0 })));
  const h1 = cellFills(await html(resultPicture(d, { run: 3, layer: 1, head: 1 })));
  const l0 = cellFills(await html(resultPicture(d, { run: 3, layer: 0, head: 0 })));
  assert.equal(h0.length, h1.length);
  assert.notDeepEqual(h0, h1);
  assert.notDeepEqual(h0, l0);
});

test('attention: the picker is a plain GET form listing every layer and head, the chosen ones selected', async () => {
  const d = doc<AttentionResult>('attention');
  const out = await html(resultPicture(d, { run: 3, layer: 1, head: 1 }));
  assert.match(out, /<form method="get" action="" class="pic-picker"/);
  assert.match(out, /<input type="hidden" name="run" value="3">/);
  const options = (name: string) => {
    const select = out.match(new RegExp(`<select [^>]*name="${name}">(.*?)</select>`, 's'))![1]!;
    return [...select.matchAll(/<option value="(\d+)"( selected)?>/g)].map((m) => `${m[1]}${m[2] ? '*' : ''}`);
  };
  assert.deepEqual(options('layer'), ['0', '1*']);
  assert.deepEqual(options('head'), ['0', '1*']);
  assert.match(out, /<button type="submit">Show<\/button>/);
  assert.doesNotMatch(out, /<script/);

  // No choice: the first layer and head. A layer the run lacks: said, and the first one shown.
  const plain = await html(resultPicture(d, { run: 3 }));
  assert.match(plain, /<option value="0" selected>0<\/option><option value="1">1<\/option><\/select>/);
  const missing = await html(resultPicture(d, { run: 3, layer: 7, head: 0 }));
  assert.match(missing, /This run has no layer 7; showing the first one\./);
  assert.match(missing, /Attention pattern of layer 0, head 0/);
});

test('token text from the model is escaped everywhere', async () => {
  const d = doc<AttentionResult>('attention');
  d.result.query_tokens[1] = '<b>x</b>';
  d.result.key_tokens[1] = '<b>x</b>';
  const out = await html(resultPicture(d, { run: 1 }));
  assert.doesNotMatch(out, /<b>x<\/b>/);
  assert.match(out, /&lt;b&gt;x&lt;\/b&gt;/);

  const lens = doc<LogitLensResult>('logit-lens');
  lens.result.positions[0]!.layers[0]!.top[0]!.text = '<script>alert(1)</script>';
  lens.result.positions[0]!.token.text = '"><img src=x onerror=alert(1)>';
  const s = doc<SteeringResult>('steering');
  s.result.prompt_text = '<script>alert(2)</script>';
  s.result.steered.token_strings[0] = '<i>y</i>';
  for (const picture of [resultPicture(lens, { run: 1 }), resultPicture(s, { run: 1 })]) {
    const o = await html(picture);
    assert.doesNotMatch(o, /<script|<img|<i>y/);
  }
  assert.match(await html(resultPicture(lens, { run: 1 })), />&lt;script&gt;alert…<small>/);
});

test('patching: the heat maps have the result\'s dimensions; a kind the run skipped is left out', async () => {
  const d = doc<PatchingResult>('patching');
  const { resid_pre: resid, attn_head_out: heads } = d.result;
  assert.ok(resid && heads);
  const out = await html(resultPicture(d, { run: 2 }));
  const dims = [...out.matchAll(/data-rows="(\d+)" data-columns="(\d+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.deepEqual(dims, [[resid.layers.length, resid.positions.length], [heads.layers.length, heads.heads.length]]);
  assert.equal(cells(out).length, resid.layers.length * resid.positions.length + heads.layers.length * heads.heads.length);
  // The position where the prompts differ (c/b at 5 with BOS) is starred and named in its tooltip.
  assert.match(out, /<title>position 5: clean &quot;c&quot;, corrupted &quot;b&quot;<\/title>5 c \*</);
  assert.equal(count(out, ' *</text>'), 1);
  // Layer 0 at that position restores everything (1), the other positions nothing (0).
  const rows = tableCells(out, out.indexOf('<table class="pic-table'));
  assert.equal(rows[0]![5], '1.000');
  assert.equal(rows[0]![0], '0');

  d.result.attn_head_out = null;
  const only = await html(resultPicture(d, { run: 2 }));
  assert.equal(count(only, 'data-rows='), 1);
  assert.doesNotMatch(only, /Attention heads \(attn_head_out\)/);
  d.result.resid_pre = null;
  assert.match(await html(resultPicture(d, { run: 2 })), /This run patched nothing/);
});

test('logit-lens: the cells print the probabilities and are coloured by them', async () => {
  const d = doc<LogitLensResult>('logit-lens');
  const out = await html(resultPicture(d, { run: 1 }));
  const positions = d.result.positions;
  const layers = positions[0]!.layers.length;
  assert.equal(layers, 3, 'embed and 2 layers');
  const top = tableCells(out, out.indexOf('<table class="pic-table pic-lens'));
  assert.equal(top.length, layers);
  top.forEach((cells, l) => cells.forEach((cell, j) => {
    const best = positions[j]!.layers[l]!.top[0]!;
    const printed = cell.match(/<small>(.*)<\/small>/)![1]!;
    assert.ok(Math.abs(Number(printed) - best.prob) <= 5e-4, `top prob ${printed} vs ${best.prob}`);
  }));
  const classes = [...out.matchAll(/<td class="pic-prob (pic-p\d)"/g)].map((m) => m[1]!);
  const bin = (p: number) => `pic-p${Math.min(9, Math.floor(p * 10))}`;
  assert.deepEqual(classes.slice(0, layers * positions.length), positions[0]!.layers.flatMap((_, l) => positions.map((p) => bin(p.layers[l]!.top[0]!.prob))));
  const target = tableCells(out, out.indexOf('<table class="pic-table pic-lens', out.indexOf('<table class="pic-table pic-lens') + 1));
  target.forEach((cells, l) => cells.forEach((cell, j) => {
    const layer = positions[j]!.layers[l]!;
    assert.match(cell, new RegExp(`<small>rank ${layer.target_rank}</small>$`));
    assert.ok(Math.abs(parseFloat(cell) - layer.target_prob) <= 5e-4 || (layer.target_prob < 5e-4 && /e-/.test(cell)), `target prob ${cell} vs ${layer.target_prob}`);
  }));
  assert.match(out, /<span class="pic-swatch pic-p9" aria-hidden="true"><\/span>0\.9–1\.0/, 'the colour legend');
});

test('dla: bars for the largest parts, negative ones hatched and signed, and a table of every part', async () => {
  const d = doc<DlaResult>('dla');
  const out = await html(resultPicture(d, { run: 1 }));
  const components = d.result.components;
  assert.equal(components.length, 1 + 1 + 2 * 2 + 2 + 2 + 1);
  assert.match(out, new RegExp(`data-bars="${components.length}"`));
  const negatives = components.filter((c) => c.value < 0).length;
  assert.ok(negatives > 0 && negatives < components.length);
  assert.equal(count(out, 'class="pic-bar pic-bar-neg"'), negatives);
  assert.equal(count(out, 'class="pic-bar pic-bar-pos"'), components.length - negatives);
  const values = [...out.matchAll(/<text class="pic-bar-value" [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
  assert.equal(values.filter((v) => v.startsWith('−')).length, negatives);
  assert.equal(values.filter((v) => v.startsWith('+')).length, components.length - negatives);
  assert.match(out, /fill="url\(#pic-run1-dla-bars-hatch\)"/);
  // The heads heat map: layer × head.
  assert.match(out, /data-rows="2" data-columns="2"/);
});

test('steering: the continuations side by side, with the differing tokens marked', async () => {
  const d = doc<SteeringResult>('steering');
  const real = await html(resultPicture(d, { run: 1 }));
  assert.match(real, /Without steering/);
  assert.match(real, /With steering/);
  // A copy whose steered continuation differs from new token 2 on.
  const b = d.result.baseline;
  d.result.steered = { ...b, tokens: [...b.tokens.slice(0, 2), 65, 66], token_strings: [...b.token_strings.slice(0, 2), 'A', 'B'], logprobs: [...b.logprobs.slice(0, 2), -1, -2], text: '' };
  d.result.first_difference = { index: 2, position: 8 };
  const out = await html(resultPicture(d, { run: 1 }));
  assert.match(out, /<ins title="not in the unsteered continuation">AB<\/ins>/);
  assert.equal(count(out, '<del title="not in the steered continuation">'), 1);
  assert.match(out, /The continuations first differ at new token 2/);
  const rows = tableCells(out, out.indexOf('<table class="pic-table'));
  assert.deepEqual(rows.map((r) => r[r.length - 1]), ['same', 'same', 'differs', 'differs', ...Array(b.tokens.length - 4).fill('differs')]);
});

test('an oversized result is capped and says what it left out', async () => {
  const d = doc<AttentionResult>('attention');
  const n = 200;
  const tokens = Array.from({ length: n }, (_, i) => `t${i}`);
  const pattern = Array.from({ length: n }, (_, q) => Array.from({ length: n }, (_, k) => (k <= q ? 1 / (q + 1) : 0)));
  d.result = { tokens: tokens.map((_, i) => i), query_tokens: tokens, key_tokens: tokens, layers: [{ layer: 0, heads: [{ head: 0, pattern }] }] };
  const out = await html(resultPicture(d, { run: 1 }));
  assert.match(out, /data-rows="64" data-columns="65"/);
  assert.equal(cells(out).length, 64 * 65);
  assert.match(out, /The prompt has 200 tokens; the picture and the table show only the last 64 \(positions 136 to 199\)/);
  assert.match(out, /The first column sums the attention each query pays to the 136 earlier tokens left out\./);
  // The summed column keeps each row's total: query 136 pays 136/137 to the earlier keys.
  const rows = tableCells(out, out.indexOf('<table class="pic-table'));
  assert.equal(rows.length, 64);
  assert.equal(rows[0]![0], (136 / 137).toFixed(3));
  assert.ok(out.length < 450_000, `${out.length} characters`);

  const raw = resultPicture({ ...d, technique: 'nope' }, { run: 1 });
  assert.ok(String(raw.view.json).length <= RAW_MAX_CHARS);
});

test('an unknown technique, another schema version or a result its schema refuses fall back to the raw picture', async () => {
  const unknown = await html(resultPicture({ ...doc('attention'), technique: 'telepathy' }, { run: 1 }));
  assert.match(unknown, /There is no picture for the technique &quot;telepathy&quot;/);
  assert.match(unknown, /<pre class="json pic-json"/);
  assert.equal(resultPicture({ ...doc('attention'), technique: 'telepathy' }, { run: 1 }).partial, 'experiments/raw');

  const bad = doc<unknown>('attention');
  bad.result = { tokens: 'not a list', layers: [] };
  const picture = resultPicture(bad, { run: 1 });
  assert.equal(picture.partial, 'experiments/raw');
  assert.match(String(picture.view.reason), /does not match the attention result schema \(tokens: /);

  assert.equal(resultPicture({ ...doc('dla'), schemaVersion: 2 }, { run: 1 }).partial, 'experiments/raw');
  assert.equal(resultPicture(null as unknown as ResultDocument, { run: 1 }).partial, 'experiments/raw');
  // The raw excerpt is escaped too.
  const evil = await html(resultPicture({ ...doc('attention'), technique: '<script>x</script>' }, { run: 1 }));
  assert.doesNotMatch(evil, /<script>/);
});
