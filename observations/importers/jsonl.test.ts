import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importText, shape } from './importer-test-support.ts';

const lines = [
  { id: 'a', title: 'OpenAI style', model: 'gpt-4o', provider: 'openai', observedAt: '2025-02-03T04:05:06Z', metadata: { team: 'red' }, messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }] },
  { model: 'claude-opus-4', provider: 'anthropic', observedAt: 1738555506, system: 'Sys', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, { type: 'text', text: 'Yo' }] }] },
  { model: 'llama3', provider: 'ollama', messages: [{ role: 'user', parts: [{ type: 'text', text: 'Menagerie parts' }, { type: 'other', originalType: 'x', data: 1 }] }] },
];

describe('Generic JSONL importer', () => {
  it('reads OpenAI-style, Anthropic-style and Menagerie messages, one record per line', async () => {
    const text = lines.map((l) => JSON.stringify(l)).join('\r\n') + '\n\n';
    const { records, failures } = await importText('captures.jsonl', text);
    assert.deepEqual(failures, []);
    assert.deepEqual(records.map((r) => [r.index, r.format, r.transcript.format, r.model, r.provider]), [
      [0, 'jsonl', 'openai-chat', 'gpt-4o', 'openai'],
      [1, 'jsonl', 'anthropic-messages', 'claude-opus-4', 'anthropic'],
      [2, 'jsonl', 'menagerie', 'llama3', 'ollama'],
    ]);
    assert.deepEqual(shape(records[0]!), ['user:text:Hi', 'assistant:tool_call:f({})']);
    assert.deepEqual(shape(records[1]!), ['system:text:Sys', 'user:text:Hi', 'assistant:reasoning:hmm', 'assistant:text:Yo']);
    assert.deepEqual(shape(records[2]!), ['user:text:Menagerie parts', 'user:other:x']);
    assert.equal(records[0]!.raw, JSON.stringify(lines[0]));
    assert.deepEqual([records[0]!.title, records[0]!.provenance.recordId, records[0]!.provenance.source], ['OpenAI style', 'a', { team: 'red' }]);
    assert.equal(records[1]!.observedAt?.toISOString(), '2025-02-03T04:05:06.000Z');
  });

  it('reports each bad line with its index and reason and imports the rest', async () => {
    const text = [
      JSON.stringify(lines[0]),
      '{"messages": [{"role": "user", "content": "x"}], "provider": "openai"}',
      '{"model": "m", "provider": "p", "messages": []}',
      '{"model": "m", "provider": "p", "messages": [{"role": "user", "content": "x"}], "observedAt": "yesterday"}',
      '{"model": "m", "provider": "p", "messages": [{"role": "alien", "content": "x"}]}',
      '{"model": "m", "provider": "p", "messages": [{"role": "user", "con',
    ].join('\n');
    const { records, failures } = await importText('captures.jsonl', text);
    assert.deepEqual(records.map((r) => r.index), [0]);
    assert.deepEqual(failures.map((f) => f.index), [1, 2, 3, 4, 5]);
    assert.match(failures[0]!.reason, /^Line 2: "model"/);
    assert.match(failures[1]!.reason, /^Line 3: "messages" needs at least one message/);
    assert.match(failures[2]!.reason, /"observedAt" is not a date/);
    assert.match(failures[3]!.reason, /role "alien"/);
    assert.match(failures[4]!.reason, /^Line 6: The record is not valid JSON/);
  });
});
