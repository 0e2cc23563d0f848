// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categoryTreeOrder } from './category-tree.ts';

const cat = (key: string, parent: string | null = null) => ({ key, name: key.toUpperCase(), parent });

test('lists each top-level category followed by its descendants, siblings in document order', () => {
  const order = categoryTreeOrder([cat('b-child', 'b'), cat('a'), cat('b'), cat('a-child', 'a'), cat('a-grandchild', 'a-child'), cat('c')]);
  assert.deepEqual(
    order.map((p) => `${p.depth}:${p.category.key}`),
    ['0:a', '1:a-child', '2:a-grandchild', '0:b', '1:b-child', '0:c'],
  );
});

test('keeps categories with a missing parent or in a cycle, at depth 0', () => {
  const order = categoryTreeOrder([cat('x', 'y'), cat('y', 'x'), cat('orphan', 'gone'), cat('self', 'self')]);
  assert.deepEqual(order.map((p) => p.category.key).sort(), ['orphan', 'self', 'x', 'y']);
  assert.equal(order.find((p) => p.category.key === 'orphan')?.depth, 0);
  assert.equal(order.length, 4, 'each category once');
});
