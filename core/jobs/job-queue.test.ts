import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { UserActor } from '../../accounts/actor.ts';
import { createUser } from '../../accounts/create-user.command.ts';
import type { Database } from '../../server/db/client.ts';
import { listenForNotifications } from '../../server/db/listen.ts';
import { jobWakeups } from '../../server/jobs/job-wakeups.ts';
import { createTestDatabase } from '../../test/support/test-db.ts';
import { anonymous } from '../../accounts/actor.ts';
import type { Ctx } from '../context.ts';
import { rowsOf } from '../db.ts';
import { cancelJob, pauseJob, resumeJob } from './control-job.command.ts';
import { enqueueJob } from './enqueue-job.command.ts';
import { JOBS_CHANNEL } from './job-notify.ts';
import type { JobHandler } from './job-handler.ts';
import { jobHandlerRegistry } from './job-registry.ts';
import { JobWorker, type JobWorkerOptions } from './job-worker.ts';
import { loadJob } from './job.queries.ts';
import { jobs } from './job.schema.ts';

let database: Database;
let actor: UserActor;
const clock = { offsetMs: 0 };
const now = () => new Date(Date.now() + clock.offsetMs);
const silent = { info() {}, error() {} };

/** Which worker ran each job, and how often: a handler that records runs (state a real handler keeps in its tables). */
const runs = new Map<string, string[]>();
/** Jobs a `test-wait` handler is running; it stops when its signal fires (between "items"). */
const waiting = new Map<string, () => void>();
/** Jobs the `test-outage` handler has already paused once. */
const pausedOnce = new Set<string>();

const sleepHandler: JobHandler<{ ms: number }> = {
  kind: 'test-sleep',
  payloadSchema: z.object({ ms: z.number().int().min(0).max(5000) }).strict(),
  describe: (p) => `Sleep ${p.ms} ms`,
  async run(ctx) {
    const list = runs.get(ctx.job.id) ?? [];
    list.push(String(ctx.job.attempts));
    runs.set(ctx.job.id, list);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, ctx.job.payload.ms / 4));
      ctx.progress({ done: i + 1, total: 4 });
    }
    return { status: 'completed', summary: { slept: ctx.job.payload.ms } };
  },
};

const waitHandler: JobHandler<{ label: string }> = {
  kind: 'test-wait',
  payloadSchema: z.object({ label: z.string() }),
  describe: (p) => `Wait ${p.label}`,
  async run(ctx) {
    let step = 0;
    while (!ctx.signal.aborted) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        waiting.set(ctx.job.id, () => {
          clearTimeout(t);
          resolve();
        });
      });
      ctx.progress({ done: ++step, total: 1000 });
    }
    waiting.delete(ctx.job.id);
    return { status: 'interrupted', summary: { steps: step } };
  },
};

const outageHandler: JobHandler<{ label: string }> = {
  kind: 'test-outage',
  payloadSchema: z.object({ label: z.string() }),
  describe: (p) => p.label,
  async run(ctx) {
    if (!pausedOnce.has(ctx.job.id)) {
      pausedOnce.add(ctx.job.id);
      return { status: 'paused', resumeAt: new Date(ctx.now().getTime() + 60 * 60_000), error: { id: 'judge_unavailable', message: 'The provider is down.' } };
    }
    return { status: 'completed', summary: { resumed: true } };
  },
};

/** Runs of a `test-slow-stop` job going on now, and the most ever at once. */
const slowActive = new Map<string, number>();
const slowMostAtOnce = new Map<string, number>();

const slowStopHandler: JobHandler<{ label: string }> = {
  kind: 'test-slow-stop',
  payloadSchema: z.object({ label: z.string() }),
  describe: (p) => p.label,
  async run(ctx) {
    const id = ctx.job.id;
    slowActive.set(id, (slowActive.get(id) ?? 0) + 1);
    slowMostAtOnce.set(id, Math.max(slowMostAtOnce.get(id) ?? 0, slowActive.get(id)!));
    try {
      let step = 0;
      while (!ctx.signal.aborted) {
        await new Promise((r) => setTimeout(r, 20));
        ctx.progress({ done: ++step, total: 1000 });
      }
      // Winds down slowly once stopped, as a judge's call in flight does.
      await new Promise((r) => setTimeout(r, 400));
      return { status: 'interrupted', summary: { steps: step } };
    } finally {
      slowActive.set(id, slowActive.get(id)! - 1);
    }
  },
};

const handlers = jobHandlerRegistry([sleepHandler, waitHandler, outageHandler, slowStopHandler]);

function worker(options: Partial<JobWorkerOptions> = {}): JobWorker {
  return new JobWorker({ db: database.db, now, logger: silent, env: {}, handlers, pollMs: 50, heartbeatMs: 50, lapseMs: 1000, progressMs: 20, ...options });
}

const ctx = (): Ctx => ({ db: database.db, actor, now });

async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  database = await createTestDatabase();
  const created = await createUser({ db: database.db, actor: anonymous, now }, { email: 'jobs@example.test', password: 'correct horse battery', displayName: 'Job Runner', role: 'researcher' });
  actor = { kind: 'user', id: created.id, role: created.role, email: 'jobs@example.test', displayName: 'Job Runner', via: 'system' };
});
after(() => database.close());

test('enqueueJob checks the payload with its handler, and stores the row with a job.queued event', async () => {
  await assert.rejects(enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: -1 } }, { handlers }), (e: any) => e.id === 'validation_failed' && 'ms' in e.details.fields);
  await assert.rejects(enqueueJob(ctx(), { kind: 'nope', payload: {} }, { handlers }), (e: any) => e.id === 'validation_failed');
  await assert.rejects(enqueueJob({ ...ctx(), actor: anonymous }, { kind: 'test-sleep', payload: { ms: 1 } }, { handlers }), (e: any) => e.id === 'unauthenticated');
  const job = await enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: 1 } }, { handlers, total: 7 });
  assert.equal(job.status, 'queued');
  assert.deepEqual(job.progress, { done: 0, total: 7 });
  const events = rowsOf<{ type: string }>(await database.db.execute(sql`SELECT type FROM events WHERE entity_id = ${job.id}`));
  assert.deepEqual(events.map((e) => e.type), ['job.queued']);
  await cancelJob(ctx(), job.id);
});

test('a job queued inside a caller\'s transaction that rolls back leaves nothing behind', async () => {
  const before = rowsOf<{ n: number }>(await database.db.execute(sql`SELECT count(*)::int AS n FROM jobs`))[0]!.n;
  await assert.rejects(
    database.db.transaction(async (tx) => {
      await enqueueJob({ ...ctx(), db: tx as never }, { kind: 'test-sleep', payload: { ms: 1 } }, { handlers });
      throw new Error('the caller fails after queuing');
    }),
  );
  const afterCount = rowsOf<{ n: number }>(await database.db.execute(sql`SELECT count(*)::int AS n FROM jobs`))[0]!.n;
  assert.equal(afterCount, before);
});

test('two workers never run the same job: each of 12 jobs runs exactly once', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) ids.push((await enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: 40 } }, { handlers })).id);
  // A lapse far beyond any stall of this process on a busy machine: this test is about claims, not takeovers.
  const a = worker({ concurrency: 3, name: 'a', lapseMs: 60_000 });
  const b = worker({ concurrency: 3, name: 'b', lapseMs: 60_000 });
  const claimedBy = new Map<string, Set<string>>();
  for (const w of [a, b]) w.events.on('changed', (id) => {
    void loadJob(database.db, id).then((row) => {
      if (row?.claimedBy) (claimedBy.get(id) ?? claimedBy.set(id, new Set()).get(id)!).add(row.claimedBy);
    });
  });
  a.start();
  b.start();
  await waitFor('all twelve jobs to complete', async () => {
    const rows = await database.db.select({ status: jobs.status }).from(jobs).where(sql`${jobs.id} IN (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)})`);
    return rows.every((r) => r.status === 'completed');
  });
  await Promise.all([a.stop(), b.stop()]);
  for (const id of ids) {
    assert.deepEqual(runs.get(id), ['1'], `job ${id} ran once, on its first claim`);
    const row = (await loadJob(database.db, id))!;
    assert.equal(row.attempts, 1);
    assert.equal(row.claimedBy, null, 'the claim is released');
    assert.deepEqual(row.progress, { done: 4, total: 4 });
    assert.deepEqual(row.summary, { slept: 40 });
    assert.ok(row.finishedAt && row.startedAt);
  }
  const workersUsed = new Set([...claimedBy.values()].flatMap((s) => [...s]).map((w) => w.split(':')[0]));
  assert.deepEqual([...workersUsed].sort(), ['a', 'b'], 'both workers took a share');
});

test('a running job whose heartbeat lapsed (its worker died) is claimed again and retried', async () => {
  const job = await enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: 8 } }, { handlers });
  // A worker claimed it and died: the row says running, its heartbeat is old.
  await database.db
    .update(jobs)
    .set({ status: 'running', claimedBy: 'dead-host:1:1', attempts: 1, heartbeatAt: new Date(now().getTime() - 5000), startedAt: now() })
    .where(eq(jobs.id, job.id));
  const fresh = await enqueueJob(ctx(), { kind: 'test-wait', payload: { label: 'fresh heartbeat' } }, { handlers });
  await database.db.update(jobs).set({ status: 'running', claimedBy: 'alive:1:1', attempts: 1, heartbeatAt: now() }).where(eq(jobs.id, fresh.id));

  const w = worker({ concurrency: 2 });
  w.start();
  const done = await waitFor('the lapsed job to complete', async () => {
    const row = await loadJob(database.db, job.id);
    return row?.status === 'completed' ? row : null;
  });
  assert.equal(done.attempts, 2, 'the second claim is counted');
  const alive = (await loadJob(database.db, fresh.id))!;
  assert.equal(alive.claimedBy, 'alive:1:1', 'a job with a fresh heartbeat is left to its worker');
  assert.equal(alive.attempts, 1);
  const started = rowsOf<{ payload: { reclaimedFrom?: string } }>(
    await database.db.execute(sql`SELECT payload FROM events WHERE entity_id = ${job.id} AND type = 'job.started'`),
  );
  assert.equal(started[0]?.payload.reclaimedFrom, 'dead-host:1:1');
  await w.stop();
  await database.db.update(jobs).set({ status: 'cancelled', claimedBy: null }).where(eq(jobs.id, fresh.id));
});

test('a job reclaimed more than maxAttempts times is failed, not retried for ever', async () => {
  const job = await enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: 1 } }, { handlers });
  await database.db.update(jobs).set({ status: 'running', claimedBy: 'dead:1:1', attempts: 3, heartbeatAt: new Date(now().getTime() - 5000) }).where(eq(jobs.id, job.id));
  const w = worker({ maxAttempts: 3 });
  await w.drain();
  const row = (await loadJob(database.db, job.id))!;
  assert.equal(row.status, 'failed');
  assert.match(row.error!.message, /stopped without finishing it 3 times/);
  assert.equal(runs.get(job.id), undefined, 'the handler did not run');
});

test('cancel: a queued job at once, a running one between items, a finished one is a 409 conflict', async () => {
  const queued = await enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: 1 } }, { handlers, runAfter: new Date(now().getTime() + 3_600_000) });
  const cancelled = await cancelJob(ctx(), queued.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(cancelled.finishedAt);

  const running = await enqueueJob(ctx(), { kind: 'test-wait', payload: { label: 'cancel me' } }, { handlers });
  const w = worker({ heartbeatMs: 10_000 });
  w.start();
  await waitFor('the job to run', async () => waiting.has(running.id));
  const requested = await cancelJob(ctx(), running.id);
  assert.equal(requested.status, 'running', 'a running job is asked to stop, not stopped mid-item');
  assert.ok(requested.cancelRequested);
  w.nudge(running.id); // what the web server does after commit; a worker elsewhere notices at its heartbeat
  const final = await waitFor('the cancel to land', async () => {
    const row = await loadJob(database.db, running.id);
    return row?.status === 'cancelled' ? row : null;
  });
  assert.ok((final.summary as { steps: number }).steps >= 1, 'what it did is kept in the summary');
  assert.equal(final.claimedBy, null);
  await w.stop();

  await assert.rejects(cancelJob(ctx(), running.id), (e: any) => e.id === 'conflict' && /already been cancelled/.test(e.message));
  const completed = await enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: 1 } }, { handlers });
  await worker().drain();
  for (const command of [cancelJob, pauseJob, resumeJob]) {
    await assert.rejects(command(ctx(), completed.id), (e: any) => e.id === 'conflict' && /already completed/.test(e.message));
  }
});

test('pause by a person stops a running job between items until they resume it; then it runs on', async () => {
  const job = await enqueueJob(ctx(), { kind: 'test-wait', payload: { label: 'pause me' } }, { handlers });
  const w = worker();
  w.start();
  await waitFor('the job to run', async () => waiting.has(job.id));
  await pauseJob(ctx(), job.id);
  const paused = await waitFor('the worker to let go', async () => {
    const row = await loadJob(database.db, job.id);
    return row?.status === 'paused' && row.claimedBy === null ? row : null;
  });
  assert.equal(paused.runAfter, null, 'a person\'s pause has no resume time');
  assert.ok(paused.progress.done >= 1, 'progress so far is kept');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await loadJob(database.db, job.id))!.status, 'paused', 'no worker claims it while paused');

  const resumed = await resumeJob(ctx(), job.id);
  assert.equal(resumed.status, 'queued');
  w.wake();
  await waitFor('the job to run again', async () => waiting.has(job.id) && (await loadJob(database.db, job.id))?.attempts === 2);
  await cancelJob(ctx(), job.id);
  w.nudge(job.id);
  await waitFor('it to be cancelled', async () => (await loadJob(database.db, job.id))?.status === 'cancelled');
  await w.stop();
  await assert.rejects(resumeJob(ctx(), job.id), (e: any) => e.id === 'conflict');
});

test('a job paused and resumed while its run winds down is not run twice at once, and that run\'s end leaves the next run\'s claim alone', async () => {
  const job = await enqueueJob(ctx(), { kind: 'test-slow-stop', payload: { label: 'slow to stop' } }, { handlers });
  const w = worker({ concurrency: 2 });
  w.start();
  await waitFor('the job to run', async () => slowActive.get(job.id) === 1);
  await pauseJob(ctx(), job.id);
  await resumeJob(ctx(), job.id);
  w.wake();
  // The first run is still winding down (400 ms): the job is queued, and this worker has a free slot.
  await waitFor('the job to run again', async () => (await loadJob(database.db, job.id))?.attempts === 2 && slowActive.get(job.id) === 1);
  assert.equal(slowMostAtOnce.get(job.id), 1, 'never two runs of one job at once');
  await new Promise((r) => setTimeout(r, 200));
  const second = (await loadJob(database.db, job.id))!;
  assert.equal(second.status, 'running', 'the first run\'s end did not put the job back in the queue');
  assert.equal(second.attempts, 2);
  assert.equal(second.claimedBy !== null, true);

  await cancelJob(ctx(), job.id);
  w.nudge(job.id);
  const cancelled = await waitFor('it to be cancelled', async () => {
    const row = await loadJob(database.db, job.id);
    return row?.status === 'cancelled' ? row : null;
  });
  assert.ok(cancelled.summary && typeof (cancelled.summary as { steps?: unknown }).steps === 'number', 'the cancelled run recorded its summary');
  await w.stop();
});

test('an outage pauses a job until its resume time, then it resumes by itself', async () => {
  const job = await enqueueJob(ctx(), { kind: 'test-outage', payload: { label: 'outage' } }, { handlers });
  const w = worker();
  await w.drain();
  const paused = (await loadJob(database.db, job.id))!;
  assert.equal(paused.status, 'paused');
  assert.equal(paused.error?.id, 'judge_unavailable');
  assert.ok(paused.runAfter && paused.runAfter.getTime() > now().getTime() + 50 * 60_000);
  await w.drain();
  assert.equal((await loadJob(database.db, job.id))!.status, 'paused', 'not before its time');
  clock.offsetMs += 61 * 60_000;
  try {
    await w.drain();
  } finally {
    clock.offsetMs -= 61 * 60_000;
  }
  const done = (await loadJob(database.db, job.id))!;
  assert.equal(done.status, 'completed');
  assert.equal(done.error, null, 'the outage message is cleared once it runs again');
  assert.equal(done.attempts, 2);
});

test('a stopping worker puts its running jobs back in the queue', async () => {
  const job = await enqueueJob(ctx(), { kind: 'test-wait', payload: { label: 'stop' } }, { handlers });
  const w = worker();
  w.start();
  await waitFor('the job to run', async () => waiting.has(job.id));
  await w.stop();
  const row = (await loadJob(database.db, job.id))!;
  assert.equal(row.status, 'queued');
  assert.equal(row.claimedBy, null);
  await cancelJob(ctx(), job.id);
});

test('on a PostgreSQL server: queuing and resuming NOTIFY menagerie_jobs at commit (never on rollback), and a listening worker starts the job long before its next poll', { skip: !process.env.MENAGERIE_TEST_DATABASE_URL && 'needs the PostgreSQL server (MENAGERIE_TEST_DATABASE_URL): PGlite has one connection, nobody else can LISTEN' }, async () => {
  const [{ name }] = rowsOf<{ name: string }>(await database.db.execute(sql`SELECT current_database() AS name`)) as [{ name: string }];
  const url = new URL(process.env.MENAGERIE_TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  const heard: Array<string | undefined> = [];
  const errors: Error[] = [];
  const listener = listenForNotifications(url.toString(), JOBS_CHANNEL, { onNotify: (kind) => heard.push(kind), onError: (e) => errors.push(e), retryMs: 50 });
  try {
    await listener.ready;
    await assert.rejects(
      database.db.transaction(async (tx) => {
        await enqueueJob({ ...ctx(), db: tx as never }, { kind: 'test-sleep', payload: { ms: 1 } }, { handlers });
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(heard, [], 'nothing is heard before commit');
        throw new Error('the caller fails after queuing');
      }),
    );
    await enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: 1 } }, { handlers, runAfter: new Date(now().getTime() + 3_600_000) });
    const queued = await enqueueJob(ctx(), { kind: 'test-wait', payload: { label: 'heard' } }, { handlers });
    await waitFor('the notification', async () => heard.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(heard, ['test-wait'], 'one notification, naming the kind: none for the rollback or the job due in an hour');
    await pauseJob(ctx(), queued.id);
    await resumeJob(ctx(), queued.id);
    await waitFor('the resume to be announced', async () => heard.length === 2);
    assert.equal(heard[1], 'test-wait');
    await cancelJob(ctx(), queued.id);

    // The listening connection is cut (a server restart, a network cut): it comes back, says so, and hears again.
    await database.db.execute(sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`);
    await waitFor('the listener to reconnect', async () => heard.length === 3);
    assert.equal(heard[2], undefined, 'after reconnecting it reports that notifications may have been missed');
    assert.ok(errors.length >= 1, 'the cut is reported');
    const again = await enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: 1 } }, { handlers });
    await waitFor('the next notification', async () => heard.length === 4);
    assert.equal(heard[3], 'test-sleep');
    await cancelJob(ctx(), again.id);
  } finally {
    await listener.close();
  }

  // A worker polling once a minute, woken by the notification instead.
  const w = worker({ pollMs: 60_000, listen: jobWakeups(url.toString(), silent) });
  w.start();
  await w.listening();
  await w.drain(); // nothing left from earlier tests: the worker is idle
  const queuedAt = Date.now();
  const job = await enqueueJob(ctx(), { kind: 'test-sleep', payload: { ms: 0 } }, { handlers });
  const started = await waitFor('the job to start', async () => {
    const row = await loadJob(database.db, job.id);
    return row?.startedAt ? Date.now() : null;
  });
  assert.ok(started - queuedAt < 2000, `started ${started - queuedAt} ms after queuing, not at the next poll (a minute)`);
  await waitFor('the job to complete', async () => (await loadJob(database.db, job.id))?.status === 'completed');
  await w.stop();
});
