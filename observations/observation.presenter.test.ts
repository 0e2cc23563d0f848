// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { excerpt, snippetMarkers, snippetSegments } from './observation.presenter.ts';

const { start: S, stop: E } = snippetMarkers;

describe('snippetSegments', () => {
  test('turns ts_headline markers into plain-text segments', () => {
    assert.deepEqual(snippetSegments(`the ${S}zebra${E} <b>sleeps</b> ${S}standing${E}`), [
      { text: 'the ', match: false },
      { text: 'zebra', match: true },
      { text: ' <b>sleeps</b> ', match: false },
      { text: 'standing', match: true },
    ]);
  });

  test('text without markers is one plain segment; empty matches disappear', () => {
    assert.deepEqual(snippetSegments('<script>alert(1)</script>'), [{ text: '<script>alert(1)</script>', match: false }]);
    assert.deepEqual(snippetSegments(`a${S}${E}b`), [{ text: 'ab', match: false }]);
  });

  test('adjacent matches merge, and an unclosed marker ends at the end of the text', () => {
    assert.deepEqual(snippetSegments(`${S}big${E}${S}cat${E} and ${S}dog`), [
      { text: 'bigcat', match: true },
      { text: ' and ', match: false },
      { text: 'dog', match: true },
    ]);
  });
});

describe('excerpt', () => {
  test('keeps short text, cuts long text at a word boundary with an ellipsis', () => {
    assert.equal(excerpt('short'), 'short');
    const long = 'word '.repeat(100);
    const cut = excerpt(long, 50);
    assert.ok(cut.length <= 51);
    assert.match(cut, /word…$/);
  });
});
