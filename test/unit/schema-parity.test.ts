import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { rowsOf } from '../../core/db.ts';
import { openDatabase, type Database } from '../../server/db/client.ts';
import { postgresSkip, postgresUrl } from '../support/requirements.ts';

const describeSchema = async (database: Database) => {
  const columns = rowsOf<{ t: string; c: string; type: string; nullable: string }>(
    await database.db.execute(sql`select table_name as t, column_name as c, data_type as type, is_nullable as nullable
      from information_schema.columns where table_schema = 'public' order by 1, 2`),
  );
  const indexes = rowsOf<{ name: string }>(await database.db.execute(sql`select indexname as name from pg_indexes where schemaname = 'public' order by 1`));
  return { columns: columns.map((r) => `${r.t}.${r.c} ${r.type} ${r.nullable}`), indexes: indexes.map((r) => r.name) };
};

test('the same migrations give the same schema on PGlite and on the PostgreSQL server', { skip: postgresSkip() }, async () => {
  const lite = await openDatabase({ pglite: await PGlite.create() });
  await lite.migrate();
  const name = `menagerie_parity_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(postgresUrl()!);
  url.pathname = `/${name}`;
  const server = await openDatabase({ databaseUrl: url.toString(), poolSize: 1 });
  try {
    await server.migrate();
    await server.migrate(); // applying twice is a no-op
    const [a, b] = [await describeSchema(lite), await describeSchema(server)];
    assert.ok(a.columns.length > 40);
    assert.deepEqual(b.columns, a.columns);
    assert.deepEqual(b.indexes, a.indexes);
    // Large values are compressed with lz4 where the server has it, pglz (the default) elsewhere (PGlite).
    const compression = async (database: Database) => {
      const lz4 = rowsOf<{ ok: boolean }>(await database.db.execute(sql`select 'lz4' = any(enumvals) as ok from pg_settings where name = 'default_toast_compression'`))[0]?.ok === true;
      const rows = rowsOf<{ c: string; m: string }>(await database.db.execute(sql`select attname as c, attcompression::text as m from pg_attribute
        where attrelid = 'observations'::regclass and attname in ('raw_payload', 'transcript') order by 1`));
      return { lz4, methods: rows.map((r) => `${r.c}:${r.m}`) };
    };
    const [liteCompression, serverCompression] = [await compression(lite), await compression(server)];
    assert.deepEqual(liteCompression.methods, liteCompression.lz4 ? ['raw_payload:l', 'transcript:l'] : ['raw_payload:', 'transcript:']);
    assert.deepEqual(serverCompression.methods, serverCompression.lz4 ? ['raw_payload:l', 'transcript:l'] : ['raw_payload:', 'transcript:']);
  } finally {
    await lite.close();
    await server.close();
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
});
