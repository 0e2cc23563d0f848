// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, configKeys, loadConfig } from '../../server/config.ts';

test('defaults: port 3000, ./data, PGlite, 2 MB body limit', () => {
  const c = loadConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.dataDir, './data');
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.bodyLimit, 2 * 1024 * 1024);
  assert.equal(c.loadStarter, true);
});

test('reads each documented variable', () => {
  const c = loadConfig({ PORT: '8080', MENAGERIE_DATA_DIR: '/tmp/x', DATABASE_URL: 'postgres://u@h:5432/d', MENAGERIE_BODY_LIMIT: '4096', MENAGERIE_LOAD_STARTER: 'false' });
  assert.deepEqual([c.port, c.dataDir, c.databaseUrl, c.bodyLimit, c.loadStarter], [8080, '/tmp/x', 'postgres://u@h:5432/d', 4096, false]);
});

test('lists every problem at once, by variable name', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url', MENAGERIE_SECRET: 'short' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 3);
      assert.ok(err.problems.some((p) => p.startsWith('PORT:')));
      assert.ok(err.problems.some((p) => p.startsWith('DATABASE_URL:')));
      assert.ok(err.problems.some((p) => p.startsWith('MENAGERIE_SECRET:')));
      return true;
    },
  );
});

test('every key is documented with its variable', () => {
  for (const [key, entry] of Object.entries(configKeys)) {
    assert.match(entry.env, /^[A-Z_]+$/, key);
    assert.ok(entry.doc.length > 10, key);
  }
});

test('the README documents every configuration variable', async () => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const { env } of Object.values(configKeys)) assert.ok(readme.includes(`\`${env}\``), `README mentions ${env}`);
});
