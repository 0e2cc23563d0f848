import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql, type SQL } from 'drizzle-orm';
import { rowsOf } from '../core/db.ts';
import { importRecords, type ImportedRecord } from '../observations/importers/index.ts';
import { headlineVectorSql } from '../observations/observation-text.ts';
import { openDatabase } from '../server/db/client.ts';
import { writeChatGPTExport } from './lib/chatgpt-export.ts';
import type { PgServer } from './lib/postgres-server.ts';
import type { Figure } from './lib/stats.ts';

const run = promisify(execFile);
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/menagerie.js');
/** The target for 10,000 conversations on PGlite, the command's start and the database's opening included. */
const TARGET_SECONDS = 30;

/**
 * The import target: a generated 10,000-conversation ChatGPT export (tree mappings with edits and regenerations
 * as branches, tool calls, thoughts, images; about 8.6 KB a conversation) imported with `menagerie import` on
 * PGlite, as a person would run it (its own process, the database opened from its data folder), in under 30 s.
 * Beside it, from the same run: the time to read the file through the importer without writing (what parsing
 * alone costs), and plain INSERTs of the same rows into PGlite (the database's floor, without duplicate checks or
 * events). A re-import (every record a duplicate) and, when a PostgreSQL server is at hand, the same import on it.
 */
export async function importBench(server: PgServer | null, quick: boolean): Promise<Figure[]> {
  const conversations = quick ? 1000 : 10_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-bench-import-'));
  try {
    const file = path.join(dir, 'conversations.json');
    const generated = await writeChatGPTExport(file, conversations);
    console.log(`  export: ${conversations} conversations, ${generated.messages} messages, ${(generated.bytes / 1e6).toFixed(1)} MB`);

    const parseSeconds = await timed(async () => {
      let records = 0;
      for await (const result of importRecords({ path: file })) if (result.kind === 'record') records++;
      if (records !== conversations) throw new Error(`the importer read ${records} of ${conversations} conversations`);
    });
    console.log(`  parse only (importer, no writes): ${parseSeconds.toFixed(1)} s`);

    const plainRate = await plainInsertRate(file, Math.min(conversations, 2000));
    console.log(`  plain INSERT of the same rows into PGlite: ${plainRate.toFixed(0)} rows/s`);

    // PGlite, through the command.
    const env = { ...process.env, LOG_LEVEL: 'error', MENAGERIE_DATA_DIR: path.join(dir, 'data') } as NodeJS.ProcessEnv;
    delete env.DATABASE_URL;
    await run(process.execPath, [bin, 'admin', 'create', 'bench@example.org'], { env });
    const first = await importWithCommand(file, env, conversations);
    console.log(`  menagerie import on PGlite: ${first.imported} imported in ${first.seconds.toFixed(1)} s (${(conversations / first.seconds).toFixed(0)} records/s)`);
    const again = await importWithCommand(file, env, 0);
    console.log(`  the same file again: ${again.duplicates} duplicates in ${again.seconds.toFixed(1)} s`);

    const figures: Figure[] = [
      quick
        ? { name: `import ${conversations} ChatGPT conversations (PGlite)`, value: first.seconds, unit: 's', baselineName: 'parse only', baseline: parseSeconds, target: '(quick run: the target is for 10,000)', pass: first.imported === conversations }
        : { name: `import ${conversations} ChatGPT conversations (PGlite)`, value: first.seconds, unit: 's', baselineName: 'parse only', baseline: parseSeconds, target: `< ${TARGET_SECONDS} s`, pass: first.seconds < TARGET_SECONDS },
      { name: 'import rate (PGlite)', value: conversations / first.seconds, unit: 'records/s', baselineName: 'plain PGlite INSERT', baseline: plainRate, target: '(none: the floor)', pass: true },
      { name: 're-import, all duplicates (PGlite)', value: again.seconds, unit: 's', baselineName: 'parse only', baseline: parseSeconds, target: '(none)', pass: again.duplicates === conversations },
    ];

    if (server) {
      const url = await server.createDatabase('menagerie_bench_import');
      const pgEnv = { ...env, DATABASE_URL: url };
      await run(process.execPath, [bin, 'admin', 'create', 'bench@example.org'], { env: pgEnv });
      const onPg = await importWithCommand(file, pgEnv, conversations);
      console.log(`  menagerie import on PostgreSQL: ${onPg.imported} imported in ${onPg.seconds.toFixed(1)} s (${(conversations / onPg.seconds).toFixed(0)} records/s)`);
      figures.push({ name: `import ${conversations} ChatGPT conversations (PostgreSQL)`, value: onPg.seconds, unit: 's', baselineName: 'parse only', baseline: parseSeconds, target: '(no target)', pass: onPg.imported === conversations });
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timed(work: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** `menagerie import FILE` as its own process: wall time from start to exit, and what it reported. */
async function importWithCommand(file: string, env: NodeJS.ProcessEnv, expectImported: number): Promise<{ seconds: number; imported: number; duplicates: number }> {
  let stdout = '';
  const seconds = await timed(async () => {
    stdout = (await run(process.execPath, [bin, 'import', file], { env, maxBuffer: 16 * 1024 * 1024 })).stdout;
  });
  const imported = Number(/Imported (\d+) observation/.exec(stdout)?.[1] ?? NaN);
  const duplicates = Number(/Duplicates skipped: (\d+)/.exec(stdout)?.[1] ?? NaN);
  if (imported !== expectImported) throw new Error(`menagerie import filed ${imported} records, expected ${expectImported}:\n${stdout}`);
  return { seconds, imported, duplicates };
}

/**
 * Rows per second for plain single-row INSERTs of the same records into a fresh PGlite in a worker thread (as the
 * command runs it), eight statements waiting at once as the import keeps them: rows built ahead, no duplicate
 * look-up, no event row, no unique index arbitration.
 */
async function plainInsertRate(file: string, rows: number): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-bench-plain-'));
  const database = await openDatabase({ dataDir: dir });
  try {
    await database.migrate();
    const db = database.db;
    const [user] = rowsOf<{ id: string }>(await db.execute(sql`INSERT INTO users (email, display_name, password_hash, role) VALUES ('plain@example.org', 'plain', 'x', 'admin') RETURNING id`));
    const records: ImportedRecord[] = [];
    for await (const result of importRecords({ path: file })) {
      if (result.kind === 'record') records.push(result);
      if (records.length >= rows) break;
    }
    const now = new Date().toISOString();
    const statements: SQL[] = records.map(
      (r) => sql`INSERT INTO observations (title, surprise, visibility, provider, model, provenance, observed_at, submitted_by, raw_payload, raw_sha256, transcript, search, search_pending, created_at, updated_at)
        VALUES (${r.title}, ${'Imported.'}, 'members', 'openai', ${r.model ?? 'unknown'}, ${JSON.stringify(r.provenance)}::jsonb, ${now}::timestamptz, ${user!.id}::uuid,
          ${r.raw}, ${r.rawSha256}, ${JSON.stringify(r.transcript)}::jsonb, ${headlineVectorSql(r.title, 'Imported.')}, true, ${now}::timestamptz, ${now}::timestamptz)`,
    );
    let next = 0;
    const seconds = await timed(async () => {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < statements.length) await db.execute(statements[next++]!);
        }),
      );
    });
    return statements.length / seconds;
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
