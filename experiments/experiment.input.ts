import { z } from 'zod';

/** Linked observations per experiment, at creation. */
export const MAX_LINKED_OBSERVATIONS = 50;

const seedSchema = z.number({ error: 'the seed is a whole number' }).int('the seed is a whole number').min(0, 'the seed is 0 or more').max(2 ** 31 - 1, 'the seed is below 2^31');

export const createExperimentSchema = z
  .object({
    title: z.string().trim().min(1, 'give the experiment a short title').max(200, 'a title is at most 200 characters'),
    hypothesis: z.string().trim().min(1, 'say in words what you expect and why').max(5000, 'a hypothesis is at most 5000 characters'),
    modelId: z.string({ error: 'choose a model' }).uuid('choose a model'),
    technique: z.string({ error: 'choose a technique' }).min(1, 'choose a technique').max(100),
    /** The technique's parameters (checked against its schema). */
    params: z.record(z.string(), z.unknown(), { error: 'params is an object of the technique’s parameters' }).default({}),
    observationIds: z.array(z.string().uuid('each observation id must be an id')).max(MAX_LINKED_OBSERVATIONS, `link at most ${MAX_LINKED_OBSERVATIONS} observations`).default([]),
    /** Queue the first run at once (default). */
    run: z.boolean().default(true),
    seed: seedSchema.optional(),
  })
  .strict();
export type CreateExperimentInput = z.input<typeof createExperimentSchema>;

export const runExperimentSchema = z
  .object({
    /** Parameters for this run (default: the experiment's); checked against the technique's schema. */
    params: z.record(z.string(), z.unknown(), { error: 'params is an object of the technique’s parameters' }).optional(),
    seed: seedSchema.optional(),
  })
  .strict();

export const linkObservationSchema = z.object({ observationId: z.string({ error: 'give an observation id' }).uuid('give an observation id') }).strict();
