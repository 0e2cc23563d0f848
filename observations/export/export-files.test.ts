// @database-free: the CSV quoting and the ZIP writer are pure; the archive is read back with yauzl and unzip.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openZip } from '../importers/zip-reader.ts';
import { csvCell, csvRow } from './csv.ts';
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
