import type { Ctx } from '../context.ts';
import { inTransaction, type Db } from '../db.ts';
import { AppError } from '../errors.ts';
import { recordEvent } from '../history.ts';
import { parseOrThrow } from '../validation.ts';
import { notifyJobClaimable } from './job-notify.ts';
import type { JobHandlerRegistry } from './job-registry.ts';
import type { JobRow } from './job.queries.ts';
import { jobs } from './job.schema.ts';

export interface EnqueueOptions {
  /** The handlers the payload is checked against (the job's kind must be one of them). */
  handlers: JobHandlerRegistry;
  /** Not claimable before this time. */
  runAfter?: Date;
  /** The progress total known at creation (e.g. the number of items), shown before a worker starts. */
  total?: number;
  /** Writes that belong with the job (its items), in the same transaction, after the job row exists. */
  withJob?: (tx: Db, job: JobRow) => Promise<void>;
}

/**
 * Queues a job: checks the payload with its handler's schema (422 naming each field, nothing stored), writes the
 * row and a `job.queued` event in one transaction. Called inside a caller's transaction it joins it (a savepoint),
 * so a job and the rows it works on are created together or not at all. A job claimable now is announced with
 * `NOTIFY menagerie_jobs` in the same transaction (delivered at commit): workers on a PostgreSQL server LISTEN and
 * claim it at once; others find it on their next poll, and the in-process worker is woken by the caller after commit
 * (see server/jobs/job-runtime.ts).
 */
export async function enqueueJob(ctx: Ctx, job: { kind: string; payload: unknown }, options: EnqueueOptions): Promise<JobRow> {
  if (ctx.actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in to start a job.');
  const handler = options.handlers.get(job.kind);
  if (!handler) throw new AppError('validation_failed', `There is no job kind "${job.kind}".`, { fields: { kind: `unknown job kind "${job.kind}"` } });
  const payload = parseOrThrow(handler.payloadSchema, job.payload, 'The job') as Record<string, unknown>;
  const actorId = ctx.actor.id;
  const now = ctx.now();
  return inTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .insert(jobs)
      .values({
        kind: job.kind,
        payload,
        progress: { done: 0, total: options.total ?? 0 },
        runAfter: options.runAfter ?? null,
        createdBy: actorId,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await recordEvent(tx, { type: 'job.queued', entityType: 'job', entityId: row!.id, actorId, payload: { kind: job.kind } });
    await options.withJob?.(tx, row!);
    if (!options.runAfter || options.runAfter.getTime() <= now.getTime()) await notifyJobClaimable(tx, job.kind);
    return row!;
  });
}
