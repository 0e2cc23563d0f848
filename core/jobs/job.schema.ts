import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../../accounts/account.schema.ts';

/**
 * A job's life. `queued` waits for a worker; `running` is claimed by one (its heartbeat must stay fresh, or the
 * job is claimable again); `paused` waits until `run_after` (a provider outage: the job resumes by itself, or a
 * person paused it and `run_after` is null until they resume it); `cancelled`, `completed` and `failed` are final.
 */
export const jobStatuses = ['queued', 'running', 'paused', 'cancelled', 'completed', 'failed'] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const jobStatusEnum = pgEnum('job_status', jobStatuses);
export const finalJobStatuses: readonly JobStatus[] = ['cancelled', 'completed', 'failed'];

/** What a job has done so far, as its page shows it: counts by name and an optional sentence. */
export interface JobProgress {
  done: number;
  total: number;
  /** Further counts by name (proposed, failed, skipped, droppedQuotes...). */
  counts?: Record<string, number>;
  message?: string;
}

/** Why a job stopped or paused: a stable error id and a message a person can act on. */
export interface JobError {
  id: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Background work kept in the database so any process (the web server's in-process worker, or
 * `menagerie worker` processes against the PostgreSQL server) can run it: claimed with FOR UPDATE SKIP LOCKED,
 * kept alive by a heartbeat, its progress and result written back. `kind` selects the handler; `payload` is that
 * handler's validated input; `summary` its result when it completes. Classification jobs (issue 5) are the first
 * kind; experiments (issue 7) reuse the same queue.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    kind: text('kind').notNull(),
    status: jobStatusEnum('status').notNull().default('queued'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    progress: jsonb('progress').$type<JobProgress>().notNull().default(sql`'{"done":0,"total":0}'::jsonb`),
    summary: jsonb('summary').$type<Record<string, unknown>>(),
    error: jsonb('error').$type<JobError>(),
    /** A person asked to cancel: the worker stops between items and marks the job cancelled. */
    cancelRequested: timestamp('cancel_requested', { withTimezone: true }),
    /** Not claimable before this time (a paused job's resume time; retries back off). */
    runAfter: timestamp('run_after', { withTimezone: true }),
    /** Which worker holds it (`host:pid:n`), and when it last said it is alive. */
    claimedBy: text('claimed_by'),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
    /** Times a worker has claimed it (a worker that died leaves a claim behind; the next claim counts too). */
    attempts: integer('attempts').notNull().default(0),
    createdBy: uuid('created_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('jobs_kind_created_idx').on(t.kind, t.createdAt.desc()),
    // The claim query's range: unfinished jobs in queue order.
    index('jobs_claimable_idx').on(t.createdAt).where(sql`status IN ('queued', 'running', 'paused')`),
  ],
);
