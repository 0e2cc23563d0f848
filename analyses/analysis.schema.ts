import { index, integer, pgTable, primaryKey, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { ethogramVersions } from '../ethograms/ethogram.schema.ts';
import { observations, visibilityEnum } from '../observations/observation.schema.ts';

/**
 * What the analyses read: one row per observation and ethogram version it has live codings under, with that
 * observation's behaviour sets and transcript-ordered sequences, and copies of the observation's columns the
 * analyses filter and group by. The analyses would otherwise join every coding to its observation on each request
 * (measured: that join alone costs more than the 500 ms a page may take at 100,000 observations); this table is a
 * fifth of the rows and narrow.
 *
 * Nothing writes it but the database: triggers on `codings` (any insert, update or delete) and on the copied
 * columns of `observations` recompute the rows of the observations touched, in the writing transaction, so it is
 * never behind what has committed (migration 0011 holds the functions and explains their locking). Behaviours are
 * numbered 0..n-1 within their version in (position, code) order, the order `behaviourIndex` gives: codings are
 * only made under published versions, which never change.
 *
 * "accepted" columns count accepted codings; "shown" columns accepted or proposed ones (the analyses' two scopes).
 * Withdrawn and rejected codings are in neither; an observation whose codings under a version are all withdrawn
 * or rejected has no row for it.
 */
export const observationCodeSets = pgTable(
  'observation_code_sets',
  {
    observationId: uuid('observation_id').notNull().references(() => observations.id, { onDelete: 'cascade' }),
    ethogramVersionId: uuid('ethogram_version_id').notNull().references(() => ethogramVersions.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    modelVersion: text('model_version'),
    observedAt: timestamp('observed_at', { withTimezone: true }).notNull(),
    visibility: visibilityEnum('visibility').notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    /** Distinct behaviour indices, ascending. */
    accepted: smallint('accepted').array().notNull(),
    shown: smallint('shown').array().notNull(),
    /** Behaviour indices in transcript order (message, part, character offset, then index), one per distinct position. */
    acceptedSequence: smallint('accepted_sequence').array().notNull(),
    shownSequence: smallint('shown_sequence').array().notNull(),
    /** Codings of the whole observation (no position), and codings whose message is no longer in the transcript. */
    acceptedWhole: integer('accepted_whole').notNull(),
    shownWhole: integer('shown_whole').notNull(),
    acceptedUnplaced: integer('accepted_unplaced').notNull(),
    shownUnplaced: integer('shown_unplaced').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ethogramVersionId, t.observationId] }), index('observation_code_sets_observation_idx').on(t.observationId)],
);
