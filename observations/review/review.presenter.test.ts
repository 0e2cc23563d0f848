// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spanContext } from './review.presenter.ts';

test('spanContext cuts the text around the span, at a space when one is near, and says where it cut', () => {
  const text = `${'word '.repeat(100)}THE SPAN${' more'.repeat(100)}`;
  const start = text.indexOf('THE SPAN');
  const c = spanContext(text, start, start + 8, 40);
  assert.equal(c.match, 'THE SPAN');
  assert.ok(c.before.length <= 40 && c.after.length <= 40);
  assert.ok(c.before.startsWith('word'), 'starts at a word');
  assert.ok(c.after.endsWith('more'), 'ends at a word');
  assert.deepEqual([c.cutBefore, c.cutAfter], [true, true]);
  assert.ok(text.slice(0, start).endsWith(c.before), 'before is the text just before the span');
  assert.ok(text.slice(start + 8).startsWith(c.after), 'after is the text just after it');
});

test('spanContext keeps short texts whole and clamps stale offsets', () => {
  assert.deepEqual(spanContext('Hello there.', 6, 11), { before: 'Hello ', match: 'there', after: '.', cutBefore: false, cutAfter: false });
  assert.deepEqual(spanContext('Short', 3, 99), { before: 'Sho', match: 'rt', after: '', cutBefore: false, cutAfter: false });
  assert.deepEqual(spanContext('Short', 50, 60), { before: 'Short', match: '', after: '', cutBefore: false, cutAfter: false });
});
