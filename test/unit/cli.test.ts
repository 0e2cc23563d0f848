// @long: one of the slowest files (6-35 s); the runner starts these first, so a pass does not end waiting on one.
// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { ApiClient } from '../support/clients.ts';
import { menagerieArgs } from '../support/menagerie-command.ts';

const run = promisify(execFile);
const dataDir = mkdtempSync(path.join(tmpdir(), 'menagerie-cli-'));
const env: NodeJS.ProcessEnv = { ...process.env, MENAGERIE_DATA_DIR: dataDir, LOG_LEVEL: 'error' };
delete env.DATABASE_URL;
after(() => rmSync(dataDir, { recursive: true, force: true }));

const menagerie = (...args: string[]) => run(process.execPath, menagerieArgs(...args), { env, timeout: 60_000 });

test('menagerie --help lists the subcommands, each with its own --help', async () => {
  const { stdout } = await menagerie('--help');
  for (const name of ['serve', 'db', 'admin', 'config']) assert.match(stdout, new RegExp(`\\b${name}\\b`));
  for (const name of ['serve', 'admin', 'config']) {
    const sub = await menagerie(name, '--help');
    assert.match(sub.stdout, /Usage:\s+menagerie/);
  }
});

test('an unknown subcommand fails with the overview', async () => {
  await assert.rejects(menagerie('frobnicate'), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /Unknown command "frobnicate"/);
    return true;
  });
});

test('admin create and admin token work on a fresh data folder, and the token authenticates the API', async () => {
  const created = await menagerie('admin', 'create', 'ada@example.org', '--role', 'researcher');
  assert.match(created.stdout, /Created ada@example.org \(admin\)/, 'the first account becomes admin');
  assert.match(created.stdout, /One-time password: \S{10,}/);
  const second = await menagerie('admin', 'create', 'grace@example.org', '--role', 'researcher');
  assert.match(second.stdout, /\(researcher\)/);
  const { stdout: token } = await menagerie('admin', 'token', 'grace@example.org');
  assert.match(token.trim(), /^mng_/);
  await assert.rejects(menagerie('admin', 'token', 'nobody@example.org'), /No account has the email/);
  await assert.rejects(menagerie('admin', 'create', 'x@example.org', '--role', 'emperor'), /role/i);

  // Serve the same data folder and use the token.
  const { spawn } = await import('node:child_process');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn(process.execPath, menagerieArgs('serve'), { env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: 'ignore' });
  try {
    let me;
    for (let i = 0; i < 100; i++) {
      try {
        me = await new ApiClient(`http://127.0.0.1:${port}`, token.trim()).get('/me');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.equal(me?.status, 200);
    assert.equal(me?.body.email, 'grace@example.org');
  } finally {
    server.kill('SIGTERM');
  }
});

test('db rebuild-code-sets recomputes what the analyses read, on the configured database', async () => {
  const help = await menagerie('db', '--help');
  assert.match(help.stdout, /rebuild-code-sets/);
  const { stdout } = await menagerie('db', 'rebuild-code-sets');
  assert.match(stdout, /^Code sets rebuilt: \d+ rows, 0 corrected \(pglite\)\./m);
});
