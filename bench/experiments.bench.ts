import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { UserActor } from '../accounts/actor.ts';
import { anonymous } from '../accounts/actor.ts';
import { createUser } from '../accounts/create-user.command.ts';
import { createSession } from '../accounts/sessions.ts';
import type { Ctx } from '../core/context.ts';
import { rowsOf, type Db } from '../core/db.ts';
import { createExperiment } from '../experiments/create-experiment.command.ts';
import { GPT2_SMALL, writeRandomGpt2, type Gpt2Shape } from '../experiments/index.ts';
import { registerModel } from '../experiments/models/register-model.command.ts';
import { runExperiment } from '../experiments/run-experiment.command.ts';
import { openDatabase, type Database } from '../server/db/client.ts';
import { jobHandlers } from '../server/jobs/job-handlers.ts';
import { SESSION_COOKIE } from '../server/http/cookies.ts';
import { startAppProcess } from './lib/app-process.ts';
import { runLoad } from './lib/load.ts';
import type { PgServer } from './lib/postgres-server.ts';
import { percentile, type Figure } from './lib/stats.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/menagerie.js');
const wallMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WORKERS = 4;
/** Signed-in people requesting pages at once in the responsiveness figure. */
const CLIENTS = 2;
/** A model whose runs take a few milliseconds: what is measured is the queue, not the engine. */
const TINY: Gpt2Shape = { nLayers: 1, dModel: 16, nHeads: 2, dVocab: 300, nCtx: 64 };
/** The quick run's "long experiment" (the full run uses a GPT-2-small-shaped model, 498 MB). */
const MID: Gpt2Shape = { nLayers: 6, dModel: 384, nHeads: 6, dVocab: 4000, nCtx: 1024 };

/**
 * Issue 7's targets for experiments in the product, on the PostgreSQL server the benchmark started:
 * - Job overhead (queue to start) under 100 ms p95 with 4 workers. ≥200 real `experiment.run` jobs (attention on a
 *   tiny random GPT-2, a few ms each, so the queue is measured and not the engine) are queued one at a time through
 *   `runExperiment`, at 25-45 ms intervals, while 4 worker processes serve the queue. Measured from the moment the
 *   enqueue's commit returned to the client to the handler's first line (stamped in the worker process:
 *   bench/lib/job-worker-process.ts, built as `menagerie worker` builds its worker), after a warm-up in which every
 *   worker has loaded the model. Beside it, in the same run: a NOTIFY round trip between two connections (the floor
 *   of a wake-up) and a bare `SELECT 1`. For context, the same workers with wake-ups off (polling every second, as
 *   before LISTEN), and 4 real `menagerie worker` processes measured in the database, from the job's `created_at`
 *   (stamped before the enqueue's transaction, so its own time counts) to its `started_at` (the claiming worker's
 *   clock when its claim began; no stamp can be put inside the shipped command).
 * - Page responsiveness: p99 of signed-in GET page requests from two clients browsing without pause (/observations,
 *   /jobs, and /experiments and the running experiment's page when those pages exist) against `menagerie serve`,
 *   whose in-process worker runs a long experiment (greedy generation on a GPT-2-small-shaped random model; the
 *   engine's matrix products use two threads, its other work the server's main thread), beside the same requests
 *   with no experiment running (before and after). For context, the same with the run in a separate `menagerie
 *   worker` started under `nice -n 10` and the in-process worker off.
 */
export async function experimentsBench(server: PgServer | null, quick: boolean): Promise<Figure[]> {
  if (!server) {
    console.log('  no PostgreSQL server: experiments figures skipped (workers in other processes need one)');
    return [];
  }
  const figures: Figure[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-bench-experiments-'));
  const databaseUrl = await server.createDatabase('menagerie_bench_experiments');
  const database = await openDatabase({ databaseUrl, poolSize: 10 });
  try {
    await database.migrate();
    const setup = await seed(database, dir, quick);
    figures.push(...(await overheadFigures(database, databaseUrl, setup, quick)));
    figures.push(...(await pageFigures(database, databaseUrl, setup, quick)));
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

interface Setup {
  admin: UserActor;
  researcher: UserActor;
  quickExperimentId: string;
  longModelId: string;
}

/** An admin registers a tiny model and the long run's model; a researcher creates the quick experiment; observations to list. */
async function seed(database: Database, dir: string, quick: boolean): Promise<Setup> {
  const now = () => new Date();
  const system: Ctx = { db: database.db, actor: anonymous, now };
  const person = async (who: string, role: 'admin' | 'researcher'): Promise<UserActor> => {
    const email = `${who}@example.org`;
    const user = await createUser(system, { email, password: 'correct horse battery', displayName: who, role });
    return { kind: 'user', id: user.id, role: user.role, email, displayName: who, via: 'system' };
  };
  const admin = await person('bench-admin', 'admin');
  const researcher = await person('bench-researcher', 'researcher');
  const as = (actor: UserActor): Ctx => ({ db: database.db, actor, now });
  writeRandomGpt2(path.join(dir, 'tiny'), TINY, 3);
  const started = performance.now();
  const longShape = quick ? MID : GPT2_SMALL;
  const bytes = writeRandomGpt2(path.join(dir, 'long'), longShape, 4);
  console.log(`  models written: tiny, and the long run's ${longShape.nLayers} layers × ${longShape.dModel} (${(bytes / 1e6).toFixed(0)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const tinyId = (await registerModel(as(admin), { path: path.join(dir, 'tiny'), name: 'Tiny bench GPT-2' })).id;
  const longModelId = (await registerModel(as(admin), { path: path.join(dir, 'long'), name: 'Long-run bench GPT-2' })).id;
  const experiment = await createExperiment(
    as(researcher),
    { title: 'Queue overhead', hypothesis: 'The queue adds little.', modelId: tinyId, technique: 'attention', params: { prompt: 'Hello world' }, run: false },
    jobHandlers,
  );
  await seedObservations(database.db, researcher.id, 300);
  return { admin, researcher, quickExperimentId: experiment.id, longModelId };
}

async function seedObservations(db: Db, userId: string, n: number): Promise<void> {
  const transcript = {
    format: 'openai-chat',
    messages: [
      { id: 'm1', role: 'user', parts: [{ type: 'text', text: 'Summarise the paper for me.' }] },
      { id: 'm2', role: 'assistant', parts: [{ type: 'text', text: 'I am sorry, I cannot read PDFs. The paper shows that zebras sleep standing up.' }] },
    ],
  };
  await db.execute(sql`INSERT INTO observations (title, surprise, provider, model, provenance, observed_at, submitted_by, raw_payload, raw_sha256, transcript, search)
    SELECT 'Bench observation ' || i, 'It refused.', 'openai', 'gpt-4o', '{"capture":"api"}'::jsonb, now() - i * interval '1 minute', ${userId}::uuid, '{}', md5(i::text),
      ${JSON.stringify(transcript)}::jsonb, to_tsvector('english', 'bench observation refused')
    FROM generate_series(1, ${n}) AS i`);
}

// ---------------------------------------------------------------------------------------------------------------
// Job overhead

async function overheadFigures(database: Database, databaseUrl: string, setup: Setup, quick: boolean): Promise<Figure[]> {
  const runs = quick ? 60 : 240;
  const figures: Figure[] = [];
  const ctx: Ctx = { db: database.db, actor: setup.researcher, now: () => new Date() };

  const baselines = await roundTrips(databaseUrl, quick ? 100 : 300);
  console.log(`  baselines: NOTIFY round trip p50 ${baselines.notify.p50.toFixed(2)} ms, p95 ${baselines.notify.p95.toFixed(2)} ms; SELECT 1 p50 ${baselines.select.p50.toFixed(2)} ms, p95 ${baselines.select.p95.toFixed(2)} ms`);

  const workers = await Promise.all(Array.from({ length: WORKERS }, () => BenchWorker.start(databaseUrl)));
  try {
    // Warm-up: every worker loads the tiny model (and compiles its kernel) before anything is measured.
    await queueAndMeasure(ctx, setup.quickExperimentId, workers, WORKERS * 4, [20, 20]);
    await waitIdle(database.db);

    const listening = await queueAndMeasure(ctx, setup.quickExperimentId, workers, runs, [25, 45]);
    await waitIdle(database.db);
    const p95 = percentile(listening.overheadMs, 95);
    console.log(
      `  ${runs} experiment.run jobs, ${WORKERS} worker processes listening: commit → handler start p50 ${percentile(listening.overheadMs, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, ` +
        `max ${Math.max(...listening.overheadMs).toFixed(1)} ms; commit → started_at (the claim began) p50 ${percentile(listening.commitToStartedMs, 50).toFixed(1)} ms, p95 ${percentile(listening.commitToStartedMs, 95).toFixed(1)} ms; ` +
        `created_at → started_at p95 ${percentile(listening.createdToStartedMs, 95).toFixed(1)} ms; ` +
        `enqueue (runExperiment) p95 ${percentile(listening.enqueueMs, 95).toFixed(1)} ms; runs per worker ${listening.perWorker.join('/')}; ${listening.failed} not completed`,
    );
    figures.push({ name: `job overhead p95, commit → handler (${WORKERS} workers, ${runs} runs)`, value: p95, unit: 'ms', baselineName: 'NOTIFY round trip p95', baseline: baselines.notify.p95, target: '< 100 ms', pass: p95 < 100 && listening.failed === 0 });
    figures.push({ name: '  same figure', value: p95, unit: 'ms', baselineName: 'SELECT 1 p95', baseline: baselines.select.p95, target: 'ratio shown', pass: true });

    // Context: the same workers polling every second, as before they listened.
    for (const w of workers) await w.mode('poll');
    const pollRuns = quick ? 20 : 60;
    const polling = await queueAndMeasure(ctx, setup.quickExperimentId, workers, pollRuns, [25, 45]);
    await waitIdle(database.db);
    const pollP95 = percentile(polling.overheadMs, 95);
    console.log(`  ${pollRuns} runs with wake-ups off (polling every 1000 ms): commit → handler start p50 ${percentile(polling.overheadMs, 50).toFixed(0)} ms, p95 ${pollP95.toFixed(0)} ms`);
    figures.push({ name: `  without wake-ups (poll 1 s), p95, ${pollRuns} runs`, value: pollP95, unit: 'ms', baselineName: 'with wake-ups p95', baseline: p95, target: 'ratio shown', pass: true });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }

  // The shipped command: 4 `menagerie worker` processes, commit → started_at (stamped when the claim began).
  const commands = await Promise.all(Array.from({ length: WORKERS }, () => startWorkerCommand(databaseUrl)));
  try {
    await queueAndMeasure(ctx, setup.quickExperimentId, null, WORKERS * 4, [20, 20]);
    await waitIdle(database.db);
    const shipped = await queueAndMeasure(ctx, setup.quickExperimentId, null, runs, [25, 45]);
    await waitIdle(database.db);
    const p95 = percentile(shipped.createdToStartedMs, 95);
    console.log(
      `  ${runs} runs, ${WORKERS} \`menagerie worker\` processes: created_at → started_at p50 ${percentile(shipped.createdToStartedMs, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms ` +
        `(commit seen by the client → started_at p50 ${percentile(shipped.commitToStartedMs, 50).toFixed(1)} ms, p95 ${percentile(shipped.commitToStartedMs, 95).toFixed(1)} ms); ${shipped.failed} not completed`,
    );
    figures.push({ name: `job overhead p95, created_at → started_at (${WORKERS} \`menagerie worker\`)`, value: p95, unit: 'ms', baselineName: 'NOTIFY round trip p95', baseline: baselines.notify.p95, target: '< 100 ms', pass: p95 < 100 && shipped.failed === 0 });
  } finally {
    await Promise.all(commands.map((c) => c.stop()));
  }
  return figures;
}

/** p50/p95 of a NOTIFY round trip (one connection notifies, another listening receives) and of `SELECT 1`. */
async function roundTrips(databaseUrl: string, n: number) {
  const sender = new pg.Client({ connectionString: databaseUrl });
  const listener = new pg.Client({ connectionString: databaseUrl });
  await Promise.all([sender.connect(), listener.connect()]);
  try {
    await listener.query('LISTEN menagerie_bench_ping');
    const notify: number[] = [];
    const select: number[] = [];
    for (let i = 0; i < n + 10; i++) {
      const heard = new Promise<void>((resolve) => listener.once('notification', () => resolve()));
      const t0 = performance.now();
      await sender.query(`NOTIFY menagerie_bench_ping, '${i}'`);
      await heard;
      if (i >= 10) notify.push(performance.now() - t0);
      const t1 = performance.now();
      await sender.query('SELECT 1');
      if (i >= 10) select.push(performance.now() - t1);
    }
    return {
      notify: { p50: percentile(notify, 50), p95: percentile(notify, 95) },
      select: { p50: percentile(select, 50), p95: percentile(select, 95) },
    };
  } finally {
    await Promise.all([sender.end(), listener.end()]);
  }
}

interface Measured {
  overheadMs: number[];
  commitToStartedMs: number[];
  createdToStartedMs: number[];
  enqueueMs: number[];
  perWorker: number[];
  failed: number;
}

/**
 * Queues `n` runs of the experiment one at a time, a random interval apart (open loop: the next is queued whether or
 * not the last has started), and waits for all of them to finish. With bench workers, each run's handler start is
 * reported by its worker.
 */
async function queueAndMeasure(ctx: Ctx, experimentId: string, workers: BenchWorker[] | null, n: number, intervalMs: [number, number]): Promise<Measured> {
  const committed = new Map<string, number>();
  const enqueueMs: number[] = [];
  const t0 = wallMs();
  let due = t0;
  for (let i = 0; i < n; i++) {
    due += intervalMs[0] + Math.random() * (intervalMs[1] - intervalMs[0]);
    const wait = due - wallMs();
    if (wait > 0) await sleep(wait);
    const before = wallMs();
    const { job } = await runExperiment(ctx, experimentId, {}, jobHandlers);
    const at = wallMs();
    committed.set(job.id, at);
    enqueueMs.push(at - before);
  }
  const ids = [...committed.keys()];
  const rows = await waitFinished(ctx.db, ids);
  const overheadMs: number[] = [];
  const perWorker: number[] = [];
  if (workers) {
    for (const w of workers) {
      let mine = 0;
      for (const id of ids) {
        const at = w.started.get(id);
        if (at !== undefined) {
          overheadMs.push(at - committed.get(id)!);
          mine++;
        }
      }
      perWorker.push(mine);
    }
  }
  const commitToStartedMs = rows.map((r) => r.startedAt.getTime() - committed.get(r.id)!);
  const createdToStartedMs = rows.map((r) => r.startedAt.getTime() - r.createdAt.getTime());
  return { overheadMs, commitToStartedMs, createdToStartedMs, enqueueMs, perWorker, failed: rows.filter((r) => r.status !== 'completed').length };
}

async function waitFinished(db: Db, ids: string[]) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const rows = rowsOf<{ id: string; status: string; created_at: string; started_at: string | null }>(
      await db.execute(sql`SELECT id, status::text AS status, created_at, started_at FROM jobs WHERE id IN (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)})`),
    );
    if (rows.every((r) => ['completed', 'failed', 'cancelled'].includes(r.status))) {
      return rows.map((r) => ({ id: r.id, status: r.status, createdAt: new Date(r.created_at), startedAt: new Date(r.started_at ?? r.created_at) }));
    }
    if (Date.now() > deadline) throw new Error(`jobs did not finish within 2 minutes: ${rows.filter((r) => r.status !== 'completed').length} left`);
    await sleep(50);
  }
}

async function waitIdle(db: Db): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [{ n }] = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM jobs WHERE status IN ('queued', 'running')`)) as [{ n: number }];
    if (n === 0) return;
    await sleep(50);
  }
}

/** A bench worker process (bench/lib/job-worker-process.ts) and the handler starts it reported. */
class BenchWorker {
  private readonly child: ChildProcess;
  readonly started = new Map<string, number>();
  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (m: { started?: string; at?: number }) => {
      if (m.started) this.started.set(m.started, m.at!);
    });
  }

  static async start(databaseUrl: string): Promise<BenchWorker> {
    const child = fork(path.join(import.meta.dirname, 'lib/job-worker-process.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new BenchWorker(child);
    await worker.ready();
    return worker;
  }

  private ready(): Promise<string> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: { ready?: string }) => {
        if (m.ready) {
          this.child.off('message', onMessage);
          resolve(m.ready);
        }
      };
      this.child.on('message', onMessage);
      this.child.once('exit', (code) => reject(new Error(`a bench worker exited (${code})`)));
    });
  }

  async mode(mode: 'listen' | 'poll'): Promise<void> {
    const ready = this.ready();
    this.child.send({ mode });
    await ready;
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.send('stop');
    });
  }
}

/** `menagerie worker` as an operator starts it (after `prefix`, e.g. `nice -n 10`), waiting for its ready line. */
async function startWorkerCommand(databaseUrl: string, prefix: string[] = [], args: string[] = []): Promise<{ stop(): Promise<void> }> {
  const [command, ...rest] = [...prefix, process.execPath, bin, 'worker', ...args];
  const child = spawn(command!, rest, { env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/Worker \S+ serving/.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`menagerie worker exited (${code}): ${out}`)));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Page responsiveness while an experiment runs

async function pageFigures(database: Database, databaseUrl: string, setup: Setup, quick: boolean): Promise<Figure[]> {
  const { cookie } = await createSession(database.db, setup.researcher.id, new Date(), 14);
  const experiment = { id: '' };
  const inProcess = await pagesWhileRunning(database, databaseUrl, setup, cookie, experiment, quick, null);
  const target = (m: PagePhase) => m.busyP99 < 50 && m.errors === 0 && m.stillRunning;
  const figures: Figure[] = [
    { name: 'page p99 while an experiment runs (in-process worker)', value: inProcess.busyP99, unit: 'ms', baselineName: 'no experiment p99', baseline: inProcess.idleP99, target: '< 50 ms', pass: target(inProcess) },
    { name: '  page p50 while an experiment runs', value: inProcess.busyP50, unit: 'ms', baselineName: 'no experiment p50', baseline: inProcess.idleP50, target: 'ratio shown', pass: true },
  ];
  // For context: the same with the web server's in-process worker off and the run in a `menagerie worker` process
  // started under `nice -n 10` (the kernel threads it starts inherit the lower priority).
  const niced = await pagesWhileRunning(database, databaseUrl, setup, cookie, experiment, quick, 10);
  figures.push({ name: '  page p99, run in a `nice -n 10 menagerie worker` instead', value: niced.busyP99, unit: 'ms', baselineName: 'no experiment p99', baseline: niced.idleP99, target: '< 50 ms (context)', pass: true });
  return figures;
}

interface PagePhase { idleP50: number; idleP99: number; busyP50: number; busyP99: number; errors: number; stillRunning: boolean }

/**
 * Starts `menagerie serve` (with its in-process worker when `nice` is null, else without it and with a `menagerie
 * worker` started under that niceness), measures page requests with no experiment running, then while the long
 * experiment generates, then idle again once it is cancelled (the baseline is both idle runs together, so a change
 * in the machine's other load during the run does not favour one side).
 */
async function pagesWhileRunning(database: Database, databaseUrl: string, setup: Setup, cookie: string, experiment: { id: string }, quick: boolean, nice: number | null): Promise<PagePhase> {
  const where = nice === null ? 'the in-process worker' : `a \`nice -n ${nice} menagerie worker\``;
  const app = await startAppProcess({ DATABASE_URL: databaseUrl, MENAGERIE_INPROCESS_WORKER: nice === null ? 'true' : 'false' }, nice === null ? 'bench@example.org' : `bench-${nice}@example.org`);
  const worker = nice === null ? null : await startWorkerCommand(databaseUrl, ['nice', '-n', String(nice)], ['--concurrency', '1']);
  const headers = { cookie: `${SESSION_COOKIE}=${cookie}`, accept: 'text/html' };
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(app.url + '/api/v1' + p, {
      method,
      headers: { authorization: `Bearer ${app.token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };
  try {
    if (!experiment.id) {
      // Created without a run, so its page can be in the mix from the start.
      const created = await api('POST', '/experiments', {
        title: 'A long generation',
        hypothesis: 'Random weights ramble for a long time.',
        modelId: setup.longModelId,
        technique: 'generate',
        params: { prompt: 'Once upon a time', maxNewTokens: 1000, stopAtEos: false },
        run: false,
        seed: 1,
      });
      if (created.status !== 201) throw new Error(`creating the long experiment: ${created.status} ${JSON.stringify(created.body)}`);
      experiment.id = created.body.id as string;
    }
    const candidates = ['/observations', '/jobs', '/experiments', `/experiments/${experiment.id}`];
    const pages: string[] = [];
    for (const p of candidates) {
      const res = await fetch(app.url + p, { headers });
      await res.text();
      if (res.status === 200) pages.push(p);
    }
    console.log(`  [experiment run by ${where}] pages measured (signed in as a researcher): ${pages.map((p) => p.replace(experiment.id, ':id')).join(', ')}${pages.length < candidates.length ? ` (not answering 200: ${candidates.filter((p) => !pages.includes(p)).join(', ')})` : ''}`);
    // Two people browsing without pause (closed loop): each request's latency is the page's own time plus what the
    // server is doing besides, not a queue of our own making.
    const total = quick ? 200 : 600;
    const load = (n = total) => runLoad({ url: app.url, concurrency: CLIENTS, total: n, request: (i) => ({ method: 'GET', path: pages[i % pages.length]!, headers }), expectStatus: 200 });
    const byPage = (latencies: number[]) =>
      pages.map((p, k) => `${p.replace(experiment.id, ':id')} ${percentile(latencies.filter((_, i) => i % pages.length === k), 50).toFixed(0)}/${percentile(latencies.filter((_, i) => i % pages.length === k), 99).toFixed(0)}`).join(', ');
    await load(60); // warm-up

    const idle = await load();
    console.log(`  no experiment running: ${total} page requests from ${CLIENTS} clients, p50 ${percentile(idle.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(idle.latenciesMs, 99).toFixed(1)} ms, ${idle.errors} errors (p50/p99 by page: ${byPage(idle.latenciesMs)})`);

    const run = await api('POST', `/experiments/${experiment.id}/runs`, {});
    if (run.status !== 201) throw new Error(`running the long experiment: ${run.status} ${JSON.stringify(run.body)}`);
    const jobId = run.body.job.id as string;
    const started = performance.now();
    let job: any;
    for (;;) {
      job = (await api('GET', `/jobs/${jobId}`)).body;
      if (job.status === 'running' && job.progress.done >= 2) break;
      if (['completed', 'failed', 'cancelled'].includes(job.status)) throw new Error(`the long experiment ended before the load: ${JSON.stringify(job.error ?? job.status)}`);
      if (performance.now() - started > 120_000) throw new Error('the long experiment did not start generating within 2 minutes');
      await sleep(100);
    }
    const doneBefore = job.progress.done as number;
    console.log(`  the long experiment is generating in ${where} (model loaded and first tokens in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const busyStart = performance.now();
    const busy = await load();
    const busyS = (performance.now() - busyStart) / 1000;
    const after = (await api('GET', `/jobs/${jobId}`)).body;
    const stillRunning = after.status === 'running';
    const tokens = (after.progress.done as number) - doneBefore;
    const cancel = await api('POST', `/jobs/${jobId}/cancel`);
    console.log(
      `  while it runs: ${total} page requests, p50 ${percentile(busy.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(busy.latenciesMs, 99).toFixed(1)} ms, ${busy.errors} errors (by page: ${byPage(busy.latenciesMs)}); ` +
        `it generated ${tokens} tokens meanwhile (${(tokens / busyS).toFixed(1)}/s) and was ${stillRunning ? 'still running at the end' : `${after.status} before the end`} (cancel: ${cancel.status})`,
    );
    for (let i = 0; i < 100 && (await api('GET', `/jobs/${jobId}`)).body.status === 'running'; i++) await sleep(100);
    const idleAgain = await load();
    const idleAll = [...idle.latenciesMs, ...idleAgain.latenciesMs];
    console.log(`  no experiment running, again: p50 ${percentile(idleAgain.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(idleAgain.latenciesMs, 99).toFixed(1)} ms, ${idleAgain.errors} errors; both idle runs: p99 ${percentile(idleAll, 99).toFixed(1)} ms`);
    return {
      idleP50: percentile(idleAll, 50),
      idleP99: percentile(idleAll, 99),
      busyP50: percentile(busy.latenciesMs, 50),
      busyP99: percentile(busy.latenciesMs, 99),
      errors: busy.errors,
      stillRunning,
    };
  } finally {
    await app.stop();
    await worker?.stop();
  }
}
