import type { JobHandlerRegistry } from '../../core/jobs/job-registry.ts';
import { jobHandlerRegistry } from '../../core/jobs/job-registry.ts';
import { experimentRunJob } from '../../experiments/experiment-run.job.ts';
import { classifyJobHandler } from '../../observations/classify/jobs/classify-job.handler.ts';
import { trainOfflineJob } from '../../observations/classify/classifiers/train-offline.job.ts';

/**
 * Every kind of background job this server knows, by kind: one line per handler. Workers (in-process and
 * `menagerie worker`) serve these kinds; `enqueueJob` checks payloads against them.
 */
export const jobHandlers: JobHandlerRegistry = jobHandlerRegistry([
  classifyJobHandler,
  trainOfflineJob,
  experimentRunJob,
]);
