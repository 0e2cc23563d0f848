import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../../accounts/account.schema.ts';
import { jobs } from '../../core/jobs/job.schema.ts';
import { ethogramVersions } from '../../ethograms/ethogram.schema.ts';
import { observations } from '../observation.schema.ts';

/** The three kinds of classifier (issue 5): an LLM judge, the offline TF-IDF classifier, the rule detectors. */
export const classifierKinds = ['llm_judge', 'offline', 'rules'] as const;
export type ClassifierKind = (typeof classifierKinds)[number];
export const classifierKindEnum = pgEnum('classifier_kind', classifierKinds);

/**
 * A configured classifier, as researchers set it up: its kind, a name people recognise in the review queue and
 * the agreement page, the ethogram version it codes against, and its settings (for a judge: the judge settings
 * of observations/classify/judge/judge-settings.ts, naming the key's environment variable, never a key; for the
 * offline classifier: training options; for rules: which detectors run and the behaviour code each finding kind
 * proposes). Codings it proposes point back here, so "which classifier said this" is one join. Edits keep a
 * revision; archiving hides it from new jobs and keeps its codings and figures.
 */
export const classifiers = pgTable(
  'classifiers',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    kind: classifierKindEnum('kind').notNull(),
    name: text('name').notNull(),
    ethogramVersionId: uuid('ethogram_version_id').notNull().references(() => ethogramVersions.id),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    /** For the offline kind: the training in use (null until trained). */
    currentTrainingId: uuid('current_training_id'),
    revision: integer('revision').notNull().default(1),
    createdBy: uuid('created_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
  },
  (t) => [index('classifiers_version_idx').on(t.ethogramVersionId)],
);

/**
 * One training of an offline classifier (immutable): the model (the JSON document of
 * observations/classify/offline/offline-classifier.ts `modelToJson`), what it was trained on, and its
 * cross-validated figures per behaviour (precision, recall, F1, support, trust and the reason), shown next to it.
 */
export const classifierTrainings = pgTable(
  'classifier_trainings',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    classifierId: uuid('classifier_id').notNull().references(() => classifiers.id),
    jobId: uuid('job_id').references(() => jobs.id),
    /** Accepted human codings (observations) it learned from, and how many behaviours it has a model for. */
    exampleCount: integer('example_count').notNull(),
    behaviourCount: integer('behaviour_count').notNull(),
    model: text('model').notNull(),
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull(),
    trainedBy: uuid('trained_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('classifier_trainings_classifier_idx').on(t.classifierId, t.createdAt.desc())],
);

export const classificationItemStatuses = ['pending', 'done', 'failed'] as const;
export type ClassificationItemStatus = (typeof classificationItemStatuses)[number];
export const classificationItemStatusEnum = pgEnum('classification_item_status', classificationItemStatuses);

/**
 * The observations of one classification job, one row each. A worker writes an item's proposed codings and marks
 * the item done in one transaction, so a job that pauses, is cancelled, or whose worker dies and is resumed by
 * another never proposes codings for the same observation twice.
 */
export const classificationItems = pgTable(
  'classification_items',
  {
    jobId: uuid('job_id').notNull().references(() => jobs.id),
    observationId: uuid('observation_id').notNull().references(() => observations.id),
    /** Order within the job (the list order when it was created). */
    position: integer('position').notNull(),
    status: classificationItemStatusEnum('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Codings proposed, findings dropped (quotes not in the transcript, unknown codes), tokens and cost. */
    outcome: jsonb('outcome').$type<Record<string, unknown>>(),
    error: jsonb('error').$type<{ id: string; message: string }>(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.observationId] }),
    index('classification_items_pending_idx').on(t.jobId, t.position).where(sql`status = 'pending'`),
  ],
);
