import { sql } from 'drizzle-orm';
import {
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/account.schema.ts';
import { jobs } from '../core/jobs/job.schema.ts';
import { behaviours, ethogramVersions } from '../ethograms/ethogram.schema.ts';
import { classifiers } from './classify/classify.schema.ts';
import type { Transcript } from './transcript.schema.ts';

/** PostgreSQL full-text vector; written by the commands from title, surprise and transcript text. */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

export const observationStatuses = ['submitted', 'triaged', 'coded', 'verified', 'rejected', 'duplicate'] as const;
export type ObservationStatus = (typeof observationStatuses)[number];
export const observationStatusEnum = pgEnum('observation_status', observationStatuses);
export const visibilities = ['members', 'public'] as const;
export type Visibility = (typeof visibilities)[number];
export const visibilityEnum = pgEnum('visibility', visibilities);

/** Where the observation came from and under which conditions: the typed subject of the sighting. */
export interface Provenance {
  capture: string;
  interface?: string;
  endpoint?: string;
  sampling?: Record<string, unknown>;
  systemPromptSha256?: string;
  tools?: string[];
  harness?: string;
  runtime?: string;
  quantization?: string;
}

export const observations = pgTable(
  'observations',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    title: text('title').notNull(),
    surprise: text('surprise').notNull(),
    status: observationStatusEnum('status').notNull().default('submitted'),
    duplicateOf: uuid('duplicate_of').references((): AnyPgColumn => observations.id),
    visibility: visibilityEnum('visibility').notNull().default('members'),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    modelVersion: text('model_version'),
    provenance: jsonb('provenance').$type<Provenance>().notNull(),
    observedAt: timestamp('observed_at', { withTimezone: true }).notNull(),
    submittedBy: uuid('submitted_by').notNull().references(() => users.id),
    rawPayload: text('raw_payload').notNull(),
    rawSha256: text('raw_sha256').notNull(),
    transcript: jsonb('transcript').$type<Transcript>().notNull(),
    evidenceLinks: jsonb('evidence_links').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    search: tsvector('search').notNull(),
    /**
     * True until the search indexer has added the transcript's text to `search` (title and surprise are indexed
     * at once). Indexing a transcript costs PostgreSQL about a millisecond of CPU, so ingestion leaves it to the
     * background indexer (observations/search-indexer.ts) and stays fast; searches catch up within a second.
     */
    searchPending: boolean('search_pending').notNull().default(false),
    /**
     * MinHash signature of the transcript's text (word 3-shingles; observations/similar/), and its locality-sensitive
     * band hashes, which the GIN index finds candidates by: near-duplicates share at least one band. Null until the
     * background indexer has fingerprinted the observation (edits fingerprint at once); empty arrays when the
     * transcript has no words to fingerprint.
     */
    minhash: integer('minhash').array(),
    minhashBands: integer('minhash_bands').array(),
    revision: integer('revision').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    deletedBy: uuid('deleted_by').references(() => users.id),
  },
  (t) => [
    // Lists never show deleted observations: partial indexes on the sort keys serve them (and capped counts by
    // index-only scans); anonymous visitors' lists (public only) have their own. Queries write the sort exactly
    // as indexed (DESC NULLS LAST, id) so a forward or backward scan yields the page.
    index('observations_listed_observed_idx').on(t.observedAt.desc().nullsLast(), t.id).where(sql`deleted_at IS NULL`),
    index('observations_public_observed_idx').on(t.observedAt.desc().nullsLast(), t.id).where(sql`deleted_at IS NULL AND visibility = 'public'`),
    index('observations_listed_created_idx').on(t.createdAt.desc().nullsLast(), t.id).where(sql`deleted_at IS NULL`),
    index('observations_deleted_idx').on(t.deletedAt.desc()).where(sql`deleted_at IS NOT NULL`),
    index('observations_provider_model_idx').on(t.provider, t.model),
    // Equality filter plus the default order: the page is an index range scan, the capped count index-only.
    index('observations_model_observed_idx').on(t.model, t.observedAt.desc().nullsLast(), t.id).where(sql`deleted_at IS NULL`),
    index('observations_status_observed_idx').on(t.status, t.observedAt.desc().nullsLast(), t.id).where(sql`deleted_at IS NULL`),
    index('observations_submitted_by_idx').on(t.submittedBy),
    index('observations_tags_idx').using('gin', t.tags),
    index('observations_search_idx').using('gin', t.search),
    index('observations_minhash_bands_idx').using('gin', t.minhashBands),
    // The fingerprinting backlog (new observations until the background indexer has fingerprinted them).
    index('observations_minhash_pending_idx').on(t.createdAt).where(sql`minhash IS NULL AND deleted_at IS NULL`),
    index('observations_search_pending_idx').on(t.createdAt).where(sql`${t.searchPending}`),
    index('observations_raw_sha_idx').on(t.rawSha256),
    // An imported record is held at most once among live observations: concurrent imports of the same record
    // cannot both insert it (the import's INSERT ... ON CONFLICT DO NOTHING reports the loser as a duplicate).
    uniqueIndex('observations_imported_raw_sha_unique')
      .on(t.rawSha256)
      .where(sql`deleted_at IS NULL AND (provenance->>'capture') = 'import'`),
  ],
);

export const codingMethods = ['manual', 'llm_judge', 'classifier', 'rule', 'live'] as const;
export const codingMethodEnum = pgEnum('coding_method', codingMethods);
export const codingStatuses = ['proposed', 'accepted', 'rejected'] as const;
export const codingStatusEnum = pgEnum('coding_status', codingStatuses);

/**
 * One behaviour code applied to an observation, either to a span of one message part or to the whole
 * observation. Pinned to the ethogram version it was made against. Withdrawal keeps the row (and a revision).
 */
export const codings = pgTable(
  'codings',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    observationId: uuid('observation_id').notNull().references(() => observations.id),
    ethogramVersionId: uuid('ethogram_version_id').notNull().references(() => ethogramVersions.id),
    behaviourId: uuid('behaviour_id').notNull().references(() => behaviours.id),
    messageId: text('message_id'),
    partIndex: integer('part_index'),
    charStart: integer('char_start'),
    charEnd: integer('char_end'),
    /** The coded text as it stood, so the span stays readable even if rendering changes. */
    quote: text('quote'),
    modifiers: jsonb('modifiers').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    coderId: uuid('coder_id').notNull().references(() => users.id),
    method: codingMethodEnum('method').notNull().default('manual'),
    confidence: real('confidence'),
    rationale: text('rationale').notNull().default(''),
    status: codingStatusEnum('status').notNull().default('accepted'),
    /** The classifier that proposed it (null for people's codings), and the job it came from. */
    classifierId: uuid('classifier_id').references((): AnyPgColumn => classifiers.id),
    jobId: uuid('job_id').references(() => jobs.id),
    /**
     * How a classifier arrived at it: for a judge its JudgeProvenance (model, prompt version and sha256, tokens,
     * cost); for the offline classifier the training id and probability; for a rule the detector, finding code and
     * measures. Null for people's codings.
     */
    provenance: jsonb('provenance').$type<Record<string, unknown>>(),
    /** Who accepted, rejected or edited a proposed coding, and when (null until reviewed). */
    reviewedBy: uuid('reviewed_by').references(() => users.id),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    revision: integer('revision').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    withdrawnAt: timestamp('withdrawn_at', { withTimezone: true }),
    withdrawnBy: uuid('withdrawn_by').references(() => users.id),
  },
  (t) => [
    index('codings_observation_idx').on(t.observationId),
    index('codings_behaviour_idx').on(t.behaviourId),
    // The review queue: proposals in the order they came.
    index('codings_proposed_idx').on(t.createdAt, t.id).where(sql`status = 'proposed' AND withdrawn_at IS NULL`),
    index('codings_classifier_idx').on(t.classifierId).where(sql`classifier_id IS NOT NULL`),
  ],
);
