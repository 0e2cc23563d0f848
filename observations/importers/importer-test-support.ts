import { crc32, deflateRawSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { importRecords } from './import-records.ts';
import type { ImportFailure, ImportOptions, ImportedRecord, ImportFormat } from './import-types.ts';

/** Test helper: import a text (streamed in small chunks, as an upload arrives) and split records from failures. */
export async function importText(fileName: string, text: string | Buffer, options: ImportOptions & { chunkSize?: number } = {}) {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return collect(importRecords({ stream: chunked(bytes, options.chunkSize ?? 7), fileName }, options));
}

export async function collect(results: AsyncIterable<ImportedRecord | ImportFailure>) {
  const records: ImportedRecord[] = [];
  const failures: ImportFailure[] = [];
  for await (const result of results) {
    if (result.kind === 'record') records.push(result);
    else failures.push(result);
  }
  return { records, failures };
}

/** A stream that hands out `bytes` in chunks of `size`, so parsers meet records split across chunks. */
export function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

/** The parts of a record's transcript as `[role, partType, text?]` rows, for compact assertions. */
export function shape(record: ImportedRecord): string[] {
  return record.transcript.messages.flatMap((m) =>
    m.parts.map((p) => {
      const text = 'text' in p ? p.text : p.type === 'tool_call' ? `${p.name}(${p.arguments})` : p.type === 'other' ? p.originalType : p.type === 'image' ? (p.url ?? p.mediaType ?? '') : '';
      return `${m.role}:${p.type}:${text}`;
    }),
  );
}

export function only(records: ImportedRecord[], format?: ImportFormat): ImportedRecord {
  if (records.length !== 1) throw new Error(`expected one record, got ${records.length}`);
  const record = records[0]!;
  if (format && record.format !== format) throw new Error(`expected format ${format}, got ${record.format}`);
  return record;
}

export type ZipFileSpec = { name: string; data: Buffer; method?: 0 | 8 | 93; compressed?: Buffer };

/** A minimal ZIP writer (stored, deflate, or pre-compressed Zstandard entries) for .eval fixtures. */
export function makeZip(files: ZipFileSpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const method = file.method ?? 8;
    const body = file.compressed ?? (method === 8 ? deflateRawSync(file.data) : file.data);
    const name = Buffer.from(file.name, 'utf8');
    const crc = crc32(file.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(method === 93 ? 63 : 20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(63, 4);
    central.writeUInt16LE(method === 93 ? 63 : 20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(file.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const centralBytes = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralBytes, end]);
}
