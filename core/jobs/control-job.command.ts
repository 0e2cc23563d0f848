import { eq } from 'drizzle-orm';
import type { Ctx } from '../context.ts';
import { inTransaction } from '../db.ts';
import { conflict, notFound } from '../errors.ts';
import { recordEvent } from '../history.ts';
import { notifyJobClaimable } from './job-notify.ts';
import { loadJob, type JobRow } from './job.queries.ts';
import { finalJobStatuses, jobs, type JobStatus } from './job.schema.ts';

/**
 * What a person can do to a job: cancel, pause, resume. Each is one transaction with its event. The running
 * worker learns of a cancel or pause from its heartbeat (or at once when it runs in this process and is nudged
 * after commit) and stops between items.
 */
export type JobControl = 'cancel' | 'pause' | 'resume';

const finishedMessage = (verb: string, status: JobStatus) =>
  `This job has already ${status === 'completed' ? 'completed' : status === 'failed' ? 'failed' : 'been cancelled'}, so it cannot be ${verb}.`;

/**
 * Cancels a job: a queued or paused job is cancelled at once; a running one is marked `cancel_requested` and its
 * worker stops between items and marks it cancelled (what it finished is kept). 409 on a finished job.
 */
export async function cancelJob(ctx: Ctx, id: string): Promise<JobRow> {
  return control(ctx, id, 'cancel', (row) => {
    if (finalJobStatuses.includes(row.status)) throw conflict(finishedMessage('cancelled', row.status), { status: row.status });
    if (row.status === 'running') {
      if (row.cancelRequested) return null;
      return { change: { cancelRequested: ctx.now() }, event: 'job.cancel_requested' };
    }
    return { change: { status: 'cancelled', cancelRequested: row.cancelRequested ?? ctx.now(), finishedAt: ctx.now(), runAfter: null, claimedBy: null, heartbeatAt: null }, event: 'job.cancelled' };
  });
}

/**
 * Pauses a job until a person resumes it: a queued or running job becomes `paused` with no resume time (a
 * running worker stops between items). A job paused by an outage stays paused but no longer resumes by itself.
 * 409 on a finished job.
 */
export async function pauseJob(ctx: Ctx, id: string): Promise<JobRow> {
  return control(ctx, id, 'pause', (row) => {
    if (finalJobStatuses.includes(row.status)) throw conflict(finishedMessage('paused', row.status), { status: row.status });
    if (row.status === 'paused' && row.runAfter === null) return null;
    return { change: { status: 'paused', runAfter: null }, event: 'job.paused', payload: { by: 'person' } };
  });
}

/** Resumes a paused job (queued for the next free worker at once, also one paused by an outage). 409 unless paused. */
export async function resumeJob(ctx: Ctx, id: string): Promise<JobRow> {
  return control(ctx, id, 'resume', (row) => {
    if (finalJobStatuses.includes(row.status)) throw conflict(finishedMessage('resumed', row.status), { status: row.status });
    if (row.status !== 'paused') throw conflict(`This job is ${row.status}, not paused, so there is nothing to resume.`, { status: row.status });
    return { change: { status: 'queued', runAfter: null, error: null }, event: 'job.resumed' };
  });
}

type Change = { change: Partial<typeof jobs.$inferInsert>; event: string; payload?: Record<string, unknown> } | null;

async function control(ctx: Ctx, id: string, _what: JobControl, decide: (row: JobRow) => Change): Promise<JobRow> {
  const actorId = ctx.actor.kind === 'user' ? ctx.actor.id : null;
  return inTransaction(ctx.db, async (tx) => {
    const row = await loadJob(tx, id, { forUpdate: true });
    if (!row) throw notFound('That job');
    const decided = decide(row);
    if (!decided) return row;
    const [updated] = await tx.update(jobs).set({ ...decided.change, updatedAt: ctx.now() }).where(eq(jobs.id, id)).returning();
    await recordEvent(tx, { type: decided.event, entityType: 'job', entityId: id, actorId, payload: { kind: row.kind, from: row.status, ...decided.payload } });
    // A resumed job is claimable again: workers in other processes hear of it at commit.
    if (updated!.status === 'queued') await notifyJobClaimable(tx, row.kind);
    return updated!;
  });
}
