import type { Db } from '../../core/db.ts';
import { presentJob, type JobView } from '../../core/jobs/job.presenter.ts';
import { loadJobWithCreator } from '../../core/jobs/job.queries.ts';
import type { JobHandlerRegistry } from '../../core/jobs/job-registry.ts';

export type JobViewWithDetails = JobView & { details: Record<string, unknown> | null };

/** A job as the API, pages and sockets show it, with its handler's details (failures...) when asked; null when unknown. */
export async function loadJobView(db: Db, id: string, handlers: JobHandlerRegistry, options: { details?: boolean } = {}): Promise<JobViewWithDetails | null> {
  const row = await loadJobWithCreator(db, id);
  if (!row) return null;
  const view = presentJob(row, handlers);
  const handler = handlers.get(row.kind);
  let details: Record<string, unknown> | null = null;
  if (options.details && handler?.inspect) {
    const parsed = handler.payloadSchema.safeParse(row.payload);
    if (parsed.success) details = await handler.inspect(db, { id: row.id, payload: parsed.data });
  }
  return { ...view, details };
}
