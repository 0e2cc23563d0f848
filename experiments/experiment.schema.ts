import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../accounts/account.schema.ts';
import { jobs } from '../core/jobs/job.schema.ts';
import { observations } from '../observations/observation.schema.ts';
import { models } from './models/model.schema.ts';

/**
 * A mechanistic follow-up: a hypothesis in words, tested with one technique on one registered model. It links to
 * the observations it follows up (any number, both ways); each run of it is a job and leaves an immutable result.
 */
export const experiments = pgTable(
  'experiments',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    title: text('title').notNull(),
    hypothesis: text('hypothesis').notNull(),
    modelId: uuid('model_id').notNull().references(() => models.id),
    /** A technique's name (experiments/techniques/index.ts). */
    technique: text('technique').notNull(),
    /** The parameters as validated by the technique's schema, defaults filled in: what the next run uses. */
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    createdBy: uuid('created_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('experiments_model_idx').on(t.modelId), index('experiments_created_idx').on(t.createdAt.desc())],
);

/** Which observations an experiment follows up (and so which experiments an observation has). */
export const experimentObservations = pgTable(
  'experiment_observations',
  {
    experimentId: uuid('experiment_id').notNull().references(() => experiments.id, { onDelete: 'cascade' }),
    observationId: uuid('observation_id').notNull().references(() => observations.id),
    linkedBy: uuid('linked_by').notNull().references(() => users.id),
    linkedAt: timestamp('linked_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.observationId] }), index('experiment_observations_observation_idx').on(t.observationId)],
);

/**
 * One run of an experiment: the job that runs it (its status, progress, error and worker live on the job row) and,
 * once it completes, the result document (experiments/techniques/run-technique.ts ResultDocument), written once and
 * never changed. What makes a result reproducible is stored beside it: engine and technique schema versions, model
 * folder, weights sha256, parameters and seed. Re-running makes a new run next to the old one.
 */
export const experimentRuns = pgTable(
  'experiment_runs',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    experimentId: uuid('experiment_id').notNull().references(() => experiments.id, { onDelete: 'cascade' }),
    /** 1, 2, 3... within the experiment. */
    number: integer('number').notNull(),
    jobId: uuid('job_id').notNull().references(() => jobs.id),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    seed: integer('seed').notNull(),
    /** The registered sha256 the run must find (a changed folder is refused). */
    expectedSha256: text('expected_sha256').notNull(),
    modelPath: text('model_path').notNull(),
    engineVersion: text('engine_version'),
    schemaVersion: integer('schema_version'),
    weightsSha256: text('weights_sha256'),
    result: jsonb('result').$type<Record<string, unknown>>(),
    createdBy: uuid('created_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('experiment_runs_number_idx').on(t.experimentId, t.number), uniqueIndex('experiment_runs_job_idx').on(t.jobId)],
);
