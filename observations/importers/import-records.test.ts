import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { detectFormat } from './detect-format.ts';
import { importRecords } from './import-records.ts';
import { importFormats } from './import-types.ts';
import { splitJsonArray } from './json-array-stream.ts';
import { collect, importText, makeZip } from './importer-test-support.ts';

async function elements(text: string, chunkSize = 1) {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const out = [];
  for await (const element of splitJsonArray(chunks, 'f.json')) out.push(element);
  return out;
}

describe('splitJsonArray', () => {
  it('yields each element\'s exact text, whatever the chunking, with strings holding brackets, escapes and multi-byte characters', async () => {
    const text = '\uFEFF [ {"a": "]}[{\\"\\\\", "b": [1, {"c": "é😀"}]} ,"str\\"ing", 42 , null,[ ] ]  \n';
    const expected = [
      { index: 0, raw: '{"a": "]}[{\\"\\\\", "b": [1, {"c": "é😀"}]}' },
      { index: 1, raw: '"str\\"ing"' },
      { index: 2, raw: '42' },
      { index: 3, raw: 'null' },
      { index: 4, raw: '[ ]' },
    ];
    for (const size of [1, 2, 5, 1000]) assert.deepEqual(await elements(text, size), expected);
  });

  it('reports truncation inside an element and before the closing bracket', async () => {
    assert.deepEqual(await elements('[{"a":1},{"b":'), [{ index: 0, raw: '{"a":1}' }, { index: 1, problem: 'The file ends in the middle of record 2 (truncated JSON); the records before it were read' }]);
    assert.deepEqual(await elements('[{"a":1},'), [{ index: 0, raw: '{"a":1}' }, { index: 1, problem: 'The file ends before the array\'s closing "]" (truncated JSON); the 1 records before that point were read' }]);
  });

  it('refuses an empty source and one that is not an array', async () => {
    await assert.rejects(elements('  '), /f\.json is empty/);
    await assert.rejects(elements('{"mapping": {}}'), /not a JSON array of records/);
  });
});

describe('detectFormat', () => {
  const detect = (fileName: string, value: unknown) => detectFormat(fileName, Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

  it('tells each format from its name and first bytes', () => {
    assert.equal(detect('conversations.json', [{ id: 'c', title: 't', create_time: 1, current_node: 'n', mapping: {} }]), 'chatgpt-export');
    assert.equal(detect('conversations.json', [{ uuid: 'u', name: 'n', chat_messages: [] }]), 'claude-export');
    assert.equal(detect('run.eval', ''), 'inspect-log');
    assert.equal(detectFormat('upload.bin', makeZip([{ name: 'header.json', data: Buffer.from('{}') }])), 'inspect-log');
    assert.equal(detect('log.json', { version: 2, status: 'success', eval: { task: 't' }, plan: {}, samples: [] }), 'inspect-log');
    assert.equal(detect('traces.json', { resourceSpans: [] }), 'otel-genai');
    assert.equal(detect('r.json', { object: 'response', output: [] }), 'openai-responses');
    assert.equal(detect('r.json', { model: 'o3', input: [{ type: 'function_call_output', call_id: 'c', output: 'x' }] }), 'openai-responses');
    assert.equal(detect('c.json', { choices: [{ message: { role: 'assistant', content: 'x' } }] }), 'openai-chat');
    assert.equal(detect('c.json', { messages: [{ role: 'user', content: 'x' }] }), 'openai-chat');
    assert.equal(detect('a.json', { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'x' }], stop_reason: 'end_turn' }), 'anthropic-messages');
    assert.equal(detect('a.json', { system: 'S', messages: [{ role: 'user', content: 'x' }] }), 'anthropic-messages');
    assert.equal(detect('g.jsonl', '{"messages": [], "model": "m", "provider": "p"}\n'), 'jsonl');
    assert.equal(detect('any.txt', '{"messages": [], "model": "m", "provider": "p"}\n{"messages": [], "model": "m", "provider": "p"}\n'), 'jsonl');
  });

  it('sniffs a big export from its first bytes only', () => {
    const head = `[{"title": "t", "create_time": 1, "mapping": {"a": {"id": "a", "message": {"content": {"parts": ["${'x'.repeat(70_000)}`;
    assert.equal(detectFormat('export.json', Buffer.from(head).subarray(0, 65536)), 'chatgpt-export');
  });
});

describe('importRecords', () => {
  it('names every format tried when none fits', async () => {
    await assert.rejects(importText('notes.txt', 'Just some notes, not a transcript.'), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.id, 'validation_failed');
      assert.match(error.message, /could not tell what format notes\.txt is in/);
      for (const format of importFormats) assert.ok(error.message.includes(format), `names ${format}`);
      assert.deepEqual(error.details?.formatsTried, [...importFormats]);
      return true;
    });
    await assert.rejects(importText('x.json', '{"a": 1}', { format: 'word-doc' as never }), /Unknown import format "word-doc"/);
  });

  it('refuses a file over the byte limit before reading it, and a stream once the limit is passed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'menagerie-limit-'));
    try {
      const file = path.join(dir, 'conversations.json');
      await writeFile(file, `[${'{"id": "x", "mapping": {}},'.repeat(100)}{}]`);
      await assert.rejects(collect(importRecords({ path: file }, { maxBytes: 1000 })), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.id, 'payload_too_large');
        assert.match(error.message, /conversations\.json is too large to import: the limit is 1000 bytes and the file is 2\.6 KiB/);
        return true;
      });
      await assert.rejects(importText('conversations.json', `[${'{"id": "x", "mapping": {}},'.repeat(100)}{}]`, { maxBytes: 1000 }), /too large to import: the limit is 1000 bytes/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('streams a large export record by record without holding the file', async () => {
    // 3,000 conversations (~3 MB) generated on the fly: each record is read as it arrives.
    const conversation = (i: number) =>
      JSON.stringify({ id: `c${i}`, title: `T${i}`, current_node: 'b', mapping: { a: { id: 'a', parent: null, children: ['b'], message: { author: { role: 'user' }, content: { content_type: 'text', parts: [`Question ${i} ${'x'.repeat(900)}`] } } }, b: { id: 'b', parent: 'a', children: [], message: { author: { role: 'assistant' }, content: { content_type: 'text', parts: ['Answer'] } } } } });
    const count = 3000;
    async function* generate() {
      yield Buffer.from('[');
      for (let i = 0; i < count; i++) yield Buffer.from(`${i > 0 ? ',' : ''}${conversation(i)}`);
      yield Buffer.from(']');
    }
    let records = 0;
    let lastIndex = -1;
    for await (const result of importRecords({ stream: Readable.from(generate()), fileName: 'conversations.json' })) {
      assert.equal(result.kind, 'record');
      lastIndex = result.index;
      records++;
    }
    assert.deepEqual([records, lastIndex], [count, count - 1]);
  });

  it('ends the source stream when the caller stops early', async () => {
    const line = '{"model": "m", "provider": "p", "messages": [{"role": "user", "content": "x"}]}\n';
    const stream = Readable.from(Array.from({ length: 50 }, () => Buffer.from(line)));
    for await (const result of importRecords({ stream, fileName: 'c.jsonl' })) {
      assert.equal(result.kind, 'record');
      break;
    }
    assert.equal(stream.destroyed, true);
  });
});
