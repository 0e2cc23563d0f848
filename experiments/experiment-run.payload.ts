import { z } from 'zod';

/** The job kind that runs an experiment. */
export const EXPERIMENT_RUN_JOB = 'experiment.run';

/** What an experiment run's job carries: which run (the rest is on the run row); title, technique and model name for lists. */
export const experimentRunPayloadSchema = z
  .object({
    experimentId: z.string().uuid(),
    number: z.number().int().min(1),
    title: z.string(),
    technique: z.string(),
    modelName: z.string(),
  })
  .strict();
export type ExperimentRunPayload = z.infer<typeof experimentRunPayloadSchema>;
