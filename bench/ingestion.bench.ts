import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { sha256Hex } from '../core/sha256.ts';
import { openDatabase } from '../server/db/client.ts';
import { parseTranscript } from '../observations/transcript/parse-transcript.ts';
import { transcriptFingerprint } from '../observations/similar/fingerprint-pending.ts';
import { startAppProcess } from './lib/app-process.ts';
import { runLoad } from './lib/load.ts';
import { cpuSince, cpuSnapshot, describeCpu } from './lib/process-stats.ts';
import type { PgServer } from './lib/postgres-server.ts';
import { percentile, type Figure } from './lib/stats.ts';
import { observationPayload, rng } from './lib/transcripts.ts';

const CONCURRENCY = 32;

/** Pre-generated request bodies (generation stays out of the timed loop). */
function payloads(n: number) {
  const rand = rng(42);
  return Array.from({ length: n }, (_, i) => JSON.stringify(observationPayload(rand, i)));
}

/** The row the app would write for a payload, prepared ahead so the baseline measures only the INSERT. */
function baselineRow(body: string) {
  const p = JSON.parse(body);
  const raw = typeof p.transcript === 'string' ? p.transcript : JSON.stringify(p.transcript);
  const parsed = parseTranscript(raw, 'auto');
  if (!parsed.ok) throw new Error('bench payload does not parse');
  return [
    p.title, p.surprise, p.provider, p.model, p.modelVersion,
    JSON.stringify({ capture: 'api', interface: p.interface, sampling: p.sampling }),
    p.observedAt, raw, sha256Hex(raw), JSON.stringify(parsed.transcript), p.tags,
  ];
}

// The same row the app writes at ingestion: the headline search vector, the transcript left to the indexer.
const INSERT = `insert into observations (title, surprise, provider, model, model_version, provenance, observed_at, submitted_by,
  raw_payload, raw_sha256, transcript, tags, search, search_pending, visibility)
  values ($1, $2, $3, $4, $5, $6, $7, $12, $8, $9, $10, $11,
  setweight(to_tsvector('english', $1), 'A') || setweight(to_tsvector('english', $2), 'B'), true, 'members')`;

async function plainInsertRate(rows: unknown[][], query: (text: string, values: unknown[]) => Promise<unknown>, concurrency: number, userId: string) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        await query(INSERT, [...row, userId]);
      }
    }),
  );
  return rows.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function makeUser(db: { execute: (q: ReturnType<typeof sql>) => Promise<unknown> }): Promise<string> {
  const r = (await db.execute(sql`insert into users (email, display_name, password_hash, role) values ('base@example.org', 'base', 'x', 'admin') returning id`)) as { rows: { id: string }[] };
  return r.rows[0]!.id;
}

export async function ingestionOnPostgres(server: PgServer, total: number): Promise<{ figures: Figure[]; appUrl: string; token: string; stop: () => Promise<void>; dbUrl: string }> {
  const bodies = payloads(Math.min(total, 4000));
  const rows = bodies.map(baselineRow);

  // Baseline: plain pg INSERTs of the same rows, 32 connections, same schema and indexes.
  const baseUrl = await server.createDatabase('menagerie_bench_baseline');
  const baseDb = await openDatabase({ databaseUrl: baseUrl, poolSize: 2 });
  await baseDb.migrate();
  const baseUser = await makeUser(baseDb.db as never);
  await baseDb.close();
  const pool = new pg.Pool({ connectionString: baseUrl, max: CONCURRENCY });
  const allRows = Array.from({ length: total }, (_, i) => rows[i % rows.length]!);
  await plainInsertRate(allRows.slice(0, 500), (t, v) => pool.query(t, v), CONCURRENCY, baseUser);
  const baselineCpu0 = cpuSnapshot();
  const baselineRate = await plainInsertRate(allRows, (t, v) => pool.query(t, v), CONCURRENCY, baseUser);
  const baselineCpu = cpuSince(baselineCpu0);
  await pool.end();

  // The app: the real server in its own process, its own database.
  const dbUrl = await server.createDatabase('menagerie_bench_app');
  const app = await startAppProcess({ DATABASE_URL: dbUrl });
  const request = (i: number) => ({ method: 'POST', path: '/api/v1/observations', body: bodies[i % bodies.length]!, headers: { authorization: `Bearer ${app.token}` } });
  await runLoad({ url: app.url, concurrency: CONCURRENCY, total: 1000, request, expectStatus: 201 });
  const rssIdle = app.rssMb();
  const loadCpu0 = cpuSnapshot(app.pid);
  const load = await runLoad({ url: app.url, concurrency: CONCURRENCY, total, request, expectStatus: 201 });
  const loadCpu = cpuSince(loadCpu0);
  if (load.errors) console.log(`  ingestion errors: ${load.errors} (statuses ${JSON.stringify(load.statuses)})`);
  const p99 = percentile(load.latenciesMs, 99);
  const rssAfter = app.rssMb();
  const lag = await searchIndexLag(dbUrl);
  console.log(`  PostgreSQL ingestion: ${load.count} observations in ${load.seconds.toFixed(1)} s; p50 ${percentile(load.latenciesMs, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; plain INSERT ${baselineRate.toFixed(0)}/s`);
  // Which part is the limit: the server's main thread busy (plus waiting for a core) near 1.00 means JavaScript's
  // one thread is; the machine near its core count means the CPU as a whole is.
  console.log(`  cores busy (of ${availableParallelism()}) during the burst: ${describeCpu(loadCpu, { server: 'server', postgres: true })}; during the plain INSERTs: ${describeCpu(baselineCpu, { postgres: true })}`);
  return {
    dbUrl,
    appUrl: app.url,
    token: app.token,
    stop: app.stop,
    figures: [
      { name: 'ingest rate (PostgreSQL)', value: load.rate, unit: 'obs/s', baselineName: 'plain pg INSERT', baseline: baselineRate, target: '>= 1000/s and >= 0.40 x baseline', pass: load.rate >= 1000 && load.rate >= 0.4 * baselineRate && load.errors === 0 },
      { name: 'ingest p99 latency (PostgreSQL)', value: p99, unit: 'ms', baselineName: 'p50 same run', baseline: percentile(load.latenciesMs, 50), target: '< 100 ms', pass: p99 < 100 },
      { name: 'transcripts searchable and fingerprinted after the burst', value: lag, unit: 's', baselineName: 'ingestion run', baseline: load.seconds, target: '(no target: indexing lag)', pass: true },
      { name: 'server RSS after ingestion', value: rssAfter, unit: 'MB', baselineName: 'RSS after warm-up', baseline: rssIdle, target: '< 300 MB', pass: rssAfter < 300 },
      fingerprintCost(bodies),
    ],
  };
}

/**
 * What the near-duplicate fingerprint costs the search indexer, which fingerprints each new transcript as it indexes
 * it: microseconds per transcript of the bench's bodies, beside parsing the same transcript (which recording does).
 */
function fingerprintCost(bodies: string[]): Figure {
  const texts = bodies.map((b) => {
    const p = JSON.parse(b);
    return typeof p.transcript === 'string' ? p.transcript : JSON.stringify(p.transcript);
  });
  const time = (work: (raw: string) => unknown) => {
    for (const t of texts.slice(0, 200)) work(t); // warm up
    const t0 = process.hrtime.bigint();
    for (const t of texts) work(t);
    return Number(process.hrtime.bigint() - t0) / 1e3 / texts.length;
  };
  const read = (raw: string) => {
    const parsed = parseTranscript(raw, 'auto');
    if (!parsed.ok) throw new Error('bench payload does not parse');
    return parsed.transcript;
  };
  const parsing = time(read);
  const transcripts = texts.map(read);
  let i = 0;
  const printing = time(() => transcriptFingerprint(transcripts[i++ % transcripts.length]!));
  console.log(`  near-duplicate fingerprint: ${printing.toFixed(0)} µs per transcript (parsing it: ${parsing.toFixed(0)} µs), over ${texts.length} transcripts of 2-20 KB`);
  return { name: 'fingerprint per transcript (2-20 KB)', value: printing, unit: 'µs', baselineName: 'parsing the transcript', baseline: parsing, target: '(no target: the indexer\'s cost)', pass: true };
}

/** Seconds from the end of an ingestion burst until the search indexer has caught up (no transcript waiting for the index or a fingerprint). */
async function searchIndexLag(dbUrl: string): Promise<number> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  const t0 = Date.now();
  while ((await c.query<{ n: number }>('select count(*)::int as n from observations where search_pending or (minhash is null and deleted_at is null)')).rows[0]!.n > 0) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await c.end();
  return (Date.now() - t0) / 1000;
}

export async function ingestionOnPglite(total: number): Promise<Figure[]> {
  const bodies = payloads(Math.min(total, 2000));
  const rows = bodies.map(baselineRow);
  // Baseline: plain INSERTs into an in-process PGlite with the same schema.
  const client = await PGlite.create();
  const base = await openDatabase({ pglite: client });
  await base.migrate();
  const userId = await makeUser(base.db as never);
  const allRows = Array.from({ length: total }, (_, i) => rows[i % rows.length]!);
  const baselineRate = await plainInsertRate(allRows, (t, v) => client.query(t, v), CONCURRENCY, userId);
  await base.close();

  const dataDir = mkdtempSync(path.join(tmpdir(), 'menagerie-bench-pglite-'));
  const app = await startAppProcess({ MENAGERIE_DATA_DIR: dataDir });
  const request = (i: number) => ({ method: 'POST', path: '/api/v1/observations', body: bodies[i % bodies.length]!, headers: { authorization: `Bearer ${app.token}` } });
  await runLoad({ url: app.url, concurrency: CONCURRENCY, total: 300, request, expectStatus: 201 });
  const loadCpu0 = cpuSnapshot(app.pid);
  const load = await runLoad({ url: app.url, concurrency: CONCURRENCY, total, request, expectStatus: 201 });
  const loadCpu = cpuSince(loadCpu0);
  if (load.errors) console.log(`  PGlite ingestion errors: ${load.errors} (statuses ${JSON.stringify(load.statuses)})`);
  console.log(`  PGlite ingestion: ${load.count} observations in ${load.seconds.toFixed(1)} s; p99 ${percentile(load.latenciesMs, 99).toFixed(1)} ms`);
  console.log(`  cores busy (of ${availableParallelism()}) during the burst: ${describeCpu(loadCpu, { server: 'server with PGlite inside', postgres: false })}`);
  await app.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return [
    { name: 'ingest rate (PGlite)', value: load.rate, unit: 'obs/s', baselineName: 'plain PGlite INSERT', baseline: baselineRate, target: '>= 300/s', pass: load.rate >= 300 && load.errors === 0 },
  ];
}
