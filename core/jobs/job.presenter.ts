import type { JobHandlerRegistry } from './job-registry.ts';
import type { JobWithCreator } from './job.queries.ts';
import { finalJobStatuses, type JobError, type JobProgress, type JobStatus } from './job.schema.ts';

/** A job as the API answers it and pages and sockets show it. */
export interface JobView {
  id: string;
  kind: string;
  /** The handler's short description of the payload ("Classify 120 observations with …"). */
  title: string;
  status: JobStatus;
  finished: boolean;
  progress: JobProgress;
  /** done / total, or null while the total is unknown. */
  fraction: number | null;
  payload: Record<string, unknown>;
  summary: Record<string, unknown> | null;
  error: JobError | null;
  cancelRequested: boolean;
  /** When a paused job resumes by itself (null: it waits for a person, or is not paused). */
  runAfter: string | null;
  attempts: number;
  createdBy: { id: string; displayName: string | null };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  url: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Presents a job row; the title comes from its handler (a kind nobody serves keeps its kind as title). */
export function presentJob(row: JobWithCreator, handlers: JobHandlerRegistry): JobView {
  const handler = handlers.get(row.kind);
  let title = row.kind;
  if (handler) {
    const parsed = handler.payloadSchema.safeParse(row.payload);
    if (parsed.success) title = handler.describe(parsed.data);
  }
  const progress = row.progress ?? { done: 0, total: 0 };
  return {
    id: row.id,
    kind: row.kind,
    title,
    status: row.status,
    finished: finalJobStatuses.includes(row.status),
    progress,
    fraction: progress.total > 0 ? Math.min(1, progress.done / progress.total) : null,
    payload: row.payload,
    summary: row.summary ?? null,
    error: row.error ?? null,
    cancelRequested: row.cancelRequested !== null,
    runAfter: iso(row.runAfter),
    attempts: row.attempts,
    createdBy: { id: row.createdBy, displayName: row.creatorName },
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    updatedAt: row.updatedAt.toISOString(),
    url: `/jobs/${row.id}`,
  };
}
