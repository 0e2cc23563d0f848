import type { z } from 'zod';
import type { Db } from '../db.ts';
import type { JobError, JobProgress } from './job.schema.ts';

/** What a job handler may log through (the server's logger satisfies it). */
export interface JobLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What a handler gets to run one claimed job. */
export interface JobRunContext<P> {
  db: Db;
  now: () => Date;
  logger: JobLogger;
  /** The judge key variables (see AppDeps.judgeEnv); never log them. */
  env: Readonly<Record<string, string | undefined>>;
  job: { id: string; kind: string; payload: P; createdBy: string; attempts: number };
  /** Aborted when someone asks to cancel (or pause) the job, or the worker is stopping: stop between items. */
  signal: AbortSignal;
  /** Reports progress: written to the job row (throttled) and broadcast live to the job's watchers. */
  progress(progress: JobProgress): void;
}

/**
 * How a run ended. `paused` is for outages a later run can get past (a provider down or rate limiting): the job
 * becomes claimable again at `resumeAt`, and the handler must resume without redoing what it finished (it keeps
 * its own per-item state in the database). A run cut short by the signal returns `interrupted`: the queue then
 * decides from why the signal fired (cancelled, paused by a person, or the worker stopping: queued again).
 */
export type JobOutcome =
  | { status: 'completed'; summary: Record<string, unknown> }
  | { status: 'paused'; resumeAt: Date; error: JobError }
  | { status: 'failed'; error: JobError; summary?: Record<string, unknown> }
  | { status: 'interrupted'; summary?: Record<string, unknown> };

/**
 * One kind of background job: its payload's schema (checked when the job is queued and again when it is
 * claimed) and how to run it. Handlers are registered with the job queue by kind.
 */
export interface JobHandler<P = unknown> {
  kind: string;
  payloadSchema: z.ZodType<P>;
  /** A short title for lists and pages, e.g. "Judge 120 observations with gpt-4o-mini". */
  describe(payload: P): string;
  run(context: JobRunContext<P>): Promise<JobOutcome>;
  /**
   * Optional: what the job's page shows beyond progress and summary (e.g. a classification job's failed items
   * with their reasons). Read-only; JSON-serialisable.
   */
  inspect?(db: Db, job: { id: string; payload: P }): Promise<Record<string, unknown>>;
}
