import { sql } from 'drizzle-orm';
import { index, pgTable, text, timestamp, uniqueIndex, uuid, jsonb } from 'drizzle-orm/pg-core';
import { users } from '../../accounts/account.schema.ts';
import { codings, observations } from '../../observations/observation.schema.ts';
import { ethograms, ethogramVersions } from '../ethogram.schema.ts';

export const recodeReasons = ['split', 'redefine'] as const;
export type RecodeReason = (typeof recodeReasons)[number];
/** `recoded`: a person chose one of the candidates; `none`: none of them applies (the coding stays where it was). */
export const recodeDecisions = ['recoded', 'none'] as const;
export type RecodeDecision = (typeof recodeDecisions)[number];

/**
 * The recode queue: one item per existing coding that a published version's split or redefinition leaves for a
 * person to decide. The coding itself never changes (it keeps the version it was made under); deciding an item
 * adds a new coding under `versionId` (or records that no candidate applies).
 */
export const recodeItems = pgTable(
  'recode_items',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    ethogramId: uuid('ethogram_id').notNull().references(() => ethograms.id),
    versionId: uuid('version_id').notNull().references(() => ethogramVersions.id),
    codingId: uuid('coding_id').notNull().references(() => codings.id),
    observationId: uuid('observation_id').notNull().references(() => observations.id),
    reason: text('reason').$type<RecodeReason>().notNull(),
    /** The code in the base version the coding resolved to, and the draft codes a person may choose from. */
    fromCode: text('from_code').notNull(),
    candidates: jsonb('candidates').$type<string[]>().notNull(),
    status: text('status').$type<'open' | 'resolved'>().notNull().default('open'),
    decision: text('decision').$type<RecodeDecision>(),
    chosenCode: text('chosen_code'),
    newCodingId: uuid('new_coding_id').references(() => codings.id),
    note: text('note').notNull().default(''),
    resolvedBy: uuid('resolved_by').references(() => users.id),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('recode_items_version_coding_unique').on(t.versionId, t.codingId),
    index('recode_items_open_idx').on(t.ethogramId, t.createdAt, t.id).where(sql`status = 'open'`),
    index('recode_items_coding_idx').on(t.codingId),
  ],
);
