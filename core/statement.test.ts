import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase } from '../test/support/test-db.ts';
import type { Database } from '../server/db/client.ts';
import { inTransaction, rowsOf } from './db.ts';
import { PgDialect } from 'drizzle-orm/pg-core';
import { executeText, Statement, statementSql, textArrayLiteral } from './statement.ts';

let database: Database;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.close());

describe('Statement', () => {
  test('numbers parameters in the order they are added', () => {
    const s = new Statement();
    assert.equal(s.param('a'), '$1');
    assert.equal(s.param(null), '$2');
    assert.equal(s.param(3), '$3');
    assert.deepEqual(s.params, ['a', null, 3]);
  });

  test('statementSql gives Drizzle the same statement, a reused placeholder sent once per use', () => {
    const q = new PgDialect().sqlToQuery(statementSql('SELECT $1::int + $2::int, $1::int', [5, 7]));
    assert.equal(q.sql, 'SELECT $1::int + $2::int, $3::int');
    assert.deepEqual(q.params, [5, 7, 5]);
  });

  test('statementSql refuses a placeholder with no parameter', () => {
    assert.throws(() => statementSql('SELECT $1, $3', ['a', 'b']), /\$3 has no parameter \(2 given\)/);
  });
});

describe('executeText', () => {
  const text = `SELECT $1::text || '-' || $2::text AS joined, $1::text AS again, $3::text IS NULL AS absent, $4::text[] AS tags`;
  const params = ["it's", 'b$1', null, '{"x,y","q\\"r"}'];

  test('runs on the root handle, a reused parameter read twice and a $ inside a value left alone', async () => {
    const rows = rowsOf<Record<string, unknown>>(await executeText(database.db, text, params));
    assert.deepEqual(rows, [{ joined: "it's-b$1", again: "it's", absent: true, tags: ['x,y', 'q"r'] }]);
  });

  test('runs inside a transaction, on its connection, with the same result', async () => {
    const rows = await inTransaction(database.db, async (tx) => {
      await executeText(tx, 'CREATE TEMP TABLE statement_probe (v text) ON COMMIT DROP', []);
      await executeText(tx, 'INSERT INTO statement_probe VALUES ($1), ($1)', ['seen in the transaction']);
      const inserted = rowsOf<{ n: number }>(await executeText(tx, 'SELECT count(*)::int AS n FROM statement_probe WHERE v = $1', ['seen in the transaction']));
      return { inserted, result: rowsOf<Record<string, unknown>>(await executeText(tx, text, params)) };
    });
    assert.deepEqual(rows.inserted, [{ n: 2 }]);
    assert.deepEqual(rows.result, [{ joined: "it's-b$1", again: "it's", absent: true, tags: ['x,y', 'q"r'] }]);
  });
});

describe('textArrayLiteral', () => {
  test('round-trips quotes, backslashes, commas, braces, spaces, "NULL", the empty string and non-ASCII text', async () => {
    const values = ['a "quoted" word', 'back\\slash\\', 'x,y', '{braced}', '  spaced  ', 'NULL', '', 'café ✓'];
    const rows = rowsOf<{ v: string[] }>(await executeText(database.db, 'SELECT $1::text[] AS v', [textArrayLiteral(values)]));
    assert.deepEqual(rows[0]!.v, values);
    assert.deepEqual(rowsOf<{ v: string[] }>(await executeText(database.db, 'SELECT $1::text[] AS v', [textArrayLiteral([])]))[0]!.v, []);
  });
});
