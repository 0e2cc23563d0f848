// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { menagerieArgs } from '../support/menagerie-command.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const fixture = path.join(root, 'experiments/fixtures/gpt2');
const menagerie = (...args: string[]) => run(process.execPath, menagerieArgs('experiment', ...args), { cwd: root, timeout: 120_000 });

test('experiment generate --json prints the result document with its envelope; progress goes to stderr', async () => {
  const { stdout, stderr } = await menagerie('generate', '--model', fixture, '--prompt', 'The cat sat', '--max-new-tokens', '4', '--temperature', '1', '--seed', '7', '--json');
  const doc = JSON.parse(stdout);
  assert.equal(doc.technique, 'generate');
  assert.equal(doc.schemaVersion, 1);
  assert.match(doc.engineVersion, /^\d+\.\d+\.\d+$/);
  assert.equal(doc.model.dir, fixture);
  assert.equal(doc.model.type, 'gpt2');
  assert.match(doc.model.weightsSha256, /^[0-9a-f]{64}$/);
  assert.equal(doc.seed, 7);
  assert.deepEqual({ prompt: doc.params.prompt, maxNewTokens: doc.params.maxNewTokens, temperature: doc.params.temperature, seed: doc.params.seed }, { prompt: 'The cat sat', maxNewTokens: 4, temperature: 1, seed: 7 });
  assert.ok(!Number.isNaN(Date.parse(doc.startedAt)));
  assert.equal(typeof doc.durationMs, 'number');
  assert.equal(doc.result.continuation.tokens.length, 4);
  assert.match(stderr, /generate: 4\/4/);
  // The same seed gives the same document result.
  const again = JSON.parse((await menagerie('generate', '--model', fixture, '--params', JSON.stringify({ prompt: 'The cat sat', maxNewTokens: 4, temperature: 1, seed: 7 }), '--json')).stdout);
  assert.deepEqual(again.result, doc.result);
});

test('without --json it prints the readable summary; --tokens gives the prompt as ids', async () => {
  const { stdout } = await menagerie('generate', '--model', fixture, '--tokens', '5,6,7', '--max-new-tokens', '3');
  assert.match(stdout, /^Prompt \(3 tokens\)/);
  assert.match(stdout, /Generated 3 tokens \(greedy/);
});

test('--help lists every technique with its summary; TECHNIQUE --help lists its parameters', async () => {
  const { stdout } = await menagerie('--help');
  for (const name of ['generate', 'steering', 'glitch-tokens', 'cache', 'logit-lens', 'patching']) assert.match(stdout, new RegExp(`^  ${name}\\s+\\S`, 'm'));
  const one = await menagerie('steering', '--help');
  assert.match(one.stdout, /coefficient \(required\)/);
  assert.match(one.stdout, /maxNewTokens \(default 32\)/);
});

test('a bad folder, bad parameters and unknown options fail with a one-paragraph message and no stack trace', async () => {
  const fails = async (args: string[], pattern: RegExp, code = 1) => {
    await assert.rejects(menagerie(...args), (err: { code: number; stderr: string; stdout: string }) => {
      assert.equal(err.code, code, err.stderr);
      assert.match(err.stderr, pattern);
      assert.doesNotMatch(err.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(err.stdout, '');
      return true;
    });
  };
  await fails(['generate', '--model', path.join(root, 'no-such-model'), '--prompt', 'x'], /model_not_found.*no model folder/);
  await fails(['generate', '--model', path.join(root, 'experiments'), '--prompt', 'x'], /model_incomplete|config\.json/);
  await fails(['steering', '--model', fixture, '--prompt', 'x', '--layer', '1'], /parameters for steering are not valid: .*vector.*coefficient/);
  await fails(['generate', '--model', fixture, '--prompt', 'x', '--max-new-tokens', '0'], /maxNewTokens: maxNewTokens is at least 1/);
  await fails(['generate', '--model', fixture, '--prompt', 'x', '--layer', '2'], /generate technique has no --layer option/, 2);
  await fails(['frobnicate', '--model', fixture], /There is no technique "frobnicate"/, 2);
  await fails(['generate', '--prompt', 'x'], /--model DIR/, 2);
});
