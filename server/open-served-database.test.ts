// @long: creates an embedded database from nothing (initdb, migrations, starter ethogram) and opens it again.
// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../core/db.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openServedDatabase } from './open-served-database.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'menagerie-first-start-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
const config = loadConfig({ MENAGERIE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
const boot = () => openServedDatabase({ config, logger: createLogger('silent'), now: () => new Date() });

async function storedSecret(db: Db): Promise<string> {
  return rowsOf<{ value: string }>(await db.execute(sql`SELECT value #>> '{}' AS value FROM settings WHERE key = 'secret'`))[0]!.value;
}

test('a first start creates and prepares the data folder, then serves a fresh handle that gave back initialisation memory', async () => {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  const { database, secret } = await boot();
  clearInterval(sampler);
  try {
    const settled = process.memoryUsage().rss;
    assert.equal(database.kind, 'pglite');
    assert.equal(database.created, false, 'the served handle is a reopening of the folder, not the one that created it');
    const [behaviours] = rowsOf<{ n: number }>(await database.db.execute(sql`SELECT count(*)::int AS n FROM behaviours`));
    assert.ok(behaviours!.n >= 30, `the starter ethogram is there on the reopened database (${behaviours!.n} behaviours)`);
    assert.equal(await storedSecret(database.db), secret, 'the generated secret was kept in the folder');
    // initdb, the migrations and the starter ethogram grow the first worker's WebAssembly memory by about 400 MB
    // here; closing that worker returns it.
    const givenBack = (peak - settled) / 2 ** 20;
    assert.ok(givenBack > 250, `RSS peaked at ${(peak / 2 ** 20).toFixed(0)} MB while creating the folder and is ${(settled / 2 ** 20).toFixed(0)} MB once reopened`);
  } finally {
    await database.close();
  }
});

test('a later start opens the existing folder once and keeps its secret', async () => {
  const first = await boot();
  const firstSecret = first.secret;
  await first.database.close();
  const { database, secret } = await boot();
  try {
    assert.equal(secret, firstSecret);
    assert.equal(database.created, false);
  } finally {
    await database.close();
  }
});
