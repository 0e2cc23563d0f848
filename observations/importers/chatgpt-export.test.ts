import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { importRecords } from './import-records.ts';
import { collect, importText, only, shape } from './importer-test-support.ts';

const node = (id: string, parent: string | null, children: string[], message: unknown) => ({ id, parent, children, message });
const msg = (id: string, role: string, content: unknown, extra: Record<string, unknown> = {}) => ({
  id,
  author: { role, name: null, metadata: {} },
  create_time: 1700000000,
  content,
  status: 'finished_successfully',
  weight: 1,
  metadata: {},
  recipient: 'all',
  channel: null,
  ...extra,
});
const text = (...parts: unknown[]) => ({ content_type: 'text', parts });

/**
 * A conversation whose first reply was regenerated (branch b1 vs b2) and whose second question was edited
 * (u2a vs u2b); the visible thread is root → sys → u1 → b2 → u2b → a3 (current_node).
 */
function branchedConversation() {
  return {
    id: 'conv-1',
    conversation_id: 'conv-1',
    title: 'Capital cities',
    create_time: 1700000000.5,
    update_time: 1700000100.25,
    current_node: 'a3',
    default_model_slug: 'gpt-4o',
    gizmo_id: null,
    mapping: {
      root: node('root', null, ['sys'], null),
      sys: node('sys', 'root', ['u1'], msg('sys', 'system', text(''), { metadata: { is_visually_hidden_from_conversation: true } })),
      u1: node('u1', 'sys', ['b1', 'b2'], msg('u1', 'user', text('What is the capital of France?'))),
      b1: node('b1', 'u1', [], msg('b1', 'assistant', text('Lyon.'), { metadata: { model_slug: 'gpt-4o' } })),
      b2: node('b2', 'u1', ['u2a', 'u2b'], msg('b2', 'assistant', text('Paris.'), { metadata: { model_slug: 'gpt-4o' } })),
      u2a: node('u2a', 'b2', [], msg('u2a', 'user', text('And Spain?'))),
      u2b: node('u2b', 'b2', ['a3'], msg('u2b', 'user', text('And Italy?'))),
      a3: node('a3', 'u2b', [], msg('a3', 'assistant', text('Rome.'), { metadata: { model_slug: 'gpt-4o-mini' } })),
    },
  };
}

/** Every content type the importer maps: multimodal, custom instructions, code tool calls, execution output, thoughts, unknown. */
function richConversation() {
  return {
    id: 'conv-2',
    title: 'Tools and thoughts',
    create_time: 1700001000,
    current_node: 'n9',
    default_model_slug: 'o3',
    mapping: {
      n0: node('n0', null, ['n1'], null),
      n1: node('n1', 'n0', ['n2'], msg('n1', 'user', { content_type: 'user_editable_context', user_profile: 'I am a chemist.', user_instructions: 'Be brief.' })),
      n2: node('n2', 'n1', ['n3'], msg('n2', 'user', { content_type: 'multimodal_text', parts: [{ content_type: 'image_asset_pointer', asset_pointer: 'file-service://file-abc', width: 10, height: 10 }, 'What is this?'] })),
      n3: node('n3', 'n2', ['n4'], msg('n3', 'assistant', { content_type: 'thoughts', thoughts: [{ summary: 'Looking', content: 'It is a molecule.' }], source_analysis_msg_id: 'x' })),
      n4: node('n4', 'n3', ['n5'], msg('n4', 'assistant', { content_type: 'code', language: 'python', text: 'print(2+2)' }, { recipient: 'python' })),
      n5: node('n5', 'n4', ['n6'], msg('n5', 'tool', { content_type: 'execution_output', text: '4' }, { author: { role: 'tool', name: 'python' } })),
      n6: node('n6', 'n5', ['n7'], msg('n6', 'assistant', { content_type: 'reasoning_recap', content: 'Thought for 3 seconds' })),
      n7: node('n7', 'n6', ['n8'], msg('n7', 'assistant', text('It is water.', { content_type: 'audio_transcription', text: 'hi' }))),
      n8: node('n8', 'n7', ['n9'], msg('n8', 'tool', { content_type: 'tether_quote', url: 'https://example.org', title: 'Water', text: 'H2O' }, { author: { role: 'tool', name: 'browser' } })),
      n9: node('n9', 'n8', [], msg('n9', 'assistant', text('Done.'))),
    },
  };
}

describe('ChatGPT export importer', () => {
  it('imports the visible thread in order and keeps the other branches in the raw record', async () => {
    const conversation = branchedConversation();
    const { records, failures } = await importText('conversations.json', JSON.stringify([conversation], null, 2));
    assert.deepEqual(failures, []);
    const record = only(records, 'chatgpt-export');
    assert.deepEqual(shape(record), ['user:text:What is the capital of France?', 'assistant:text:Paris.', 'user:text:And Italy?', 'assistant:text:Rome.']);
    const raw = JSON.parse(record.raw);
    assert.deepEqual(Object.keys(raw.mapping).sort(), ['a3', 'b1', 'b2', 'root', 'sys', 'u1', 'u2a', 'u2b']);
    assert.equal(raw.mapping.b1.message.content.parts[0], 'Lyon.');
    assert.equal(record.provenance.source?.offThreadMessages, 2);
    assert.equal(record.provenance.source?.branchPoints, 2);
    assert.equal(record.title, 'Capital cities');
    assert.equal(record.model, 'gpt-4o-mini');
    assert.equal(record.provider, 'openai');
    assert.equal(record.observedAt?.toISOString(), '2023-11-14T22:13:20.500Z');
    assert.deepEqual(
      { capture: record.provenance.capture, sourceFormat: record.provenance.sourceFormat, fileName: record.provenance.fileName, recordId: record.provenance.recordId },
      { capture: 'import', sourceFormat: 'chatgpt-export', fileName: 'conversations.json', recordId: 'conv-1' },
    );
    assert.equal(record.provenance.updatedAt, '2023-11-14T22:15:00.250Z');
    assert.deepEqual(record.transcript.messages.map((m) => m.id), ['m1', 'm2', 'm3', 'm4']);
  });

  it('keeps the exact raw text of each conversation and hashes it stably', async () => {
    const first = JSON.stringify(branchedConversation(), null, 1);
    const file = `[\n  ${first},\n  ${JSON.stringify(richConversation())}\n]\n`;
    const once = await importText('conversations.json', file, { chunkSize: 3 });
    const twice = await importText('conversations.json', file, { chunkSize: 4096 });
    assert.equal(once.records[0]!.raw, first);
    assert.deepEqual(once.records.map((r) => r.rawSha256), twice.records.map((r) => r.rawSha256));
    assert.match(once.records[0]!.rawSha256, /^[0-9a-f]{64}$/);
    assert.notEqual(once.records[0]!.rawSha256, once.records[1]!.rawSha256);
  });

  it('maps every content type, keeping the unknown ones as other parts with their JSON', async () => {
    const { records, failures } = await importText('conversations.json', JSON.stringify([richConversation()]));
    assert.deepEqual(failures, []);
    const record = only(records);
    assert.deepEqual(shape(record), [
      'system:text:I am a chemist.',
      'system:text:Be brief.',
      'user:image:file-service://file-abc',
      'user:text:What is this?',
      'assistant:reasoning:Looking\nIt is a molecule.',
      'assistant:tool_call:python(print(2+2))',
      'tool:tool_result:4',
      'assistant:other:reasoning_recap',
      'assistant:text:It is water.',
      'assistant:other:audio_transcription',
      'tool:tool_result:',
      'tool:other:tether_quote',
      'assistant:text:Done.',
    ]);
    const quote = record.transcript.messages.flatMap((m) => m.parts).find((p) => p.type === 'other' && p.originalType === 'tether_quote');
    assert.deepEqual(quote?.type === 'other' ? quote.data : null, { content_type: 'tether_quote', url: 'https://example.org', title: 'Water', text: 'H2O' });
    assert.equal(record.transcript.messages.find((m) => m.role === 'tool')?.name, 'python');
    assert.equal(record.model, 'o3');
  });

  it('reports malformed conversations by index and reason and imports the rest', async () => {
    const broken = { id: 'conv-x', title: 'No mapping' };
    const cycle = { id: 'conv-c', current_node: 'a', mapping: { a: node('a', 'b', [], msg('a', 'user', text('hi'))), b: node('b', 'a', ['a'], msg('b', 'user', text('yo'))) } };
    const file = `[${JSON.stringify(branchedConversation())}, ${JSON.stringify(broken)}, {"id": "conv-bad", "mapping": {,}}, ${JSON.stringify(cycle)}, ${JSON.stringify(richConversation())}]`;
    const { records, failures } = await importText('conversations.json', file);
    assert.deepEqual(records.map((r) => [r.index, r.provenance.recordId]), [[0, 'conv-1'], [4, 'conv-2']]);
    assert.deepEqual(failures.map((f) => [f.index, f.fileName]), [[1, 'conversations.json'], [2, 'conversations.json'], [3, 'conversations.json']]);
    assert.equal(failures[0]!.recordId, 'conv-x');
    assert.match(failures[0]!.reason, /no "mapping"/);
    assert.match(failures[1]!.reason, /not valid JSON/);
    assert.match(failures[2]!.reason, /cycle/);
  });

  it('imports the conversations before a truncation and reports the truncated one', async () => {
    const full = JSON.stringify([branchedConversation(), richConversation()]);
    const cut = full.slice(0, full.length - 200);
    const { records, failures } = await importText('conversations.json', cut);
    assert.equal(records.length, 1);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.index, 1);
    assert.match(failures[0]!.reason, /ends in the middle of record 2 \(truncated JSON\)/);
  });

  it('falls back to the latest replies when current_node is missing, with a warning', async () => {
    const conversation = { ...branchedConversation(), current_node: undefined };
    const record = only((await importText('conversations.json', JSON.stringify([conversation]))).records);
    assert.deepEqual(shape(record).at(-1), 'assistant:text:Rome.');
    assert.match(record.warnings[0] ?? '', /current_node/);
  });

  it('detects split exports (conversations-001.json) read from a file path', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'menagerie-chatgpt-'));
    try {
      const file = path.join(dir, 'conversations-001.json');
      await writeFile(file, JSON.stringify([richConversation(), branchedConversation()]));
      const { records, failures } = await collect(importRecords({ path: file }));
      assert.deepEqual(failures, []);
      assert.deepEqual(records.map((r) => [r.format, r.fileName, r.index]), [
        ['chatgpt-export', 'conversations-001.json', 0],
        ['chatgpt-export', 'conversations-001.json', 1],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
