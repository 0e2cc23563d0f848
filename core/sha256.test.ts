// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { sha256Hex } from './sha256.ts';

describe('sha256Hex', () => {
  test('is the sha256 of the UTF-8 text, as createHash computes it (stored raw_sha256 values stay comparable)', () => {
    const texts = ['', 'User: hi', 'héllo wörld ✓ 日本語 🦙', 'a\u0000b', 'lone \ud800 surrogate', 'x'.repeat(100_000)];
    for (const text of texts) assert.equal(sha256Hex(text), createHash('sha256').update(text, 'utf8').digest('hex'), JSON.stringify(text.slice(0, 30)));
    assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
