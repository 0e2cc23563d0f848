// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WriteBatcher } from './write-batcher.ts';

/** A store that takes a few milliseconds per statement, like a database, and refuses the item "poison". */
function slowStore() {
  const statements: string[][] = [];
  const stored: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const writeMany = async (items: string[]) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    statements.push(items);
    await sleep(5);
    running--;
    if (items.includes('poison')) throw new Error('poison refused');
    stored.push(...items);
  };
  return { writeMany, statements, stored, maxRunning: () => maxRunning };
}

test('a lone write is written at once, in a statement of its own', async () => {
  const store = slowStore();
  const batcher = new WriteBatcher(store.writeMany, { maxBatch: 10, maxInFlight: 2 });
  await batcher.write('a');
  assert.deepEqual(store.statements, [['a']]);
});

test('writes arriving together share statements, bounded by maxBatch and maxInFlight', async () => {
  const store = slowStore();
  const batcher = new WriteBatcher(store.writeMany, { maxBatch: 10, maxInFlight: 2 });
  const items = Array.from({ length: 45 }, (_, i) => `item${i}`);
  await Promise.all(items.map((i) => batcher.write(i)));
  assert.deepEqual([...store.stored].sort(), [...items].sort());
  assert.ok(store.statements.length < items.length / 2, `45 writes took ${store.statements.length} statements`);
  assert.ok(store.statements.every((s) => s.length <= 10));
  assert.ok(store.maxRunning() <= 2);
});

test('a failing item fails alone: the others of its batch are written and resolve', async () => {
  const store = slowStore();
  const batcher = new WriteBatcher(store.writeMany, { maxBatch: 10, maxInFlight: 1 });
  const items = ['first', 'b1', 'poison', 'b2', 'b3'];
  const outcomes = await Promise.allSettled(items.map((i) => batcher.write(i)));
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  assert.match(String((outcomes[2] as PromiseRejectedResult).reason), /poison refused/);
  assert.deepEqual([...store.stored].sort(), ['b1', 'b2', 'b3', 'first']);
  // The batch after "first" held the poison: it failed whole, then each of its items was tried alone.
  assert.ok(store.statements.some((s) => s.length > 1 && s.includes('poison')));
});
