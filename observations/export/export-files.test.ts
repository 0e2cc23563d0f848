// @database-free: the CSV quoting and the ZIP writer are pure; the archive is read back with yauzl and unzip.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openZip } from '../importers/zip-reader.ts';
import type { TranscriptMessage } from '../transcript.schema.ts';
import { ByteChunks } from './byte-chunks.ts';
import { csvCell, csvRow, TRANSCRIPT_EXCERPT, transcriptPlainText, transcriptSummary } from './csv.ts';
import { splitTranscript } from './export.queries.ts';
import { DeflateSpool, ZipWriter } from './zip-writer.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-export-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const hasUnzip = spawnSync('unzip', ['-v']).status === 0;

/** A CSV parser written from RFC 4180, to read back what csvRow wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += ch;
  }
  return rows;
}

describe('CSV cells', () => {
  it('quotes commas, quotes and line breaks (RFC 4180) and reads back unchanged', () => {
    const values = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', '', 'ünïcødé ✓'];
    const line = csvRow(values);
    assert.equal(line, 'plain,"a,b","say ""hi""","two\nlines","cr\r\nlf",,ünïcødé ✓\r\n');
    assert.deepEqual(parseCsv(line), [values]);
  });

  it('defuses spreadsheet formulas with an apostrophe, leaves numbers and other text alone', () => {
    assert.equal(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
    assert.deepEqual(['+1', '-2', '@SUM(A1)', '\tx', 'a=b', 'mail@x.org'].map(csvCell), ["'+1", "'-2", "'@SUM(A1)", "'\tx", 'a=b', 'mail@x.org']);
    assert.deepEqual([csvCell(-3), csvCell(0.5), csvCell(null), csvCell(undefined)], ['-3', '0.5', '', '']);
  });
});

describe('Encoding a batch', () => {
  it('ByteChunks writes UTF-8 across buffer ends exactly as one encoded string', () => {
    const texts = ['plain ascii ', 'ünïcødé ✓ ', '😀 astral ', 'x'.repeat(50), '', 'lone \ud800 surrogate', '日本語'.repeat(30)];
    const out = new ByteChunks(64);
    for (let i = 0; i < 40; i++) out.write(texts[i % texts.length]!);
    const chunks = out.take();
    assert.ok(chunks.length > 5, `several buffers (${chunks.length})`);
    assert.ok(chunks.every((c) => c.length > 0));
    const whole = Array.from({ length: 40 }, (_, i) => texts[i % texts.length]!).join('');
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(whole, 'utf8'));
    assert.deepEqual(out.take(), [], 'take empties it');
  });

  it('transcriptSummary gives the plain text\'s excerpt, length and sha256 without building it', () => {
    const long = 'word '.repeat(400);
    const messages = [
      { id: 'm1', role: 'system', parts: [{ type: 'text', text: 'Be brief. ✓' }] },
      { id: 'm2', role: 'user', parts: [{ type: 'text', text: long }, { type: 'image', url: 'http://x/y.png' }, { type: 'text', text: '😀 ünï' }] },
      { id: 'm3', role: 'assistant', parts: [{ type: 'reasoning', text: 'think' }, { type: 'tool_call', name: 'f', arguments: '{"a":1}' }, { type: 'text', text: long }] },
    ] as TranscriptMessage[];
    const text = transcriptPlainText(messages);
    assert.ok(text.length > TRANSCRIPT_EXCERPT);
    const summary = transcriptSummary(messages);
    assert.deepEqual(summary, { excerpt: text.slice(0, TRANSCRIPT_EXCERPT), chars: text.length, sha256: createHash('sha256').update(text, 'utf8').digest('hex') });
    const short = [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }] as TranscriptMessage[];
    assert.deepEqual(transcriptSummary(short), { excerpt: 'user: hi', chars: 8, sha256: createHash('sha256').update('user: hi').digest('hex') });
  });

  it('splitTranscript cuts the messages out of the text PostgreSQL prints, and parses any other shape', () => {
    const messages = '[{"id": "m1", "role": "user", "parts": [{"text": "a \\"quoted\\" ]} text", "type": "text"}]}]';
    assert.deepEqual(splitTranscript(`{"format": "openai-chat", "messages": ${messages}}`), { transcriptFormat: 'openai-chat', messagesJson: messages });
    const compact = splitTranscript('{"messages":[{"id":"m1","role":"user","parts":[]}],"format":"plain"}');
    assert.deepEqual(compact, { transcriptFormat: 'plain', messagesJson: '[{"id":"m1","role":"user","parts":[]}]' });
  });
});

async function writeZip(file: string, build: (zip: ZipWriter) => Promise<void>, options: { zip64Threshold?: number } = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const zip = new ZipWriter(async (c) => void chunks.push(c), { date: new Date('2026-03-04T05:06:08Z'), ...options });
  await build(zip);
  await zip.finish();
  const bytes = Buffer.concat(chunks);
  assert.equal(bytes.length, zip.bytesWritten);
  writeFileSync(file, bytes);
  return bytes;
}

async function readAll(file: string): Promise<Map<string, string>> {
  const archive = await openZip({ path: file }, path.basename(file));
  try {
    const out = new Map<string, string>();
    for (const e of archive.entries) out.set(e.name, (await e.read()).toString('utf8'));
    return out;
  } finally {
    archive.close();
  }
}

describe('ZIP writer', () => {
  const big = Array.from({ length: 20_000 }, (_, i) => `{"line":${i},"text":"${'x'.repeat(i % 97)}"}\n`);

  it('streams deflated entries with data descriptors, pre-compressed entries and UTF-8 names that yauzl and unzip read', async () => {
    const file = path.join(dir, 'a.zip');
    const spool = new DeflateSpool(path.join(dir, 'spool.deflate'));
    await spool.write('id,title\r\n');
    await spool.write('1,"a,b"\r\n');
    await writeZip(file, async (zip) => {
      await zip.addStream('observations.jsonl', (async function* () {
        for (let i = 0; i < big.length; i += 1000) yield big.slice(i, i + 1000).join('');
      })());
      await zip.addPrecompressed('codings.csv', await spool.finish());
      await zip.addBuffer('ethograms/menagerie-core-v1.json', '{"format":"menagerie.ethogram/v1"}\n');
      await zip.addBuffer('empty.txt', '');
      await zip.addBuffer('résumé.md', '# ✓\n');
    });
    const files = await readAll(file);
    assert.deepEqual([...files.keys()], ['observations.jsonl', 'codings.csv', 'ethograms/menagerie-core-v1.json', 'empty.txt', 'résumé.md']);
    assert.equal(files.get('observations.jsonl'), big.join(''));
    assert.equal(files.get('codings.csv'), 'id,title\r\n1,"a,b"\r\n');
    assert.equal(files.get('empty.txt'), '');
    assert.equal(files.get('résumé.md'), '# ✓\n');
    if (hasUnzip) {
      const tested = execFileSync('unzip', ['-t', file]).toString();
      assert.match(tested, /No errors detected/);
      assert.equal(execFileSync('unzip', ['-p', file, 'observations.jsonl'], { maxBuffer: 16 << 20 }).toString(), big.join(''));
    }
  });

  it('takes a batch\'s buffers as one piece, in the stream and in a spool, in order', async () => {
    const file = path.join(dir, 'pieces.zip');
    const spool = new DeflateSpool(path.join(dir, 'pieces.deflate'), 1);
    const batches = Array.from({ length: 30 }, (_, b) => Array.from({ length: 5 }, (_, i) => Buffer.from(`${b}.${i} ${'é'.repeat((b * 7 + i) % 50)}\n`)));
    await writeZip(file, async (zip) => {
      await zip.addStream('lines.txt', (async function* () {
        for (const batch of batches) {
          await spool.write(batch);
          yield batch;
        }
      })());
      await zip.addPrecompressed('copy.txt', await spool.finish());
    });
    const files = await readAll(file);
    const expected = Buffer.concat(batches.flat()).toString('utf8');
    assert.equal(files.get('lines.txt'), expected);
    assert.equal(files.get('copy.txt'), expected);
    if (hasUnzip) assert.match(execFileSync('unzip', ['-t', file]).toString(), /No errors detected/);
  });

  it('writes ZIP64 records for sizes and offsets past the limit (lowered here), still readable', async () => {
    const file = path.join(dir, 'z64.zip');
    const bytes = await writeZip(file, async (zip) => {
      await zip.addBuffer('one.txt', 'x'.repeat(5000));
      await zip.addBuffer('two.txt', 'hello');
    }, { zip64Threshold: 100 });
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'has a ZIP64 end record');
    assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07])), 'has a ZIP64 locator');
    const files = await readAll(file);
    assert.equal(files.get('one.txt'), 'x'.repeat(5000));
    assert.equal(files.get('two.txt'), 'hello');
    if (hasUnzip) assert.match(execFileSync('unzip', ['-t', file]).toString(), /No errors detected/);
  });

  it('stops with the sink: a failing destination rejects and the source is not read to the end', async () => {
    let produced = 0;
    const zip = new ZipWriter(async (c) => {
      if (c.length > 1000) throw new Error('client went away');
    });
    await assert.rejects(
      zip.addStream('x.jsonl', (async function* () {
        for (let i = 0; i < 10_000; i++) {
          produced++;
          yield Buffer.from(`${Math.random()}`.repeat(2000));
        }
      })()),
      /client went away/,
    );
    assert.ok(produced < 10_000, `the source stopped early (${produced} chunks)`);
  });
});
