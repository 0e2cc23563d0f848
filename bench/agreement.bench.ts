import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../core/db.ts';
import { computeAgreementReport } from '../observations/agreement/agreement-report.ts';
import { loadAgreementData } from '../observations/agreement/agreement.queries.ts';
import { loadStarterEthogram } from '../ethograms/load-starter.ts';
import { openDatabase, type Database } from '../server/db/client.ts';
import type { PgServer } from './lib/postgres-server.ts';
import type { Figure } from './lib/stats.ts';

const TARGET_MS = 1000;
const CODERS = 4;
const BEHAVIOURS = 6;

/**
 * The agreement target: figures over 10,000 people's codings (2,500 observations, each coded by 4 coders with one
 * of 6 behaviours, mostly agreeing, some with spans) plus 2,500 classifier proposals, inserted into a real database,
 * computed in under 1 s through exactly what the page runs (`loadAgreementData` + `computeAgreementReport`).
 * Baseline from the same run: the bare SELECT of those codings. On PGlite, and on PostgreSQL when a server is at hand.
 */
export async function agreementBench(server: PgServer | null, quick: boolean): Promise<Figure[]> {
  const observations = quick ? 500 : 2500;
  const figures: Figure[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-bench-agreement-'));
  try {
    const lite = await openDatabase({ dataDir: dir, pgliteInProcess: false });
    figures.push(...(await measure(lite, 'PGlite', observations, quick)));
    if (server) {
      const pg = await openDatabase({ databaseUrl: await server.createDatabase('menagerie_bench_agreement'), poolSize: 4 });
      figures.push(...(await measure(pg, 'PostgreSQL', observations, quick)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

async function measure(database: Database, label: string, observations: number, quick: boolean): Promise<Figure[]> {
  try {
    await database.migrate();
    const versionId = await seed(database.db, observations);
    const codings = Number(rowsOf<{ n: number }>(await database.db.execute(sql`SELECT count(*)::int AS n FROM codings`))[0]!.n);
    console.log(`  ${label}: ${observations} observations, ${codings} codings (${observations * CODERS} by people)`);

    const bare = await medianMs(() => database.db.execute(sql`SELECT observation_id, behaviour_id, coder_id, classifier_id, message_id, part_index, char_start, char_end
      FROM codings WHERE ethogram_version_id = ${versionId}::uuid AND withdrawn_at IS NULL`));
    let query = 0;
    let report: ReturnType<typeof computeAgreementReport> | null = null;
    const full = await medianMs(async () => {
      const t0 = performance.now();
      const data = await loadAgreementData(database.db, { version: versionId });
      query = performance.now() - t0;
      report = computeAgreementReport(data);
    });
    const r = report!;
    console.log(`  ${label}: bare SELECT ${bare.toFixed(0)} ms; query ${query.toFixed(0)} ms + figures = ${full.toFixed(0)} ms (alpha overall ${r.observation.overall.alpha.value?.toFixed(3)}, ${r.coders.length} coders, ${r.behaviours.length} behaviours)`);
    const name = `agreement over ${observations * CODERS} codings + ${observations} proposals (${label})`;
    return [
      quick
        ? { name, value: full, unit: 'ms', baselineName: 'bare SELECT of the codings', baseline: bare, target: '(quick run: the target is for 10,000)', pass: r.ratedObservations === observations }
        : { name, value: full, unit: 'ms', baselineName: 'bare SELECT of the codings', baseline: bare, target: `< ${TARGET_MS} ms`, pass: full < TARGET_MS && r.ratedObservations === observations },
    ];
  } finally {
    await database.close();
  }
}

/** Median of five timed runs after one warm-up. */
async function medianMs(work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[2]!;
}

/**
 * Writes the data in a few set-based statements: the starter ethogram, 4 coders and an admin, the observations,
 * then each coder's coding of each observation. Coders agree on about 70% of observations (the behaviour follows
 * the observation) and otherwise pick their own; half the codings carry a span. A rules classifier proposes the
 * observation's behaviour on each.
 */
export async function seed(db: Db, observations: number): Promise<string> {
  await loadStarterEthogram(db, () => new Date());
  const [version] = rowsOf<{ id: string }>(await db.execute(sql`SELECT id::text AS id FROM ethogram_versions WHERE status = 'published' LIMIT 1`));
  const versionId = version!.id;
  await db.execute(sql`INSERT INTO users (email, display_name, password_hash, role)
    SELECT 'coder' || g || '@bench.example', 'Coder ' || g, 'x', 'researcher' FROM generate_series(0, ${CODERS}) g`);
  const transcript = JSON.stringify({ messages: [{ id: 'm1', role: 'assistant', parts: [{ type: 'text', text: 'I cannot help with that request, sorry.' }] }] });
  await db.execute(sql`INSERT INTO observations (title, surprise, provider, model, provenance, observed_at, submitted_by, raw_payload, raw_sha256, transcript, search)
    SELECT 'Bench observation ' || g, 'surprise', 'openai', 'gpt-4o', '{"capture":"form"}'::jsonb, now() - g * interval '1 minute',
      (SELECT id FROM users WHERE display_name = 'Coder 0'), 'raw', md5(g::text), ${transcript}::jsonb, to_tsvector('simple', 'bench')
    FROM generate_series(1, ${observations}) g`);
  await db.execute(sql`CREATE TEMP TABLE bench_obs AS SELECT id, row_number() OVER (ORDER BY title) AS i FROM observations`);
  await db.execute(sql`CREATE TEMP TABLE bench_beh AS SELECT id, row_number() OVER (ORDER BY position, code) - 1 AS j FROM behaviours
    WHERE version_id = ${versionId}::uuid ORDER BY position, code LIMIT ${BEHAVIOURS}`);
  await db.execute(sql`CREATE TEMP TABLE bench_coders AS SELECT id, (substring(display_name from 7))::int AS c FROM users WHERE display_name LIKE 'Coder %' AND display_name <> 'Coder 0'`);
  await db.execute(sql`INSERT INTO codings (observation_id, ethogram_version_id, behaviour_id, coder_id, method, status, message_id, part_index, char_start, char_end)
    SELECT o.id, ${versionId}::uuid, b.id, k.id, 'manual', 'accepted',
      CASE WHEN (o.i + k.c) % 2 = 0 THEN 'm1' END, CASE WHEN (o.i + k.c) % 2 = 0 THEN 0 END,
      CASE WHEN (o.i + k.c) % 2 = 0 THEN k.c END, CASE WHEN (o.i + k.c) % 2 = 0 THEN 20 + k.c END
    FROM bench_obs o CROSS JOIN bench_coders k
    JOIN bench_beh b ON b.j = CASE WHEN (o.i * 31 + k.c * 17) % 10 < 7 THEN o.i % ${BEHAVIOURS} ELSE (o.i + k.c) % ${BEHAVIOURS} END`);
  const [admin] = rowsOf<{ id: string }>(await db.execute(sql`SELECT id::text AS id FROM users WHERE display_name = 'Coder 0'`));
  const [classifier] = rowsOf<{ id: string }>(
    await db.execute(sql`INSERT INTO classifiers (kind, name, ethogram_version_id, created_by) VALUES ('rules', 'Bench rules', ${versionId}::uuid, ${admin!.id}::uuid) RETURNING id::text AS id`),
  );
  await db.execute(sql`INSERT INTO codings (observation_id, ethogram_version_id, behaviour_id, coder_id, method, status, classifier_id)
    SELECT o.id, ${versionId}::uuid, b.id, ${admin!.id}::uuid, 'rule', 'proposed', ${classifier!.id}::uuid
    FROM bench_obs o JOIN bench_beh b ON b.j = CASE WHEN o.i % 5 = 0 THEN (o.i + 1) % ${BEHAVIOURS} ELSE o.i % ${BEHAVIOURS} END`);
  await db.execute(sql`ANALYZE codings`);
  return versionId;
}
