import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../../accounts/account.schema.ts';
import { observations } from '../observation.schema.ts';

/**
 * An observation assigned to a coder (an observation may be assigned to N coders). While a `blind` assignment is
 * open (not submitted), its coder sees only their own codings of that observation (pages and API alike), so
 * their judgement is independent; submitting ends the blindness. Withdrawing an assignment keeps the row.
 */
export const codingAssignments = pgTable(
  'coding_assignments',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    observationId: uuid('observation_id').notNull().references(() => observations.id),
    coderId: uuid('coder_id').notNull().references(() => users.id),
    blind: boolean('blind').notNull().default(true),
    assignedBy: uuid('assigned_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
    withdrawnAt: timestamp('withdrawn_at', { withTimezone: true }),
  },
  (t) => [
    // One live assignment per coder and observation.
    uniqueIndex('coding_assignments_live_unique').on(t.observationId, t.coderId).where(sql`withdrawn_at IS NULL`),
    index('coding_assignments_coder_idx').on(t.coderId, t.createdAt.desc()).where(sql`withdrawn_at IS NULL`),
  ],
);
