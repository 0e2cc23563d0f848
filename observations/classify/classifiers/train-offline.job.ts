import { z } from 'zod';
import { AppError } from '../../../core/errors.ts';
import type { JobHandler } from '../../../core/jobs/job-handler.ts';
import { trainOfflineClassifier } from './train-offline.ts';

export const TRAIN_OFFLINE_JOB = 'train-offline';

export const trainOfflinePayload = z
  .object({
    classifierId: z.uuid(),
    /** For the job's title only. */
    classifierName: z.string().max(200).optional(),
  })
  .strict();
export type TrainOfflinePayload = z.infer<typeof trainOfflinePayload>;

/**
 * The background job that trains an offline classifier (train-offline.ts): progress after each
 * cross-validation fold, then the final model; the training is stored with the job's id. Nothing is written
 * until the end, so an interrupted run simply starts over when it is run again.
 */
export const trainOfflineJob: JobHandler<TrainOfflinePayload> = {
  kind: TRAIN_OFFLINE_JOB,
  payloadSchema: trainOfflinePayload,
  describe: (payload) => `Train the offline classifier${payload.classifierName ? ` "${payload.classifierName}"` : ''}`,
  async run(context) {
    try {
      const { training, metrics } = await trainOfflineClassifier({
        db: context.db,
        now: context.now,
        classifierId: context.job.payload.classifierId,
        userId: context.job.createdBy,
        jobId: context.job.id,
        signal: context.signal,
        progress: (done, total, message) => context.progress({ done, total, message }),
      });
      context.logger.info('trained an offline classifier', { classifierId: context.job.payload.classifierId, trainingId: training.id, examples: training.exampleCount });
      return {
        status: 'completed',
        summary: {
          classifierId: context.job.payload.classifierId,
          trainingId: training.id,
          examples: training.exampleCount,
          behaviours: training.behaviourCount,
          overall: metrics.overall,
          tooFew: metrics.tooFew,
          seconds: metrics.seconds,
        },
      };
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') return { status: 'interrupted' };
      if (err instanceof AppError) return { status: 'failed', error: { id: err.id, message: err.message } };
      throw err;
    }
  },
};
