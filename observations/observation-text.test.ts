// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { normaliseTags, systemPromptSha256, transcriptSearchText } from './observation-text.ts';
import type { Transcript } from './transcript.schema.ts';

const transcript: Transcript = {
  format: 'menagerie',
  messages: [
    { id: 'm1', role: 'system', parts: [{ type: 'text', text: 'Be terse.' }] },
    { id: 'm2', role: 'developer', parts: [{ type: 'text', text: 'Never mention llamas.' }] },
    { id: 'm3', role: 'user', parts: [{ type: 'text', text: 'Tell me about llamas' }, { type: 'image', url: 'https://example.org/l.png' }] },
    {
      id: 'm4',
      role: 'assistant',
      parts: [
        { type: 'reasoning', text: 'The developer said no llamas.' },
        { type: 'tool_call', name: 'search', arguments: '{"q":"alpaca"}' },
        { type: 'other', originalType: 'server_tool_use', data: { secret: 'not indexed' } },
      ],
    },
  ],
};

describe('transcriptSearchText', () => {
  test('joins every addressable text, one per line, skipping images and unknown parts', () => {
    assert.equal(
      transcriptSearchText(transcript),
      'Be terse.\nNever mention llamas.\nTell me about llamas\nThe developer said no llamas.\n{"q":"alpaca"}',
    );
  });

  test('is capped, so huge transcripts stay under the tsvector limits', () => {
    assert.equal(transcriptSearchText(transcript, 12), 'Be terse.\nNe');
  });
});

describe('systemPromptSha256', () => {
  test('hashes the system and developer messages\' text only', () => {
    const expected = createHash('sha256').update('Be terse.\nNever mention llamas.').digest('hex');
    assert.equal(systemPromptSha256(transcript), expected);
  });

  test('is undefined without a system or developer message', () => {
    assert.equal(systemPromptSha256({ ...transcript, messages: transcript.messages.slice(2) }), undefined);
  });
});

describe('normaliseTags', () => {
  test('trims, lower-cases, collapses spaces and removes duplicates in first-seen order', () => {
    assert.deepEqual(normaliseTags([' Refusal ', 'refusal', 'Over  Refusal', '', 'over refusal']), ['refusal', 'over refusal']);
  });
});
