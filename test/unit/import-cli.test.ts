// @long: one of the slowest files (6-35 s); the runner starts these first, so a pass does not end waiting on one.
// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { menagerieArgs } from '../support/menagerie-command.ts';

const run = promisify(execFile);
const dataDir = mkdtempSync(path.join(tmpdir(), 'menagerie-import-cli-'));
const env: NodeJS.ProcessEnv = { ...process.env, MENAGERIE_DATA_DIR: dataDir, LOG_LEVEL: 'error' };
delete env.DATABASE_URL;
after(() => rmSync(dataDir, { recursive: true, force: true }));

const menagerie = (...args: string[]) => run(process.execPath, menagerieArgs(...args), { env, timeout: 120_000 });

const line = (id: string, question: string) =>
  JSON.stringify({ id, model: 'llama3.1:8b', provider: 'ollama', messages: [{ role: 'user', content: question }, { role: 'assistant', content: 'Sure.' }] });

test('import --help documents the command and the overview lists it', async () => {
  const { stdout } = await menagerie('import', '--help');
  assert.match(stdout, /Usage:\s+menagerie import FILE \[--format FORMAT\] \[--as EMAIL\] \[--max-bytes N\]/);
  assert.match(stdout, /chatgpt-export/);
  const overview = await menagerie('--help');
  assert.match(overview.stdout, /\bimport\b/);
});

test('import files a JSONL file as the first admin, reports the bad line, and a re-import finds duplicates', async () => {
  const file = path.join(dataDir, 'runs.jsonl');
  writeFileSync(file, [line('r1', 'One?'), line('r2', 'Two?'), 'not json at all', ''].join('\n'));

  await assert.rejects(menagerie('import', file), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /no admin account/);
    return true;
  });
  await menagerie('admin', 'create', 'ada@example.org');

  const first = await menagerie('import', file);
  assert.match(first.stdout, /Imported 2 observations from .*runs\.jsonl as ada@example\.org\./);
  assert.match(first.stdout, /Duplicates skipped: 0\./);
  assert.match(first.stdout, /Failed: 1\.\n\s+record 2: \S/);

  const again = await menagerie('import', file, '--format', 'jsonl', '--as', 'ADA@example.org');
  assert.match(again.stdout, /Imported 0 observations/);
  assert.match(again.stdout, /Duplicates skipped: 2\./);
});

// The admin made by the test above is who this one would import as.
test('a file in no known format exits 1 naming the formats tried; an unknown --format too', async () => {
  const file = path.join(dataDir, 'notes.txt');
  writeFileSync(file, 'just some words\n');
  await assert.rejects(menagerie('import', file), (err: { code: number; stderr: string; stdout: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /chatgpt-export|ChatGPT/);
    assert.match(err.stderr, /jsonl|JSONL/);
    assert.doesNotMatch(err.stdout, /Imported/);
    return true;
  });
  await assert.rejects(menagerie('import', file, '--format', 'csv'), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, /Unknown format "csv"\. The formats are: .*openai-chat/);
    return true;
  });
  await assert.rejects(menagerie('import', path.join(dataDir, 'missing.jsonl')), /no such file/);
});
