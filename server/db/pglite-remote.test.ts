// @long: one of the slowest files (6-35 s); the runner starts these first, so a pass does not end waiting on one.
// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PGlite, messages } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { bigint, boolean, customType, date, integer, interval, json, jsonb, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { isUniqueViolation } from '../../ethograms/draft-edit.ts';
import { RemotePGlite } from './pglite-remote.ts';

const bytea = customType<{ data: Uint8Array }>({ dataType: () => 'bytea' });

const items = pgTable('items', { id: integer('id').primaryKey(), name: text('name').notNull().unique() });
const samples = pgTable('samples', {
  id: integer('id').primaryKey(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  atText: timestamp('at_text', { mode: 'string' }).notNull(),
  day: date('day').notNull(),
  span: interval('span').notNull(),
  amount: numeric('amount').notNull(),
  big: bigint('big', { mode: 'bigint' }).notNull(),
  flag: boolean('flag').notNull(),
  key: uuid('key').notNull(),
  doc: json('doc').notNull(),
  docb: jsonb('docb').notNull(),
  raw: bytea('raw').notNull(),
});

const schemaSql = `
  CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL UNIQUE);
  CREATE TABLE samples (id integer PRIMARY KEY, at timestamptz NOT NULL, at_text timestamp NOT NULL, day date NOT NULL,
    span interval NOT NULL, amount numeric NOT NULL, big bigint NOT NULL, flag boolean NOT NULL, key uuid NOT NULL,
    doc json NOT NULL, docb jsonb NOT NULL, raw bytea NOT NULL);`;

let remote: RemotePGlite;
let db: ReturnType<typeof drizzle>;

before(async () => {
  remote = await RemotePGlite.create();
  await remote.exec(schemaSql);
  db = drizzle(remote as unknown as PGlite);
});
after(() => remote.close());

const names = async () => (await db.select({ name: items.name }).from(items).orderBy(items.id)).map((r) => r.name);

test('queries with parameters answer as PGlite does', async () => {
  const result = await remote.query<{ sum: number; greeting: string }>('SELECT $1::int + $2::int AS sum, $3::text AS greeting', [2, 3, 'hi']);
  assert.deepEqual(result.rows, [{ sum: 5, greeting: 'hi' }]);
  assert.deepEqual(result.fields.map((f) => f.name), ['sum', 'greeting']);
});

test('drizzle selects (array row mode) map rows to fields', async () => {
  await db.insert(items).values([{ id: 1, name: 'alpha' }, { id: 2, name: 'beta' }]);
  const raw = await remote.query('SELECT id, name FROM items ORDER BY id', [], { rowMode: 'array' });
  assert.deepEqual(raw.rows, [[1, 'alpha'], [2, 'beta']]);
  assert.deepEqual(await db.select({ n: items.name, i: items.id }).from(items).orderBy(items.id), [{ n: 'alpha', i: 1 }, { n: 'beta', i: 2 }]);
  await db.delete(items);
});

test('a transaction that returns commits; one that throws stores nothing', async () => {
  const value = await db.transaction(async (tx) => {
    await tx.insert(items).values({ id: 10, name: 'kept' });
    return 'done';
  });
  assert.equal(value, 'done');
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.insert(items).values({ id: 11, name: 'lost' });
      throw new Error('changed my mind');
    }),
    /changed my mind/,
  );
  assert.deepEqual(await names(), ['kept']);
  await db.delete(items);
});

test('tx.rollback() discards the transaction', async () => {
  await remote.transaction(async (tx) => {
    await tx.query('INSERT INTO items VALUES (20, $1)', ['discarded']);
    await tx.rollback();
    assert.equal(tx.closed, true);
    await assert.rejects(tx.query('SELECT 1'), /Transaction is closed/);
  });
  assert.deepEqual(await names(), []);
});

test('nested drizzle transactions roll back to their savepoint only', async () => {
  await db.transaction(async (tx) => {
    await tx.insert(items).values({ id: 30, name: 'outer' });
    await assert.rejects(
      tx.transaction(async (inner) => {
        await inner.insert(items).values({ id: 31, name: 'inner-lost' });
        throw new Error('inner fails');
      }),
      /inner fails/,
    );
    await tx.transaction(async (inner) => {
      await inner.insert(items).values({ id: 32, name: 'inner-kept' });
    });
  });
  assert.deepEqual(await names(), ['outer', 'inner-kept']);
  await db.delete(items);
});

test('statements from outside an open transaction wait for it to end', async () => {
  const events: string[] = [];
  let outside: Promise<unknown> | undefined;
  const committed = remote.transaction(async (tx) => {
    await tx.query("INSERT INTO items VALUES (40, 'first')");
    outside = remote.query<{ n: number }>('SELECT count(*)::int AS n FROM items').then((r) => {
      events.push('outside query');
      return r.rows[0]!.n;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await tx.query("INSERT INTO items VALUES (41, 'second')");
    events.push('transaction body');
  });
  await committed;
  events.push('committed');
  assert.equal(await outside, 2, 'the outside query saw the committed rows');
  assert.deepEqual(events, ['transaction body', 'committed', 'outside query']);
  await db.delete(items);
});

test('database errors keep their fields, so unique violations are recognised', async () => {
  await db.insert(items).values({ id: 50, name: 'unique' });
  const direct = await remote.query("INSERT INTO items VALUES (51, 'unique')").catch((e: unknown) => e);
  assert.ok(direct instanceof messages.DatabaseError);
  assert.equal(direct.code, '23505');
  assert.equal(direct.constraint, 'items_name_key');
  assert.equal(direct.table, 'items');
  assert.equal(direct.severity, 'ERROR');
  assert.match(direct.message, /duplicate key value violates unique constraint "items_name_key"/);
  assert.match(direct.detail ?? '', /Key \(name\)=\(unique\) already exists/);
  const viaDrizzle = await db.insert(items).values({ id: 52, name: 'unique' }).catch((e: unknown) => e);
  assert.ok(isUniqueViolation(viaDrizzle), 'drizzle wraps the error; its cause keeps code 23505');
  await db.delete(items);
});

test('dates, timestamps, intervals, numerics, json and bytea come back exactly as from PGlite in this thread', async () => {
  const local = await PGlite.create();
  try {
    await local.exec(schemaSql);
    const localDb = drizzle(local);
    const row = {
      id: 1,
      at: new Date('2024-02-29T23:59:58.123Z'),
      atText: '2024-02-29 12:00:00.5',
      day: '2024-02-29',
      span: '1 day 02:03:04',
      amount: '12345678901234567890.000123',
      big: 9007199254740993n,
      flag: true,
      key: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      doc: { nested: [1, 'two', null], at: '2024-01-01' },
      docb: { b: 2, a: [true] },
      raw: new Uint8Array([0, 1, 2, 254, 255]),
    };
    for (const d of [db, localDb]) await d.insert(samples).values(row);
    const viaDrizzle = await db.select().from(samples);
    assert.deepEqual(viaDrizzle, await localDb.select().from(samples));
    assert.ok(viaDrizzle[0]!.at instanceof Date);
    assert.equal(viaDrizzle[0]!.at.toISOString(), row.at.toISOString());
    assert.deepEqual(viaDrizzle[0]!.raw, row.raw);
    const rawSql = sql`SELECT *, now() - now() AS zero, ARRAY[at_text, at_text] AS stamps, ARRAY[amount] AS amounts FROM samples`;
    const viaExecute = await db.execute(rawSql);
    const localExecute = await localDb.execute(rawSql);
    assert.deepEqual(viaExecute.rows, localExecute.rows);
    assert.deepEqual(viaExecute.fields, localExecute.fields);
    // Drizzle's parsers are the worker's defaults now; a query without them still gets PGlite's own (Dates).
    const plainSql = 'SELECT at, at_text, day, span, ARRAY[at_text] AS stamps FROM samples';
    const plain = await remote.query<{ at: unknown }>(plainSql);
    assert.ok(plain.rows[0]!.at instanceof Date);
    assert.deepEqual(plain.rows, (await local.query(plainSql)).rows);
    assert.deepEqual((await remote.exec(plainSql))[0]!.rows, (await local.exec(plainSql))[0]!.rows);
  } finally {
    await local.close();
    await db.delete(samples);
  }
});

test('close() ends the worker; the process then exits on its own', async () => {
  const script = `
    import { RemotePGlite } from ${JSON.stringify(fileURLToPath(new URL('./pglite-remote.ts', import.meta.url)))};
    const db = await RemotePGlite.create();
    const { rows } = await db.query('SELECT 1 AS one');
    await db.close();
    await db.close();
    const after = await db.query('SELECT 1').then(() => 'answered', (e) => e.message);
    console.log(JSON.stringify({ one: rows[0].one, after }));`;
  // Generous: starting PGlite compiles its WASM, which takes minutes on a loaded 2-core machine; a process kept
  // alive by a worker that close() failed to end would never exit at all.
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(child.status, 0, child.signal ? `the process did not exit within 5 minutes (killed by ${child.signal})` : child.stderr);
  const report = JSON.parse(child.stdout.trim()) as { one: number; after: string };
  assert.equal(report.one, 1);
  assert.match(report.after, /worker thread stopped/);
});
