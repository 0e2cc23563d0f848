// @long: one of the slowest files (6-35 s); the runner starts these first, so a pass does not end waiting on one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { UserActor } from '../../accounts/actor.ts';
import { anonymous } from '../../accounts/actor.ts';
import { createUser } from '../../accounts/create-user.command.ts';
import type { Ctx } from '../../core/context.ts';
import { rowsOf } from '../../core/db.ts';
import { loadJob, type JobRow } from '../../core/jobs/job.queries.ts';
import { createExperiment } from '../../experiments/create-experiment.command.ts';
import { writeRandomGpt2 } from '../../experiments/index.ts';
import { registerModel } from '../../experiments/models/register-model.command.ts';
import { runExperiment } from '../../experiments/run-experiment.command.ts';
import type { Database } from '../../server/db/client.ts';
import { jobHandlers } from '../../server/jobs/job-handlers.ts';
import { createTestDatabase } from '../support/test-db.ts';
import { menagerieArgs } from '../support/menagerie-command.ts';

/**
 * Experiment runs served by real `menagerie worker` processes on one PostgreSQL server (issue 7): a worker killed
 * mid-run has its run completed by another, two workers never run one job twice, and a queued run wakes a worker
 * at once (LISTEN menagerie_jobs) instead of waiting for its poll. Set up through the domain commands, as an admin
 * (registering model folders the test writes) and a researcher (creating experiments).
 */
const skip = !process.env.MENAGERIE_TEST_DATABASE_URL && 'needs the PostgreSQL server (MENAGERIE_TEST_DATABASE_URL): separate worker processes share its database';

const root = mkdtempSync(path.join(tmpdir(), 'menagerie-experiment-workers-'));
/** Runs of a few milliseconds each. */
const tiny = path.join(root, 'tiny');
/** A 400-token generation takes 1-4 s on this 2-core machine: long enough to kill its worker mid-run. */
const longer = path.join(root, 'longer');
const GENERATED = 400;

let database: Database;
let databaseUrl = '';
let admin: UserActor;
let researcher: UserActor;
const ids = { tiny: '', longer: '' };
const children = new Set<ChildProcess>();
const now = () => new Date();
const ctx = (actor: UserActor): Ctx => ({ db: database.db, actor, now });

before(async () => {
  if (skip) return;
  writeRandomGpt2(tiny, { nLayers: 1, dModel: 16, nHeads: 2, dVocab: 300, nCtx: 64 }, 5);
  writeRandomGpt2(longer, { nLayers: 4, dModel: 256, nHeads: 4, dVocab: 2000, nCtx: 1024 }, 6);
  database = await createTestDatabase();
  const [{ name }] = rowsOf<{ name: string }>(await database.db.execute(sql`SELECT current_database() AS name`)) as [{ name: string }];
  const url = new URL(process.env.MENAGERIE_TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  databaseUrl = url.toString();
  const system: Ctx = { db: database.db, actor: anonymous, now };
  const person = async (who: string, role: 'admin' | 'researcher'): Promise<UserActor> => {
    const email = `${who}@example.org`;
    const user = await createUser(system, { email, password: 'correct horse battery', displayName: who, role });
    assert.equal(user.role, role, 'the first account is the admin');
    return { kind: 'user', id: user.id, role: user.role, email, displayName: who, via: 'system' };
  };
  admin = await person('admin', 'admin');
  researcher = await person('researcher', 'researcher');
  ids.tiny = (await registerModel(ctx(admin), { path: tiny, name: 'Tiny GPT-2' })).id;
  ids.longer = (await registerModel(ctx(admin), { path: longer, name: 'Longer GPT-2' })).id;
});

after(async () => {
  await Promise.all([...children].map((child) => stop(child, 'SIGKILL')));
  await database?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Worker {
  id: string;
  child: ChildProcess;
  output(): string;
}

/** Starts `menagerie worker` on the test database and waits for its ready line (after its LISTEN is in place). */
async function startWorker(args: string[]): Promise<Worker> {
  const child = spawn(process.execPath, menagerieArgs('worker', ...args), {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const id = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not start within 30 s: ${out}`)), 30_000);
    const look = () => {
      const m = /Worker (\S+) serving/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited (${code}) at start: ${out}`));
    });
  });
  return { id, child, output: () => out };
}

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const events = async (jobId: string, type: string) =>
  rowsOf<{ payload: { worker?: string; attempt?: number; reclaimedFrom?: string } }>(
    await database.db.execute(sql`SELECT payload FROM events WHERE entity_id = ${jobId} AND type = ${type} ORDER BY id`),
  ).map((e) => e.payload);

const runOf = async (jobId: string) =>
  rowsOf<{ id: string; stored: boolean; tokens: number | null }>(
    await database.db.execute(sql`SELECT id, result IS NOT NULL AS stored, jsonb_array_length(result->'result'->'continuation'->'tokens') AS tokens
      FROM experiment_runs WHERE job_id = ${jobId}::uuid`),
  );

test('a job whose worker is killed is retried by another: the run completes on the second attempt, its result stored once', { skip }, async () => {
  const experiment = await createExperiment(
    ctx(researcher),
    {
      title: 'A long generation',
      hypothesis: 'Random weights ramble.',
      modelId: ids.longer,
      technique: 'generate',
      params: { prompt: 'Hello', maxNewTokens: GENERATED, stopAtEos: false },
      seed: 7,
    },
    jobHandlers,
  );
  const jobId = experiment.jobId!;
  // Two workers start together (starting one takes seconds on a busy machine); whichever claims the run is A.
  // B sees A's heartbeat (every 200 ms) stay fresh and leaves the run alone until A is gone for 1.5 s.
  const both = await Promise.all([0, 1].map(() => startWorker(['--concurrency', '1', '--heartbeat-ms', '200', '--lapse-ms', '1500', '--poll-ms', '200'])));
  assert.notEqual(both[0]!.id, both[1]!.id, 'each worker process names itself apart');
  const midRun = await waitFor('a worker to be generating', async () => {
    const row = await loadJob(database.db, jobId);
    return row?.status === 'running' && row.progress.total === GENERATED && row.progress.done >= 1 ? row : null;
  });
  const a = both.find((w) => w.id === midRun.claimedBy)!;
  const b = both.find((w) => w !== a)!;
  assert.ok(a, `claimed by one of the two workers (${midRun.claimedBy})`);
  assert.equal(midRun.attempts, 1);
  await stop(a.child, 'SIGKILL');
  const orphan = (await loadJob(database.db, jobId))!;
  if (orphan.attempts === 1) assert.equal(orphan.status, 'running', 'the row still says running: only the lapsed heartbeat tells');
  assert.equal((await runOf(jobId))[0]!.stored, false, 'A died before storing anything');

  const taken = await waitFor('worker B to take the job over', async () => {
    const row = await loadJob(database.db, jobId);
    return row && row.attempts === 2 ? row : null;
  });
  if (taken.status === 'running') assert.equal(taken.claimedBy, b.id, 'claimed_by names B');
  const done = await waitFor('the run to complete', async () => {
    const row = await loadJob(database.db, jobId);
    return row && ['completed', 'failed', 'cancelled'].includes(row.status) ? row : null;
  });
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.attempts, 2);
  assert.equal(done.claimedBy, null, 'the claim is released');
  assert.deepEqual(done.progress, { done: GENERATED, total: GENERATED, message: `token ${GENERATED}` });
  assert.equal((done.summary as { stored: boolean }).stored, true, 'B wrote the result (WHERE result IS NULL matched once)');

  const started = await events(jobId, 'job.started');
  assert.deepEqual(started.map((e) => [e.worker, e.attempt, e.reclaimedFrom]), [[a.id, 1, undefined], [b.id, 2, a.id]]);
  assert.deepEqual((await events(jobId, 'job.completed')).map((e) => e.worker), [b.id]);
  const runs = await runOf(jobId);
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.stored, true);
  assert.equal(runs[0]!.tokens, GENERATED);
  await stop(b.child);
  assert.doesNotMatch(b.output(), / error /, b.output());
});

/**
 * Two workers polling once a minute, shared by the next two tests: every start there comes from a wake-up (NOTIFY at
 * commit, or a worker looking again after finishing a run). Started once: starting one takes seconds here.
 */
let pair: Promise<Worker[]> | undefined;
const pollingOncePerMinute = () => (pair ??= Promise.all([0, 1].map(() => startWorker(['--concurrency', '1', '--poll-ms', '60000']))));

test('two workers on one PostgreSQL never run the same job twice; queued runs wake them at once', { skip }, async (t) => {
  const t0 = Date.now();
  const workers = await pollingOncePerMinute();
  const experiment = await createExperiment(
    ctx(researcher),
    { title: 'Short generations', hypothesis: 'Tiny and quick.', modelId: ids.tiny, technique: 'generate', params: { prompt: 'Hi', maxNewTokens: 40, stopAtEos: false }, run: false },
    jobHandlers,
  );
  t.diagnostic(`workers ready after ${Date.now() - t0} ms`);
  const jobIds: string[] = [];
  for (let i = 0; i < 8; i++) jobIds.push((await runExperiment(ctx(researcher), experiment.id, { seed: i }, jobHandlers)).job.id);
  const rows = await waitFor('all eight runs to finish', async () => {
    const all = await Promise.all(jobIds.map((id) => loadJob(database.db, id)));
    return all.every((r) => r && ['completed', 'failed', 'cancelled'].includes(r.status)) ? (all as JobRow[]) : null;
  });
  t.diagnostic(`runs: ${rows.map((r) => `${r.startedAt!.getTime() - r.createdAt.getTime()}+${r.finishedAt!.getTime() - r.startedAt!.getTime()}`).join(' ')} ms; all done after ${Date.now() - t0} ms`);
  const byWorker = new Map<string, number>();
  for (const row of rows) {
    assert.equal(row.status, 'completed', JSON.stringify(row.error));
    assert.equal(row.attempts, 1, 'claimed once');
    assert.equal((row.summary as { stored: boolean }).stored, true, 'its worker stored the result');
    const started = await events(row.id, 'job.started');
    assert.equal(started.length, 1, `one job.started for ${row.id}, not ${started.length}`);
    assert.equal(started[0]!.attempt, 1);
    byWorker.set(started[0]!.worker!, (byWorker.get(started[0]!.worker!) ?? 0) + 1);
    assert.deepEqual((await events(row.id, 'job.completed')).map((e) => e.worker), [started[0]!.worker], 'finished by the worker that claimed it');
    const runs = await runOf(row.id);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.stored, true);
    // Queued to started well under the minute-long poll: the worker was woken.
    assert.ok(row.startedAt!.getTime() - row.createdAt.getTime() < 20_000, `started ${row.startedAt!.getTime() - row.createdAt.getTime()} ms after queuing`);
  }
  assert.deepEqual([...byWorker.keys()].sort(), workers.map((w) => w.id).sort(), `both workers took part: ${JSON.stringify([...byWorker])}`);
  assert.equal([...byWorker.values()].reduce((a, b) => a + b, 0), 8);
});

test('idle workers start a queued run within moments, not at their next poll (LISTEN menagerie_jobs)', { skip }, async (t) => {
  const workers = await pollingOncePerMinute();
  const experiment = await createExperiment(
    ctx(researcher),
    { title: 'Wake up', hypothesis: 'It starts at once.', modelId: ids.tiny, technique: 'attention', params: { prompt: 'Hello world' }, run: false },
    jobHandlers,
  );
  await new Promise((r) => setTimeout(r, 300)); // nothing is left for them from before
  const latencies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const queuedAt = Date.now();
    const { job } = await runExperiment(ctx(researcher), experiment.id, {}, jobHandlers);
    const row = await waitFor('the run to start', async () => {
      const r = await loadJob(database.db, job.id);
      return r?.startedAt ? r : null;
    });
    latencies.push(row.startedAt!.getTime() - queuedAt);
    await waitFor('the run to finish', async () => (await loadJob(database.db, job.id))?.status === 'completed');
  }
  t.diagnostic(`queued to started: ${latencies.join(', ')} ms`);
  // The poll is a minute: anything under a few seconds is the notification (typically a few ms; generous for a busy CI).
  assert.ok(Math.max(...latencies) < 3000, `queued to started: ${latencies.join(', ')} ms`);
  await Promise.all(workers.map((w) => stop(w.child)));
  for (const w of workers) assert.doesNotMatch(w.output(), / error /, w.output());
});
