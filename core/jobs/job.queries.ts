import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { users } from '../../accounts/account.schema.ts';
import type { Db } from '../db.ts';
import { jobs, type JobStatus } from './job.schema.ts';

export type JobRow = typeof jobs.$inferSelect;
export type JobWithCreator = JobRow & { creatorName: string | null };

/** One job, or null. */
export async function loadJob(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<JobRow | null> {
  const query = db.select().from(jobs).where(eq(jobs.id, id));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row ?? null;
}

/** One job with its creator's display name, for pages and the API. */
export async function loadJobWithCreator(db: Db, id: string): Promise<JobWithCreator | null> {
  const [row] = await db
    .select({ job: jobs, creatorName: users.displayName })
    .from(jobs)
    .leftJoin(users, eq(users.id, jobs.createdBy))
    .where(eq(jobs.id, id));
  return row ? { ...row.job, creatorName: row.creatorName } : null;
}

export interface JobListFilters {
  kind?: string | undefined;
  status?: JobStatus | undefined;
  createdBy?: string | undefined;
  limit: number;
}

/** Jobs newest first, optionally of one kind, status or creator. */
export async function listJobs(db: Db, filters: JobListFilters): Promise<JobWithCreator[]> {
  const where: SQL[] = [];
  if (filters.kind) where.push(eq(jobs.kind, filters.kind));
  if (filters.status) where.push(eq(jobs.status, filters.status));
  if (filters.createdBy) where.push(eq(jobs.createdBy, filters.createdBy));
  const rows = await db
    .select({ job: jobs, creatorName: users.displayName })
    .from(jobs)
    .leftJoin(users, eq(users.id, jobs.createdBy))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(filters.limit);
  return rows.map((r) => ({ ...r.job, creatorName: r.creatorName }));
}

/** The `updated_at` of each of these jobs (the realtime layer notices changes made by other processes). */
export async function jobVersions(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: jobs.id, updatedAt: jobs.updatedAt }).from(jobs).where(inArray(jobs.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r.updatedAt.getTime()]));
}

/** Counts by status, e.g. for a nav badge or a health check. */
export async function countJobsByStatus(db: Db): Promise<Record<string, number>> {
  const rows = await db.select({ status: jobs.status, n: sql<number>`count(*)::int` }).from(jobs).groupBy(jobs.status);
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
