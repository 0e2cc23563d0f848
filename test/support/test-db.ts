import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { openDatabase, type Database } from '../../server/db/client.ts';
import { RemotePGlite } from '../../server/db/pglite-remote.ts';

/**
 * A fresh database for one test file, copied from a template migrated once per run (scripts/run-tests.mjs):
 * PGlite (in a worker thread) loads the template's dumped data folder; PostgreSQL clones the template database.
 * Which one is decided by MENAGERIE_TEST_DATABASE_URL (set: PostgreSQL server; unset: PGlite).
 */
export async function createTestDatabase(): Promise<Database> {
  const serverUrl = process.env.MENAGERIE_TEST_DATABASE_URL;
  if (serverUrl) return clonePostgres(serverUrl);
  const templatePath = process.env.MENAGERIE_TEST_TEMPLATE;
  if (!templatePath) {
    // Run outside the runner (a single file): initialise and migrate from scratch.
    const database = await openDatabase({ pglite: await RemotePGlite.create({ settings: TEST_PGLITE_SETTINGS }) });
    await database.migrate();
    return database;
  }
  // In a worker thread, as the server runs it (server/db/client.ts). A test's database is small: 16 MB of shared
  // buffers instead of PGlite's 128 MB, which PGlite clears at every start (about 0.5 s of each test file's).
  return openDatabase({ pglite: await RemotePGlite.create({ loadDataDir: readFileSync(templatePath), settings: TEST_PGLITE_SETTINGS }) });
}

export const TEMPLATE_DB = 'menagerie_test_template';

/** PGlite settings for test databases (see createTestDatabase). */
const TEST_PGLITE_SETTINGS = { shared_buffers: '16MB' };

async function clonePostgres(serverUrl: string): Promise<Database> {
  const name = `menagerie_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 10 });
  return {
    ...database,
    close: async () => {
      await database.close();
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await dropper.end();
    },
  };
}
