import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { importRecords } from './import-records.ts';
import { collect, importText, makeZip, only, shape } from './importer-test-support.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const zstdSample = readFileSync(path.join(fixtures, 'inspect-sample.json'));
const zstdCompressed = readFileSync(path.join(fixtures, 'inspect-sample.json.zst'));

const evalSpec = { run_id: 'run-1', eval_id: 'ev-1', task: 'capitals', task_id: 't', created: '2025-03-01T10:00:00+00:00', model: 'openai/gpt-4o', dataset: { name: 'cap' } };

function sample(id: string | number, epoch: number, messages: unknown[], extra: Record<string, unknown> = {}) {
  return { id, epoch, input: 'x', target: 'y', messages, output: { model: 'openai/gpt-4o-2024-08-06', choices: [{ stop_reason: 'stop' }] }, scores: { match: { value: 'C' } }, metadata: {}, ...extra };
}

/** A sample with every content type an Inspect ChatMessage carries. */
const richSample = sample('s1', 1, [
  { role: 'system', content: 'Be exact.' },
  { role: 'user', content: [{ type: 'text', text: 'attachment://h1' }, { type: 'image', image: 'https://example.org/i.png' }, { type: 'audio', audio: 'a.wav', format: 'wav' }] },
  {
    role: 'assistant',
    content: [
      { type: 'reasoning', reasoning: 'Think.', signature: 'sig', redacted: false },
      { type: 'reasoning', reasoning: 'OPAQUE', summary: 'a summary', redacted: true },
      { type: 'text', text: 'I will not do that part.', refusal: true },
      { type: 'data', data: { k: 1 } },
    ],
    tool_calls: [{ id: 'c1', function: 'bash', arguments: { cmd: 'ls' }, type: 'function' }],
  },
  { role: 'tool', content: 'permission denied', tool_call_id: 'c1', function: 'bash', error: { type: 'permission', message: 'denied' } },
  { role: 'assistant', content: 'Done.' },
], { attachments: { h1: 'The resolved question' }, started_at: '2025-03-01T10:05:00+00:00' });

describe('Inspect log importer', () => {
  it('reads a .json EvalLog: one record per sample, every content type, attachments resolved', async () => {
    const log = { version: 2, status: 'success', eval: evalSpec, plan: {}, results: {}, stats: {}, samples: [richSample, sample(2, 2, [{ role: 'user', content: 'Hi' }])] };
    const { records, failures } = await importText('log.json', JSON.stringify(log));
    assert.deepEqual(failures, []);
    assert.equal(records.length, 2);
    const record = records[0]!;
    assert.equal(record.format, 'inspect-log');
    assert.deepEqual(shape(record), [
      'system:text:Be exact.',
      'user:text:The resolved question',
      'user:image:https://example.org/i.png',
      'user:other:audio',
      'assistant:reasoning:Think.',
      'assistant:reasoning:a summary',
      'assistant:refusal:I will not do that part.',
      'assistant:other:data',
      'assistant:tool_call:bash({"cmd":"ls"})',
      'tool:tool_result:permission denied',
      'tool:other:tool_error',
      'assistant:text:Done.',
    ]);
    assert.deepEqual(record.transcript.messages[3]!.parts[0], { type: 'tool_result', toolCallId: 'c1', text: 'permission denied', isError: true });
    assert.match(record.raw, /attachment:\/\/h1/, 'the raw sample keeps the reference as written');
    assert.deepEqual([record.provider, record.model, record.provenance.recordId, record.provenance.conversationId, record.provenance.harness], ['openai', 'gpt-4o-2024-08-06', 's1_epoch_1', 'run-1', 'inspect_ai']);
    assert.equal(record.observedAt?.toISOString(), '2025-03-01T10:05:00.000Z');
    assert.equal(records[1]!.title, 'capitals: sample 2 (epoch 2)');
    assert.equal(records[1]!.observedAt?.toISOString(), '2025-03-01T10:00:00.000Z');
  });

  it('reads a .eval ZIP (deflate and Zstandard, multi-frame) from a file, and reports a broken sample', async () => {
    const header = { version: 2, status: 'success', eval: evalSpec, plan: {}, results: {} };
    const zip = makeZip([
      { name: '_journal/start.json', data: Buffer.from(JSON.stringify({ version: 2, eval: evalSpec, plan: {} })) },
      { name: 'samples/s1_epoch_1.json', data: Buffer.from(JSON.stringify(richSample)) },
      { name: 'samples/q7_epoch_1.json', data: zstdSample, method: 93, compressed: zstdCompressed },
      { name: 'samples/bad_epoch_1.json', data: Buffer.from('{"id": "bad", "epoch": 1, "messages": "nope"}'), method: 0 },
      { name: 'summaries.json', data: Buffer.from('[]') },
      { name: 'header.json', data: Buffer.from(JSON.stringify(header)) },
    ]);
    const dir = await mkdtemp(path.join(tmpdir(), 'menagerie-inspect-'));
    try {
      const file = path.join(dir, 'run.eval');
      await writeFile(file, zip);
      const { records, failures } = await collect(importRecords({ path: file }));
      assert.deepEqual(records.map((r) => [r.index, r.provenance.recordId]), [[0, 's1_epoch_1'], [1, 'q7_epoch_1']]);
      const zstd = records[1]!;
      assert.equal(zstd.raw, zstdSample.toString('utf8'));
      assert.deepEqual(shape(zstd).slice(1, 4), ['user:text:What is the capital of France? Answer in one word.', 'assistant:reasoning:The capital of France is Paris.', 'assistant:text:Let me check.']);
      assert.deepEqual([zstd.provider, zstd.model, zstd.provenance.stopReason], ['anthropic', 'claude-3-7-sonnet', 'stop']);
      assert.deepEqual(failures.map((f) => [f.index, f.recordId]), [[2, 'bad_epoch_1']]);
      assert.match(failures[0]!.reason, /no "messages" list/);
      // The same archive sent as a stream reads the same, with the same hashes.
      const streamed = await importText('run.eval', zip);
      assert.deepEqual(streamed.records.map((r) => r.rawSha256), records.map((r) => r.rawSha256));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads a crashed run (no header.json) from its journal, with a warning', async () => {
    const zip = makeZip([
      { name: '_journal/start.json', data: Buffer.from(JSON.stringify({ version: 2, eval: evalSpec, plan: {} })) },
      { name: 'samples/1_epoch_1.json', data: Buffer.from(JSON.stringify(sample(1, 1, [{ role: 'user', content: 'Hi' }]))) },
    ]);
    const record = only((await importText('crashed.eval', zip)).records);
    assert.equal(record.provenance.source?.logStatus, 'started');
    assert.match(record.warnings.join(), /never finished/);
  });

  it('refuses a corrupt ZIP with a clear error', async () => {
    const zip = makeZip([{ name: 'header.json', data: Buffer.from('{}') }]);
    const corrupt = Buffer.concat([zip.subarray(0, 20), Buffer.alloc(40, 0x41), zip.subarray(60)]);
    await assert.rejects(importText('broken.eval', corrupt), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.id, 'validation_failed');
      assert.match(error.message, /broken\.eval is not a readable ZIP archive/);
      return true;
    });
    await assert.rejects(importText('cut.eval', zip.subarray(0, zip.length - 10)), /cut\.eval is not a readable ZIP archive/);
    await assert.rejects(importText('other.eval', makeZip([{ name: 'readme.txt', data: Buffer.from('hi') }])), /not an Inspect log: it has neither header\.json/);
  });

  it('refuses a truncated .json log as a whole, naming the file', async () => {
    const log = JSON.stringify({ version: 2, status: 'success', eval: evalSpec, samples: [richSample] });
    await assert.rejects(importText('log.json', log.slice(0, -30), { format: 'inspect-log' }), /log\.json is not a readable Inspect log/);
  });
});
