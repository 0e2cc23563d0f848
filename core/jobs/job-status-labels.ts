import type { JobStatus } from './job.schema.ts';

/** How a job's status reads on its page, server-rendered and updated live alike (kept free of server imports). */
export const JOB_STATUS_LABELS: Record<JobStatus, string> = {
  queued: 'Waiting for a worker',
  running: 'Running',
  paused: 'Paused',
  cancelled: 'Cancelled',
  completed: 'Completed',
  failed: 'Failed',
};
