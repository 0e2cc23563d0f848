import { EventEmitter, setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { and, eq, sql } from 'drizzle-orm';
import { inTransaction, rowsOf, type Db } from '../db.ts';
import { recordEvent } from '../history.ts';
import type { JobLogger, JobOutcome, JobRunContext } from './job-handler.ts';
import { notifyJobClaimable } from './job-notify.ts';
import type { JobHandlerRegistry } from './job-registry.ts';
import { loadJob, type JobRow } from './job.queries.ts';
import { jobs, type JobProgress } from './job.schema.ts';

export interface JobWorkerOptions {
  db: Db;
  now: () => Date;
  logger: JobLogger;
  /** The judge key variables handlers may read (never logged). */
  env: Readonly<Record<string, string | undefined>>;
  handlers: JobHandlerRegistry;
  /** Jobs run at once by this worker (default 2). */
  concurrency?: number;
  /** How often an idle worker looks for claimable jobs, in ms (default 1000). */
  pollMs?: number;
  /** How often a running job's heartbeat is written, in ms (default 5000). */
  heartbeatMs?: number;
  /** A running job whose heartbeat is older than this is claimable again (its worker died), in ms (default 30000). */
  lapseMs?: number;
  /** Progress is written to the job row at most this often, in ms (default 500). */
  progressMs?: number;
  /** Claims of one job before it is failed instead of retried (a job that kills its worker every time), default 5. */
  maxAttempts?: number;
  /**
   * Labels this worker in `claimed_by`: `name:host:pid:n` (default `host:pid:n`, n counting this process's workers),
   * so workers in different processes or on different hosts never share a name.
   */
  name?: string;
  /**
   * Wake-ups from other processes: called by `start()` with a callback taking the kind of a job that became
   * claimable (undefined: any kind); returns the subscription, closed by `stop()`. On a PostgreSQL server this is a
   * dedicated connection that LISTENs on `menagerie_jobs` (server/jobs/job-wakeups.ts). Polling every `pollMs` stays
   * as the fallback (a lost connection, a notification missed while reconnecting).
   */
  listen?: (onClaimable: (kind?: string) => void) => JobWakeupSubscription;
}

export interface JobWakeupSubscription {
  /** Resolves once notifications are being received (or listening failed: polling goes on regardless). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface JobWorkerEvents {
  /** A job's row changed and the change is committed (claimed, progress, paused, finished...): broadcast it. */
  changed: [jobId: string];
}

type StopReason = 'cancel' | 'pause' | 'stop' | 'lost';

interface RunningJob {
  row: JobRow;
  abort: AbortController;
  why: StopReason | null;
  latest: JobProgress;
  dirty: boolean;
  lastWrite: number;
  flushTimer: NodeJS.Timeout | undefined;
  heartbeat: NodeJS.Timeout | undefined;
  /** Progress writes, chained so they land in order and the final write waits for them. */
  writes: Promise<void>;
  done: Promise<void>;
}

let workerCounter = 0;

/**
 * Runs queued jobs from the `jobs` table (the protocol is in core/jobs/README.md): claims one at a time with
 * `FOR UPDATE SKIP LOCKED` (queued jobs whose `run_after` has come, paused jobs due to resume, running jobs whose
 * heartbeat lapsed), runs its handler with an AbortSignal, writes a heartbeat every `heartbeatMs` (reading back
 * whether someone asked to cancel or paused it), writes progress at most every `progressMs`, and records how the
 * run ended. Any number of workers, in any number of processes, can serve one database.
 */
export class JobWorker {
  readonly events = new EventEmitter<JobWorkerEvents>();
  readonly id: string;
  private readonly running = new Map<string, RunningJob>();
  private readonly o: Required<Omit<JobWorkerOptions, 'name' | 'listen'>> & Pick<JobWorkerOptions, 'listen'>;
  private pollTimer: NodeJS.Timeout | undefined;
  private wakeups: JobWakeupSubscription | undefined;
  private pumping: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(options: JobWorkerOptions) {
    this.o = { concurrency: 2, pollMs: 1000, heartbeatMs: 5000, lapseMs: 30_000, progressMs: 500, maxAttempts: 5, ...options };
    this.id = `${options.name ? `${options.name}:` : ''}${hostname()}:${process.pid}:${++workerCounter}`;
  }

  /** Starts polling and listening for wake-ups (and claims what is claimable now). */
  start(): this {
    this.stopped = false;
    this.pollTimer ??= setInterval(() => this.wake(), this.o.pollMs);
    this.wakeups ??= this.o.listen?.((kind) => {
      if (kind === undefined || this.o.handlers.has(kind)) this.wake();
    });
    this.wake();
    return this;
  }

  /** Resolves once wake-ups from other processes are being received (at once without `listen`). */
  async listening(): Promise<void> {
    await this.wakeups?.ready;
  }

  /** Looks for claimable jobs now (call after queuing or resuming a job in this process). */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => (this.pumping = null));
  }

  /** Re-reads a running job's row now (after a person cancelled or paused it in this process). */
  nudge(jobId: string): void {
    const run = this.running.get(jobId);
    if (run) void this.beat(run);
  }

  /** Ids of the jobs this worker is running. */
  runningJobs(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Stops: no more claims; running handlers are signalled and stop between items; their jobs go back to `queued`
   * (another worker, or this one after a restart, resumes them without redoing finished items).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    const wakeups = this.wakeups;
    this.wakeups = undefined;
    await wakeups?.close();
    await this.pumping;
    for (const run of this.running.values()) this.interrupt(run, 'stop');
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /** Claims and runs until nothing claimable is left and nothing runs (tests and `menagerie worker --once`). */
  async drain(): Promise<void> {
    for (;;) {
      this.wake();
      await this.pumping;
      if (this.running.size === 0) return;
      await Promise.race([...this.running.values()].map((r) => r.done));
    }
  }

  private async pump(): Promise<void> {
    do {
      this.again = false;
      while (!this.stopped && this.running.size < this.o.concurrency) {
        let row: JobRow | null;
        try {
          row = await this.claim();
        } catch (error) {
          this.o.logger.error('job worker: claiming failed', { error: String((error as Error)?.stack ?? error) });
          return;
        }
        if (!row) break;
        this.run(row);
      }
    } while (this.again && !this.stopped);
  }

  /** Claims the oldest claimable job, or returns null. A job that cannot run (cancelled, too many attempts) is ended here. */
  private async claim(): Promise<JobRow | null> {
    for (;;) {
      const now = this.o.now();
      const lapsed = new Date(now.getTime() - this.o.lapseMs);
      const kinds = [...this.o.handlers.keys()];
      if (kinds.length === 0) return null;
      // Not a job this worker is still running (one paused and resumed while its run winds down): it is claimed
      // again once that run has ended.
      const running = [...this.running.keys()];
      const outcome = await inTransaction(this.o.db, async (tx): Promise<{ row: JobRow | null } | { ended: string }> => {
        const [picked] = rowsOf<{ id: string; was: string; previous: string | null }>(
          await tx.execute(sql`
            WITH picked AS (
              SELECT id, status::text AS was, claimed_by AS previous FROM jobs
              WHERE kind IN (${sql.join(kinds.map((k) => sql`${k}`), sql`, `)})
                ${running.length > 0 ? sql`AND id <> ALL (${`{${running.join(',')}}`}::uuid[])` : sql``} AND (
                   (status = 'queued' AND (run_after IS NULL OR run_after <= ${now.toISOString()}::timestamptz))
                OR (status = 'paused' AND run_after IS NOT NULL AND run_after <= ${now.toISOString()}::timestamptz)
                OR (status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < ${lapsed.toISOString()}::timestamptz)))
              ORDER BY created_at, id
              LIMIT 1
              FOR UPDATE SKIP LOCKED)
            UPDATE jobs j SET status = 'running', claimed_by = ${this.id}, heartbeat_at = ${now.toISOString()}::timestamptz,
              attempts = j.attempts + 1, started_at = coalesce(j.started_at, ${now.toISOString()}::timestamptz), run_after = NULL,
              error = NULL, updated_at = ${now.toISOString()}::timestamptz
            FROM picked WHERE j.id = picked.id
            RETURNING j.id, picked.was, picked.previous`),
        );
        if (!picked) return { row: null };
        const row = (await loadJob(tx, picked.id))!;
        const reclaimed = picked.was === 'running';
        if (row.cancelRequested) {
          await this.end(tx, row, { status: 'cancelled', finishedAt: now }, 'job.cancelled', { reason: 'cancel requested before this claim' });
          return { ended: row.id };
        }
        if (reclaimed && row.attempts > this.o.maxAttempts) {
          const error = { id: 'internal', message: `The job's worker stopped without finishing it ${row.attempts - 1} times; it is not retried again. Start a new job (finished items are kept).` };
          await this.end(tx, row, { status: 'failed', error, finishedAt: now }, 'job.failed', { error: error.id });
          return { ended: row.id };
        }
        await recordEvent(tx, {
          type: 'job.started',
          entityType: 'job',
          entityId: row.id,
          actorId: null,
          payload: { worker: this.id, attempt: row.attempts, ...(reclaimed ? { reclaimedFrom: picked.previous } : {}), resumedFrom: picked.was },
        });
        return { row };
      });
      if ('ended' in outcome) {
        this.events.emit('changed', outcome.ended);
        continue;
      }
      if (outcome.row) this.events.emit('changed', outcome.row.id);
      return outcome.row;
    }
  }

  private async end(tx: Db, row: JobRow, change: Partial<typeof jobs.$inferInsert>, event: string, payload: Record<string, unknown>): Promise<void> {
    await tx.update(jobs).set({ ...change, claimedBy: null, heartbeatAt: null, updatedAt: this.o.now() }).where(eq(jobs.id, row.id));
    await recordEvent(tx, { type: event, entityType: 'job', entityId: row.id, actorId: null, payload: { kind: row.kind, ...payload } });
  }

  private run(row: JobRow): void {
    const handler = this.o.handlers.get(row.kind)!;
    const run: RunningJob = {
      row,
      abort: new AbortController(),
      why: null,
      latest: row.progress ?? { done: 0, total: 0 },
      dirty: false,
      lastWrite: 0,
      flushTimer: undefined,
      heartbeat: undefined,
      writes: Promise.resolve(),
      done: Promise.resolve(),
    };
    // A handler may wait on the signal in many places at once (a judge's concurrent requests): not a leak.
    setMaxListeners(0, run.abort.signal);
    this.running.set(row.id, run);
    run.heartbeat = setInterval(() => void this.beat(run), this.o.heartbeatMs);
    run.done = (async () => {
      let outcome: JobOutcome;
      try {
        const parsed = handler.payloadSchema.safeParse(row.payload);
        if (!parsed.success) {
          outcome = { status: 'failed', error: { id: 'validation_failed', message: `The job's payload is no longer valid for "${row.kind}": ${parsed.error.issues[0]?.message ?? 'invalid'}.` } };
        } else {
          const context: JobRunContext<unknown> = {
            db: this.o.db,
            now: this.o.now,
            logger: this.o.logger,
            env: this.o.env,
            job: { id: row.id, kind: row.kind, payload: parsed.data, createdBy: row.createdBy, attempts: row.attempts },
            signal: run.abort.signal,
            progress: (progress) => this.progress(run, progress),
          };
          outcome = await handler.run(context);
        }
      } catch (error) {
        if (run.abort.signal.aborted) outcome = { status: 'interrupted' };
        else {
          this.o.logger.error('job handler failed', { jobId: row.id, kind: row.kind, error: String((error as Error)?.stack ?? error) });
          outcome = { status: 'failed', error: { id: 'internal', message: 'The job stopped on an unexpected error on our side; what it finished is kept. Try again, or tell an admin if it happens again.' } };
        }
      }
      clearInterval(run.heartbeat);
      clearTimeout(run.flushTimer);
      try {
        await this.finish(run, outcome);
      } catch (error) {
        // The row stays `running` under our claim: its heartbeat lapses and another claim retries it.
        this.o.logger.error('job worker: could not record how a job ended', { jobId: row.id, error: String((error as Error)?.stack ?? error) });
      }
      this.running.delete(row.id);
      this.events.emit('changed', row.id);
      this.wake();
    })();
  }

  private interrupt(run: RunningJob, why: StopReason): void {
    run.why ??= why;
    run.abort.abort(new Error(`job ${why}`));
  }

  /** Writes the heartbeat and reads back whether the job was cancelled, paused, or taken over. */
  private async beat(run: RunningJob): Promise<void> {
    if (run.abort.signal.aborted) return;
    try {
      const [row] = await this.o.db
        .update(jobs)
        .set({ heartbeatAt: this.o.now() })
        .where(and(eq(jobs.id, run.row.id), eq(jobs.claimedBy, this.id), eq(jobs.attempts, run.row.attempts), eq(jobs.status, 'running')))
        .returning({ cancelRequested: jobs.cancelRequested });
      if (!row) {
        const now = await loadJob(this.o.db, run.row.id);
        this.interrupt(run, now?.status === 'paused' ? 'pause' : 'lost');
      } else if (row.cancelRequested) this.interrupt(run, 'cancel');
    } catch (error) {
      this.o.logger.error('job worker: heartbeat failed', { jobId: run.row.id, error: String(error) });
    }
  }

  private progress(run: RunningJob, progress: JobProgress): void {
    run.latest = progress;
    run.dirty = true;
    if (run.flushTimer) return;
    const wait = Math.max(0, run.lastWrite + this.o.progressMs - Date.now());
    run.flushTimer = setTimeout(() => {
      run.flushTimer = undefined;
      if (!run.dirty || !this.running.has(run.row.id)) return;
      run.dirty = false;
      run.lastWrite = Date.now();
      const progress = run.latest;
      run.writes = run.writes.then(async () => {
        try {
          const written = await this.o.db
            .update(jobs)
            .set({ progress, updatedAt: this.o.now() })
            .where(and(eq(jobs.id, run.row.id), eq(jobs.claimedBy, this.id), eq(jobs.attempts, run.row.attempts)))
            .returning({ id: jobs.id });
          if (written.length) this.events.emit('changed', run.row.id);
        } catch (error) {
          this.o.logger.error('job worker: progress write failed', { jobId: run.row.id, error: String(error) });
        }
      });
    }, wait);
  }

  /** Records how a run ended, in one transaction with its event, unless the job is no longer ours. */
  private async finish(run: RunningJob, outcome: JobOutcome): Promise<void> {
    await run.writes;
    const now = this.o.now();
    const progress = run.latest;
    await inTransaction(this.o.db, async (tx) => {
      const row = await loadJob(tx, run.row.id, { forUpdate: true });
      // Taken over after our heartbeat lapsed, or claimed again since (paused, resumed and claimed while this run
      // was still winding down): the new claim decides. A claim is its worker and its attempt number.
      if (!row || row.claimedBy !== this.id || row.attempts !== run.row.attempts) return;
      if (row.status !== 'running') {
        // Paused by a person while it ran: keep their decision, release the claim.
        await tx.update(jobs).set({ progress, claimedBy: null, heartbeatAt: null, updatedAt: now }).where(eq(jobs.id, row.id));
        return;
      }
      const base = { progress, claimedBy: null, heartbeatAt: null, updatedAt: now };
      let change: Partial<typeof jobs.$inferInsert>;
      let event: string;
      let payload: Record<string, unknown> = {};
      switch (outcome.status) {
        case 'completed':
          change = { status: 'completed', summary: outcome.summary, finishedAt: now };
          event = 'job.completed';
          break;
        case 'failed':
          change = { status: 'failed', error: outcome.error, finishedAt: now, ...(outcome.summary ? { summary: outcome.summary } : {}) };
          event = 'job.failed';
          payload = { error: outcome.error.id };
          break;
        case 'paused':
          change = { status: 'paused', runAfter: outcome.resumeAt, error: outcome.error };
          event = 'job.paused';
          payload = { by: 'outage', error: outcome.error.id, resumeAt: outcome.resumeAt.toISOString() };
          break;
        case 'interrupted':
          if (row.cancelRequested) {
            change = { status: 'cancelled', finishedAt: now, ...(outcome.summary ? { summary: outcome.summary } : {}) };
            event = 'job.cancelled';
          } else {
            change = { status: 'queued' };
            event = 'job.requeued';
            payload = { reason: run.why ?? 'interrupted' };
            await notifyJobClaimable(tx, row.kind); // another worker may take it on at once
          }
          break;
      }
      await tx.update(jobs).set({ ...base, ...change }).where(eq(jobs.id, row.id));
      await recordEvent(tx, { type: event, entityType: 'job', entityId: row.id, actorId: null, payload: { kind: row.kind, worker: this.id, ...payload } });
    });
  }
}
