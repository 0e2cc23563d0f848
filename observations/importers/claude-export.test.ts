import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importText, only, shape } from './importer-test-support.ts';

const message = (uuid: string, sender: string, parent: string | null, content: unknown[], extra: Record<string, unknown> = {}) => ({
  uuid,
  text: '',
  sender,
  created_at: '2025-01-02T03:04:05.000Z',
  content,
  attachments: [],
  files: [],
  parent_message_uuid: parent,
  ...extra,
});

/** A conversation with a retried answer (x2 off the thread) and every content type the export uses. */
function conversation() {
  return {
    uuid: 'c-1',
    name: 'Recipe help',
    created_at: '2025-01-02T03:04:05.123Z',
    updated_at: '2025-01-02T04:00:00.000Z',
    project_uuid: 'p-1',
    current_leaf_message_uuid: 'x3',
    chat_messages: [
      message('x1', 'human', '00000000-0000-4000-8000-000000000000', [{ type: 'text', text: 'Find a recipe.', start_timestamp: null }], {
        attachments: [{ file_name: 'notes.txt', file_type: 'text/plain', file_size: 5, extracted_content: 'flour' }],
        files: [{ file_name: 'photo.png' }],
      }),
      message('x2', 'assistant', 'x1', [{ type: 'text', text: 'An abandoned answer.' }]),
      message('x2b', 'assistant', 'x1', [
        { type: 'thinking', thinking: 'Search first.', summaries: [{ summary: 'searching' }], cut_off: false },
        { type: 'tool_use', id: 'tu-1', name: 'web_search', input: { query: 'bread' } },
        { type: 'tool_result', tool_use_id: 'tu-1', name: 'web_search', content: [{ type: 'text', text: 'Bread: flour, water.' }], is_error: false },
        { type: 'text', text: 'Here is one.', citations: [{ url: 'https://example.org' }] },
        { type: 'voice_note', title: 'memo' },
      ]),
      message('x3', 'human', 'x2b', [], { text: 'Thanks!' }),
    ],
  };
}

describe('Claude.ai export importer', () => {
  it('walks the thread from the current leaf and maps every content type', async () => {
    const { records, failures } = await importText('conversations.json', JSON.stringify([conversation()]));
    assert.deepEqual(failures, []);
    const record = only(records, 'claude-export');
    assert.deepEqual(shape(record), [
      'user:text:Find a recipe.',
      'user:other:attachment',
      'user:other:file',
      'assistant:reasoning:Search first.',
      'assistant:tool_call:web_search({"query":"bread"})',
      'tool:tool_result:Bread: flour, water.',
      'assistant:text:Here is one.',
      'assistant:other:citations',
      'assistant:other:voice_note',
      'user:text:Thanks!',
    ]);
    const attachment = record.transcript.messages[0]!.parts[1];
    assert.equal(attachment?.type === 'other' ? (attachment.data as { extracted_content: string }).extracted_content : null, 'flour');
    assert.equal(record.transcript.messages[2]!.name, 'web_search');
    assert.deepEqual([record.title, record.provider, record.model, record.observedAt?.toISOString()], ['Recipe help', 'anthropic', null, '2025-01-02T03:04:05.123Z']);
    assert.equal(record.provenance.source?.offThreadMessages, 1);
    assert.match(record.raw, /An abandoned answer/);
  });

  it('reads older exports without parent links in order, and reports malformed conversations', async () => {
    const flat = { uuid: 'c-2', name: 'Flat', created_at: '2024-05-01T00:00:00Z', chat_messages: [message('y1', 'human', null, [], { text: 'Hi' }), message('y2', 'assistant', null, [], { text: 'Hello' })] };
    const badSender = { uuid: 'c-3', chat_messages: [message('z1', 'robot', null, [], { text: 'beep' })] };
    const noMessages = { uuid: 'c-4', name: 'Empty' };
    const { records, failures } = await importText('conversations.json', JSON.stringify([flat, badSender, noMessages]));
    assert.deepEqual(shape(only(records)), ['user:text:Hi', 'assistant:text:Hello']);
    assert.deepEqual(failures.map((f) => [f.index, f.recordId]), [[1, 'c-3'], [2, 'c-4']]);
    assert.match(failures[0]!.reason, /sender "robot"/);
    assert.match(failures[1]!.reason, /no "chat_messages"/);
  });
});
