import { readFileSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { startAppProcess, type AppProcess } from './lib/app-process.ts';
import { allProcessesCpu, cpuSeconds, machineCpu } from './lib/process-stats.ts';
import type { PgServer } from './lib/postgres-server.ts';
import type { Figure } from './lib/stats.ts';
import { prose, rng, TAGS } from './lib/transcripts.ts';

/** The target: exports stream at least this many observations a second, with flat memory. */
const TARGET_RATE = 5000;
/** Distinct transcripts generated in JavaScript; the rows reuse them (inserting 1 GB from here would take minutes). */
const POOL = 400;
const PROVIDERS = [['openai', 'gpt-4o'], ['anthropic', 'claude-sonnet-4'], ['google', 'gemini-2.0-flash'], ['local', 'llama-3.1-8b-instruct'], ['deepseek', 'deepseek-r1']] as const;

/**
 * The export target: 100,000 observations (transcripts of 2-20 KB, about 11 KB on average) with 300,000 codings
 * on the PostgreSQL server, exported through the real server process (`menagerie serve`) as JSONL and as the ZIP
 * dataset, read by a plain HTTP client here. Figures: observations per second (target >= 5,000), and the
 * server's RSS sampled every 50 ms during the export, its peak minus its level before, for a fifth of the set
 * (one provider of five: `?provider=`) and for the whole set, which must not grow with the count. Baseline from
 * the same run: a plain server-side cursor (DECLARE ... FETCH 1000) reading the same observation and coding rows
 * with node-postgres, nothing serialised.
 */
export async function exportBench(server: PgServer | null, quick: boolean): Promise<Figure[]> {
  if (!server) {
    console.log('  no PostgreSQL server: export figures skipped');
    return [];
  }
  const total = quick ? 20_000 : 100_000;
  const dbUrl = await server.createDatabase('menagerie_bench_export');
  const app = await startAppProcess({ DATABASE_URL: dbUrl });
  try {
    const seeded = await seed(dbUrl, total);
    console.log(`  seeded ${seeded.observations} observations (${(seeded.transcriptBytes / 1e9).toFixed(2)} GB of transcripts) and ${seeded.codings} codings in ${seeded.seconds.toFixed(0)} s`);
    const baseline = await cursorRead(dbUrl);
    console.log(`  baseline: plain cursor read of the same rows: ${baseline.observations} observations + ${baseline.codings} codings in ${baseline.seconds.toFixed(1)} s (${(baseline.observations / baseline.seconds).toFixed(0)} observations/s)`);

    // Warm up (code paths, plans, and the heap: V8 grows it during the first large export whatever its size), so
    // the growth compared below is each export's own.
    await download(app, `/api/v1/observations/export.jsonl?provider=${PROVIDERS[1][0]}`);
    const whole = await measure(app, dbUrl, '/api/v1/observations/export.jsonl');
    const part = await measure(app, dbUrl, `/api/v1/observations/export.jsonl?provider=${PROVIDERS[0][0]}`);
    const zip = await measure(app, dbUrl, '/api/v1/observations/export.zip', whole.observations);
    for (const [name, m] of [['JSONL, all', whole], ['JSONL, one provider', part], ['ZIP, all', zip]] as const) {
      console.log(`  ${name}: ${m.observations} observations, ${(m.bytes / 1e6).toFixed(0)} MB in ${m.seconds.toFixed(1)} s = ${m.rate.toFixed(0)} observations/s; server RSS ${m.rssBefore.toFixed(0)} MB before, peak +${m.rssGrowth.toFixed(0)} MB; server CPU ${m.serverCpu.toFixed(1)} s (main thread ${m.serverMainThreadCpu.toFixed(1)} s), PostgreSQL CPU ${m.databaseCpu.toFixed(1)} s; machine ${(100 * m.machineBusy).toFixed(0)}% busy`);
    }
    // The machine is shared: wall-clock rates fall with others' load. The CPU the export itself used does not, and
    // bounds the rate on two idle cores: the work (server and PostgreSQL side by side) spread over both, but no
    // faster than the serial parts (the server's event loop, a PostgreSQL backend).
    const cpuBound = (m: Measured) => m.observations / Math.max(m.serverMainThreadCpu, m.databaseCpu, (m.serverCpu + m.databaseCpu) / 2);
    if (whole.observations !== total) throw new Error(`the JSONL export held ${whole.observations} of ${total} observations`);
    const baseRate = baseline.observations / baseline.seconds;
    // Flat: five times the rows may not cost more than twice the memory, plus 64 MB of slack for the collector's timing.
    const flat = whole.rssGrowth <= 2 * part.rssGrowth + 64;
    return [
      { name: `export JSONL (${total / 1000}k observations, PostgreSQL)`, value: whole.rate, unit: 'obs/s', baselineName: 'plain cursor read', baseline: baseRate, target: `>= ${TARGET_RATE} obs/s`, pass: whole.rate >= TARGET_RATE },
      { name: `export ZIP dataset (${total / 1000}k observations)`, value: zip.rate, unit: 'obs/s', baselineName: 'plain cursor read', baseline: baseRate, target: `>= ${TARGET_RATE} obs/s`, pass: zip.rate >= TARGET_RATE },
      { name: 'export JSONL rate its CPU allows (estimate, idle cores)', value: cpuBound(whole), unit: 'obs/s', baselineName: 'measured wall-clock rate', baseline: whole.rate, target: `>= ${TARGET_RATE} obs/s`, pass: cpuBound(whole) >= TARGET_RATE },
      { name: 'export ZIP rate its CPU allows (estimate, idle cores)', value: cpuBound(zip), unit: 'obs/s', baselineName: 'measured wall-clock rate', baseline: zip.rate, target: `>= ${TARGET_RATE} obs/s`, pass: cpuBound(zip) >= TARGET_RATE },
      { name: `export JSONL server RSS growth (${total / 1000}k)`, value: whole.rssGrowth, unit: 'MB', baselineName: `same, ${part.observations} observations`, baseline: part.rssGrowth, target: 'flat: does not grow with the count', pass: flat },
      { name: `export ZIP server RSS growth (${total / 1000}k)`, value: zip.rssGrowth, unit: 'MB', baselineName: `JSONL, ${part.observations} observations`, baseline: part.rssGrowth, target: 'flat (< 150 MB)', pass: zip.rssGrowth < 150 },
    ];
  } finally {
    await app.stop();
  }
}

interface Measured {
  observations: number;
  bytes: number;
  seconds: number;
  rate: number;
  rssBefore: number;
  rssGrowth: number;
  /** CPU seconds the server process and the PostgreSQL cluster's processes used, and how busy the machine was. */
  serverCpu: number;
  serverMainThreadCpu: number;
  databaseCpu: number;
  machineBusy: number;
}

/**
 * CPU seconds used so far by each process of the PostgreSQL cluster listening on the port (its postmaster and
 * its children), by pid, so a window's use is the sum of per-process differences (a backend that exits in the
 * window is missed: the figure is a lower bound).
 */
function databaseCpu(port: string): Map<number, number> {
  const all = allProcessesCpu();
  const postmaster = [...all].find(([pid]) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(`-p ${port}`);
    } catch {
      return false;
    }
  })?.[0];
  const out = new Map<number, number>();
  if (postmaster === undefined) return out;
  for (const [pid, p] of all) if (pid === postmaster || p.ppid === postmaster) out.set(pid, p.cpu);
  return out;
}

function cpuUsedBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

/** CPU seconds of a process's main thread (the event loop: the serial part of the server's work; zlib runs beside it). */
function mainThreadCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** One export through the server, its RSS sampled meanwhile; observations counted from the lines (JSONL), or as given (ZIP). */
async function measure(app: AppProcess, dbUrl: string, path: string, zipOf?: number): Promise<Measured> {
  await new Promise((r) => setTimeout(r, 1000)); // let the previous export's garbage be collected
  const rssBefore = app.rssMb();
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, app.rssMb());
  }, 50);
  const port = new URL(dbUrl).port;
  const cpuBefore = cpuSeconds(app.pid);
  const mainBefore = mainThreadCpu(app.pid);
  const dbBefore = databaseCpu(port);
  const machineBefore = machineCpu();
  const started = performance.now();
  const got = await download(app, path);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const machineAfter = machineCpu();
  const observations = zipOf ?? got.newlines;
  return {
    observations,
    bytes: got.bytes,
    seconds,
    rate: observations / seconds,
    rssBefore,
    rssGrowth: peak - rssBefore,
    serverCpu: cpuSeconds(app.pid) - cpuBefore,
    serverMainThreadCpu: mainThreadCpu(app.pid) - mainBefore,
    databaseCpu: cpuUsedBetween(dbBefore, databaseCpu(port)),
    machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
  };
}

/** GET a path to the end with node:http (lighter than fetch for a gigabyte), counting bytes and newlines. */
function download(app: AppProcess, path: string): Promise<{ bytes: number; newlines: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${app.url}${path}`, { headers: { authorization: `Bearer ${app.token}` } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET ${path}: ${res.statusCode}`));
        res.resume();
        return;
      }
      let bytes = 0;
      let newlines = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) newlines++;
      });
      res.on('end', () => resolve({ bytes, newlines }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * Observations and codings straight into PostgreSQL with INSERT ... SELECT over generate_series: a pool of
 * generated transcripts (2-20 KB of prose, 2-8 messages, Menagerie form) reused across rows, three codings an
 * observation on the starter ethogram. Fingerprints and search vectors are set so the server's background
 * indexers stay idle during the measurement.
 */
async function seed(dbUrl: string, total: number): Promise<{ observations: number; codings: number; transcriptBytes: number; seconds: number }> {
  const started = performance.now();
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const rand = rng(42);
    await c.query('CREATE TEMP TABLE bench_pool (k int PRIMARY KEY, title text, surprise text, transcript jsonb, bytes int)');
    for (let k = 0; k < POOL; k++) {
      const target = 2000 + Math.floor(rand() * 18000);
      const turns = 2 + Math.floor(rand() * 7);
      const messages = Array.from({ length: turns }, (_, t) => ({ id: `m${t + 1}`, role: t % 2 ? 'assistant' : 'user', parts: [{ type: 'text', text: prose(rand, Math.floor(target / turns)) }] }));
      const transcript = JSON.stringify({ format: 'menagerie', messages });
      await c.query('INSERT INTO bench_pool VALUES ($1, $2, $3, $4::jsonb, $5)', [k, prose(rand, 60).slice(0, 120), prose(rand, 200), transcript, transcript.length]);
    }
    const user = (await c.query<{ id: string }>("SELECT id FROM users WHERE email = 'bench@example.org'")).rows[0]!.id;
    const providers = PROVIDERS.map((p) => p[0]);
    const models = PROVIDERS.map((p) => p[1]);
    const chunk = 20_000;
    for (let from = 0; from < total; from += chunk) {
      await c.query(
        `INSERT INTO observations (title, surprise, status, visibility, provider, model, model_version, provenance, observed_at, submitted_by,
           raw_payload, raw_sha256, transcript, evidence_links, tags, search, search_pending, minhash, minhash_bands, created_at, updated_at)
         SELECT 'Sighting ' || g || ': ' || p.title, p.surprise, 'submitted', (CASE WHEN g % 4 = 0 THEN 'public' ELSE 'members' END)::visibility,
           ($3::text[])[1 + g % 5], ($4::text[])[1 + g % 5], '2026-0' || (1 + g % 9),
           jsonb_build_object('capture', 'api', 'interface', 'api', 'sampling', jsonb_build_object('temperature', (g % 10) / 10.0, 'max_tokens', 1024)),
           timestamptz '2026-01-01' + make_interval(mins => g), $5::uuid, '{}', md5(g::text), p.transcript, '[]'::jsonb,
           ARRAY[($6::text[])[1 + g % 10], ($6::text[])[1 + (g * 7) % 10]], to_tsvector('simple', p.title), false, '{}'::int[], '{}'::int[],
           timestamptz '2025-01-01' + make_interval(secs => g), timestamptz '2025-01-01' + make_interval(secs => g)
         FROM generate_series($1::int, $2::int) g JOIN bench_pool p ON p.k = g % ${POOL}`,
        [from + 1, Math.min(total, from + chunk), providers, models, user, TAGS],
      );
      process.stdout.write(`\r  seeding observations: ${Math.min(total, from + chunk)}/${total}`);
    }
    process.stdout.write('\n');
    await c.query(
      `INSERT INTO codings (observation_id, ethogram_version_id, behaviour_id, coder_id, method, status, rationale, modifiers, created_at)
       SELECT o.id, b.version_id, b.id, $1::uuid, 'manual', 'accepted', 'Seen in message ' || (1 + k), '{"severity": "mild"}'::jsonb, o.created_at + make_interval(secs => k)
       FROM (SELECT id, created_at, row_number() OVER (ORDER BY created_at) AS rn FROM observations) o
       CROSS JOIN generate_series(0, 2) k
       JOIN (SELECT id, version_id, row_number() OVER (ORDER BY code) - 1 AS idx, count(*) OVER () AS cnt FROM behaviours) b ON b.idx = (o.rn * 3 + k) % b.cnt`,
      [user],
    );
    await c.query('ANALYZE');
    const counts = (await c.query<{ o: number; c: number; bytes: string }>(
      `SELECT (SELECT count(*)::int FROM observations) AS o, (SELECT count(*)::int FROM codings) AS c,
         (SELECT sum(p.bytes * n.n)::bigint FROM bench_pool p JOIN (SELECT g % ${POOL} AS k, count(*) AS n FROM generate_series(1, ${total}) g GROUP BY 1) n USING (k)) AS bytes`,
    )).rows[0]!;
    return { observations: counts.o, codings: counts.c, transcriptBytes: Number(counts.bytes), seconds: (performance.now() - started) / 1000 };
  } finally {
    await c.end();
  }
}

/** The floor: a server-side cursor reading the export's observation columns and coding rows, 1,000 at a time, nothing built. */
async function cursorRead(dbUrl: string): Promise<{ observations: number; codings: number; seconds: number }> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  const started = performance.now();
  let observations = 0;
  let codings = 0;
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await c.query(`DECLARE obs NO SCROLL CURSOR FOR
      SELECT o.id, o.title, o.surprise, o.status, o.visibility, o.provider, o.model, o.model_version, o.provenance::text, o.observed_at, o.created_at,
        o.updated_at, o.revision, o.submitted_by, u.display_name, o.raw_sha256, (o.transcript->'messages')::text, o.evidence_links::text, o.tags
      FROM observations o JOIN users u ON u.id = o.submitted_by WHERE o.deleted_at IS NULL ORDER BY o.created_at, o.id`);
    for (let rows = 1; rows > 0; ) {
      rows = (await c.query('FETCH 1000 FROM obs')).rowCount ?? 0;
      observations += rows;
    }
    await c.query(`DECLARE cod NO SCROLL CURSOR FOR
      SELECT c.id, c.observation_id, c.message_id, c.part_index, c.char_start, c.char_end, c.quote, c.modifiers::text, c.method, c.confidence,
        c.rationale, c.status, c.classifier_id, c.created_at, b.key, b.code, b.name, b.category, v.id, v.number, e.slug, c.coder_id, u.display_name
      FROM codings c JOIN behaviours b ON b.id = c.behaviour_id JOIN ethogram_versions v ON v.id = c.ethogram_version_id
        JOIN ethograms e ON e.id = v.ethogram_id JOIN users u ON u.id = c.coder_id WHERE c.withdrawn_at IS NULL`);
    for (let rows = 1; rows > 0; ) {
      rows = (await c.query('FETCH 1000 FROM cod')).rowCount ?? 0;
      codings += rows;
    }
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
  return { observations, codings, seconds: (performance.now() - started) / 1000 };
}
