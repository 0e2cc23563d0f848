import { sql } from 'drizzle-orm';
import type { Db } from '../db.ts';

/**
 * The channel on which a job that became claimable is announced: `NOTIFY menagerie_jobs, '<kind>'`, sent inside the
 * transaction that queued (or resumed, or requeued) the job, so PostgreSQL delivers it at commit, and never for a
 * transaction that rolled back. Workers on a PostgreSQL server LISTEN on it and claim at once instead of waiting
 * for their next poll (core/jobs/README.md, "Wake-ups").
 */
export const JOBS_CHANNEL = 'menagerie_jobs';

/**
 * Announces that a job of `kind` can be claimed now, delivered when the surrounding transaction commits. On PGlite
 * nobody else can connect, so nobody listens: the statement is harmless there and the in-process worker is woken
 * by the caller after commit, as before.
 */
export async function notifyJobClaimable(tx: Db, kind: string): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${JOBS_CHANNEL}, ${kind})`);
}
