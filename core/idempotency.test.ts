import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createTestDatabase } from '../test/support/test-db.ts';
import type { Database } from '../server/db/client.ts';
import { rowsOf } from './db.ts';
import { AppError } from './errors.ts';
import { requestFingerprint, runIdempotent } from './idempotency.ts';

let database: Database;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.close());

const keysStored = async (actorId: string) =>
  Number(rowsOf<{ n: number }>(await database.db.execute(sql`SELECT count(*)::int AS n FROM idempotency_keys WHERE actor_id = ${actorId}::uuid`))[0]!.n);

describe('requestFingerprint', () => {
  test('ignores key order and whitespace, not values or route', () => {
    const a = requestFingerprint('POST /x', { b: 1, a: { d: [1, 2], c: null } });
    assert.equal(a, requestFingerprint('POST /x', JSON.parse('{ "a": { "c": null, "d": [1,2] }, "b": 1 }')));
    assert.notEqual(a, requestFingerprint('POST /x', { b: 2, a: { d: [1, 2], c: null } }));
    assert.notEqual(a, requestFingerprint('POST /y', { b: 1, a: { d: [1, 2], c: null } }));
  });
});

describe('runIdempotent', () => {
  test('runs once; a repeat returns the stored result marked as replayed', async () => {
    const actorId = randomUUID();
    let runs = 0;
    const req = { actorId, key: 'k1', route: 'POST /x', fingerprint: 'f1' };
    const work = async () => ({ status: 201, body: { n: ++runs }, headers: { Location: '/x/1' } });
    const first = await runIdempotent(database.db, req, work);
    const second = await runIdempotent(database.db, req, work);
    assert.deepEqual(first, { status: 201, body: { n: 1 }, headers: { Location: '/x/1' }, replayed: false });
    assert.deepEqual(second, { status: 201, body: { n: 1 }, headers: { Location: '/x/1' }, replayed: true });
    assert.equal(runs, 1);
  });

  test('the same key for another request is idempotency_conflict', async () => {
    const actorId = randomUUID();
    await runIdempotent(database.db, { actorId, key: 'k', route: 'POST /x', fingerprint: 'f1' }, async () => ({ status: 201, body: {} }));
    await assert.rejects(
      runIdempotent(database.db, { actorId, key: 'k', route: 'POST /x', fingerprint: 'f2' }, async () => ({ status: 201, body: {} })),
      (err: unknown) => err instanceof AppError && err.id === 'idempotency_conflict',
    );
  });

  test('a failed command stores no key and rolls back its writes', async () => {
    const actorId = randomUUID();
    const req = { actorId, key: 'k', route: 'POST /x', fingerprint: 'f' };
    await assert.rejects(
      runIdempotent(database.db, req, async (tx) => {
        await tx.execute(sql`INSERT INTO settings (key, value) VALUES (${`idem-${actorId}`}, '1'::jsonb)`);
        throw new Error('boom');
      }),
    );
    assert.equal(await keysStored(actorId), 0);
    const setting = rowsOf(await database.db.execute(sql`SELECT 1 FROM settings WHERE key = ${`idem-${actorId}`}`));
    assert.equal(setting.length, 0, 'the write was rolled back with the key');
  });

  test('concurrent requests with one key run the work once', async () => {
    const actorId = randomUUID();
    let runs = 0;
    const req = { actorId, key: 'race', route: 'POST /x', fingerprint: 'f' };
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        runIdempotent(database.db, req, async () => {
          runs++;
          await new Promise((r) => setTimeout(r, 20));
          return { status: 201, body: { ok: true } };
        }),
      ),
    );
    assert.equal(runs, 1);
    assert.equal(results.filter((r) => r.replayed).length, 4);
    assert.equal(await keysStored(actorId), 1);
  });
});
