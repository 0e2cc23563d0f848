// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { readTranscript } from './read-transcript.ts';
import { parseTranscript, parseTranscriptValue, type TranscriptFormatChoice } from './transcript/parse-transcript.ts';

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('readTranscript', () => {
  test('reads text and already-parsed JSON alike, returning the text and the normalised JSON', () => {
    const asText = readTranscript('User: hi\nAssistant: hello', 'auto');
    assert.equal(asText.transcript.format, 'plain');
    assert.equal(asText.text, 'User: hi\nAssistant: hello');
    const asJson = readTranscript({ messages: [{ role: 'user', content: 'hi' }] }, 'auto');
    assert.equal(asJson.transcript.format, 'openai-chat');
    assert.equal(asJson.text, '{"messages":[{"role":"user","content":"hi"}]}');
    assert.deepEqual(JSON.parse(asJson.json), asJson.transcript);
  });

  test('an unreadable transcript is a 422 on the transcript field with the parser\'s message', () => {
    const err = refusal(() => readTranscript('no labels at all', 'auto'));
    assert.equal(err.id, 'validation_failed');
    assert.ok(err.details?.fields?.transcript);
    assert.ok(err.message.includes(err.details!.fields!.transcript!));
  });

  test('a NUL character anywhere in the transcript is refused (PostgreSQL cannot store it)', () => {
    const err = refusal(() => readTranscript({ messages: [{ role: 'user', content: 'a\u0000b' }] }, 'auto'));
    assert.match(err.details?.fields?.transcript ?? '', /NUL/);
    // A literal backslash followed by "u0000" is ordinary text.
    assert.equal(readTranscript({ messages: [{ role: 'user', content: 'see \\u0000 escapes' }] }, 'auto').transcript.messages.length, 1);
  });

  test('JSON that arrived parsed reads exactly as the same JSON given as text', () => {
    const values: (Record<string, unknown> | unknown[])[] = [
      { model: 'gpt-x', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }] },
      { system: 'Be concise.', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }, { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm' }, { type: 'text', text: 'yo' }] }] },
      { format: 'menagerie', messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }] },
      [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }],
      {},
      [],
      { messages: [{ role: 'wizard', content: 'hi' }] },
      { messages: 'not a list' },
    ];
    const formats: TranscriptFormatChoice[] = ['auto', 'openai-chat', 'anthropic-messages', 'menagerie', 'plain', 'nonsense' as TranscriptFormatChoice];
    let readable = 0;
    for (const value of values) {
      for (const format of formats) {
        const fromValue = parseTranscriptValue(value, format);
        assert.deepEqual(fromValue, parseTranscript(JSON.stringify(value), format), `${JSON.stringify(value)} as ${format}`);
        if (fromValue.ok) readable++;
      }
    }
    assert.ok(readable >= 5, `some of the cases must be readable (${readable} were)`);
    const read = readTranscript(values[0]!, 'auto');
    assert.equal(read.text, JSON.stringify(values[0]));
  });
});
