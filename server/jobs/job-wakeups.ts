import { JOBS_CHANNEL } from '../../core/jobs/job-notify.ts';
import type { JobWorkerOptions } from '../../core/jobs/job-worker.ts';
import { listenForNotifications } from '../db/listen.ts';
import type { Logger } from '../logger.ts';

/**
 * A JobWorker's `listen` option for a PostgreSQL server: a dedicated connection LISTENing on `menagerie_jobs`, so a
 * job queued, resumed or requeued by any process is claimed at once instead of at the next poll. A broken
 * connection is logged and re-established (the worker keeps polling meanwhile, and looks for work once it is back).
 */
export function jobWakeups(databaseUrl: string, logger: Pick<Logger, 'error'>): NonNullable<JobWorkerOptions['listen']> {
  return (onClaimable) =>
    listenForNotifications(databaseUrl, JOBS_CHANNEL, {
      onNotify: (kind) => onClaimable(kind),
      onError: (error) => logger.error('job worker: listening for queued jobs failed; polling meanwhile', { error: String(error) }),
    });
}
