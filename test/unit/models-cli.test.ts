// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
/** `menagerie models` on a fresh PGlite data folder: add (checked, refused with the reason), list, check. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { inspectModelFolder, writeRandomGpt2 } from '../../experiments/index.ts';
import { runCli } from '../../server/cli/index.ts';

const root = mkdtempSync(path.join(tmpdir(), 'menagerie-models-cli-'));
// In process (runCli is what bin/menagerie.js calls): each call opens and closes the data folder, as a shell run does.
const env: Record<string, string | undefined> = { ...process.env, MENAGERIE_DATA_DIR: path.join(root, 'data'), LOG_LEVEL: 'error', DATABASE_URL: undefined };
const tiny = path.join(root, 'tiny');
after(() => rmSync(root, { recursive: true, force: true }));
before(() => writeRandomGpt2(tiny, { nLayers: 1, dModel: 16, nHeads: 2, dVocab: 300, nCtx: 32 }, 5));

async function menagerie(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, env, (s) => out.push(s), (s) => err.push(s));
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
async function ok(...args: string[]) {
  const r = await menagerie(...args);
  assert.equal(r.code, 0, r.stderr);
  return r;
}
async function fails(args: string[], pattern: RegExp) {
  const r = await menagerie(...args);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, pattern);
}

test('models --help explains the subcommands', async () => {
  const { stdout } = await ok('models', '--help');
  assert.match(stdout, /menagerie models add PATH --name NAME/);
});

test('models add registers a checked folder as the first admin; list shows it; check finds a removed folder missing, and list says so', async () => {
  await fails(['models', 'add', tiny, '--name', 'Tiny'], /no admin account yet/);
  await ok('admin', 'create', 'ada@example.org');

  const broken = path.join(root, 'broken');
  cpSync(tiny, broken, { recursive: true });
  rmSync(path.join(broken, 'config.json'));
  await fails(['models', 'add', broken, '--name', 'Broken'], /Refused: .*has no config\.json/);

  const added = await ok('models', 'add', tiny, '--name', 'Tiny');
  const sha = (await inspectModelFolder(tiny)).weightsSha256;
  assert.match(added.stdout, new RegExp(`Registered Tiny\\tready\\tGPT2LMHeadModel\\t.*\\t${sha.slice(0, 16)}`));

  rmSync(tiny, { recursive: true });
  await fails(['models', 'check', 'tiny'], /^Tiny: missing \(There is no model folder/m);
  assert.match((await ok('models', 'list')).stdout, /^Tiny\tmissing \(There is no model folder/m);
});
