// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noteJson, stringifyJson } from './json-text.ts';

describe('stringifyJson', () => {
  it('writes exactly what JSON.stringify writes, noted values or not', () => {
    const transcript = { messages: [{ role: 'user', parts: [{ type: 'text', text: 'Say "hi"\n\u2028<script>' }] }] };
    noteJson(transcript, JSON.stringify(transcript));
    const bodies: unknown[] = [
      { id: 'a', transcript, when: new Date(0), gone: undefined, fn: () => 1, nested: { transcript }, list: [transcript], n: null },
      { transcript },
      { only: undefined, transcript: undefined },
      { a: 1 },
      [transcript],
      'text',
      null,
      { toJSON: () => ({ replaced: true }), transcript },
      Object.assign(Object.create({ inherited: transcript }), { own: transcript }),
    ];
    for (const body of bodies) assert.equal(stringifyJson(body), JSON.stringify(body));
  });

  it('splices the noted JSON instead of serializing the value again', () => {
    const value = { big: 'x'.repeat(10) };
    // Noted text that differs from the value's own serialization shows which one was used.
    noteJson(value, '{"big":"noted"}');
    assert.equal(stringifyJson({ id: 1, value, after: true }), '{"id":1,"value":{"big":"noted"},"after":true}');
    assert.equal(stringifyJson({ id: 1, copy: { ...value } }), '{"id":1,"copy":{"big":"xxxxxxxxxx"}}', 'only the noted object itself');
  });
});
