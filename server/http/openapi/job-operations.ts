import { classificationJobInputSchema } from '../../../observations/classify/jobs/create-classification-job.command.ts';
import { jobListQuerySchema } from '../routes/jobs.routes.ts';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';

/** Background jobs and classification jobs (core/jobs/README.md, observations/classify/jobs/README.md). */
export const jobOperations: Operation[] = [
  {
    method: 'post',
    path: '/classification-jobs',
    tag: 'Jobs',
    summary: 'Classify observations in the background',
    description:
      'Runs a classifier over `observationIds`, or over the observations the list `filters` match now (at most 10,000), as a background job. Its codings are `proposed` (or `accepted`, reviewed by you, when `autoAccept.minConfidence` is met). Follow it with `GET /api/v1/jobs/{id}` or over the socket (`job:join`). One observation needs the right to classify it; more, or filters, a researcher.',
    access: 'researcher',
    body: classificationJobInputSchema,
    success: { 201: 'The job (`status` `queued`), with a Location header' },
    errors: ['conflict'],
  },
  { method: 'get', path: '/jobs', tag: 'Jobs', summary: 'Background jobs, newest first', access: 'researcher', query: jobListQuerySchema, success: { 200: '`{ items }`' } },
  {
    method: 'get',
    path: '/jobs/:id',
    tag: 'Jobs',
    summary: 'A job: status, progress, summary, error and details',
    description: 'A classification job\'s `details` has its totals, failed observations with reasons, and proposals per behaviour.',
    access: 'researcher',
    success: { 200: 'The job' },
    errors: ['not_found'],
    example: `/jobs/${X}`,
  },
  { method: 'post', path: '/jobs/:id/cancel', tag: 'Jobs', summary: 'Cancel a job', description: 'Queued or paused: cancelled at once. Running: it stops after the items in hand (what it finished is kept). The creator or an admin.', access: 'researcher', success: { 200: 'The job' }, errors: ['not_found', 'conflict'], example: `/jobs/${X}/cancel` },
  { method: 'post', path: '/jobs/:id/pause', tag: 'Jobs', summary: 'Pause a job until resumed', access: 'researcher', success: { 200: 'The job' }, errors: ['not_found', 'conflict'], example: `/jobs/${X}/pause` },
  { method: 'post', path: '/jobs/:id/resume', tag: 'Jobs', summary: 'Resume a paused job', access: 'researcher', success: { 200: 'The job' }, errors: ['not_found', 'conflict'], example: `/jobs/${X}/resume` },
];
