import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../accounts/account.schema.ts';

export const versionStatuses = ['draft', 'published', 'deprecated'] as const;
export const versionStatusEnum = pgEnum('ethogram_version_status', versionStatuses);
export const behaviourKinds = ['event', 'state'] as const;
export const behaviourKindEnum = pgEnum('behaviour_kind', behaviourKinds);

export interface CategoryDef { key: string; name: string; description?: string; parent: string | null }
export interface ModifierSetDef { key: string; name: string; type: 'single' | 'multi' | 'numeric' | 'text'; values?: string[]; min?: number; max?: number }
export interface ExclusiveGroupDef { key: string; name?: string; behaviours: string[] }
/**
 * A migration a draft declares for a change that affects existing codings (see ethograms/evolution/): codes are
 * the base version's (`from`) and the draft's (`into`, `code`).
 */
export type MigrationDef =
  | { type: 'merge'; from: string[]; into: string }
  | { type: 'split'; from: string; into: string[] }
  | { type: 'redefine'; code: string; decision: 'recode' | 'reword' }
  | { type: 'retire'; code: string };

export const ethograms = pgTable(
  'ethograms',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('ethograms_slug_unique').on(t.slug)],
);

/** A version of an ethogram. Published versions are immutable; codings pin the version they were made against. */
export const ethogramVersions = pgTable(
  'ethogram_versions',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    ethogramId: uuid('ethogram_id').notNull().references(() => ethograms.id),
    number: integer('number').notNull(),
    status: versionStatusEnum('status').notNull().default('draft'),
    notes: text('notes').notNull().default(''),
    categories: jsonb('categories').$type<CategoryDef[]>().notNull().default(sql`'[]'::jsonb`),
    modifierSets: jsonb('modifier_sets').$type<ModifierSetDef[]>().notNull().default(sql`'[]'::jsonb`),
    exclusiveGroups: jsonb('exclusive_groups').$type<ExclusiveGroupDef[]>().notNull().default(sql`'[]'::jsonb`),
    /** The version this one was opened from: diffs and migrations are against it (null for a first version). */
    baseVersionId: uuid('base_version_id'),
    /** Declared migrations for changes against the base version that affect codings; immutable once published. */
    migrations: jsonb('migrations').$type<MigrationDef[]>().notNull().default(sql`'[]'::jsonb`),
    revision: integer('revision').notNull().default(1),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('ethogram_versions_number_unique').on(t.ethogramId, t.number)],
);

export const behaviours = pgTable(
  'behaviours',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    versionId: uuid('version_id').notNull().references(() => ethogramVersions.id, { onDelete: 'cascade' }),
    /** Stable across versions: the identity of the behaviour, while code and wording may change. */
    key: text('key').notNull(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    category: text('category').notNull(),
    /** The code of a broader behaviour this one sits under (behaviours nest as categories do), or null. */
    parent: text('parent'),
    /** `act` is observable in the text; `interpretation` reads intent or meaning into acts (`refersTo` codes). */
    level: text('level').notNull().default('act'),
    refersTo: jsonb('refers_to').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    kind: behaviourKindEnum('kind').notNull(),
    definition: text('definition').notNull(),
    inclusion: jsonb('inclusion').$type<string[]>().notNull(),
    exclusion: jsonb('exclusion').$type<string[]>().notNull(),
    examples: jsonb('examples').$type<{ positive: string[]; negative: string[] }>().notNull(),
    modifierSets: jsonb('modifier_sets').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    hotkey: text('hotkey'),
    colour: text('colour').notNull(),
    mappings: jsonb('mappings').$type<{ scheme: string; ref: string }[]>().notNull().default(sql`'[]'::jsonb`),
    status: text('status').notNull().default('active'),
    replacedBy: text('replaced_by'),
    position: integer('position').notNull().default(0),
  },
  (t) => [
    uniqueIndex('behaviours_version_code_unique').on(t.versionId, t.code),
    index('behaviours_code_idx').on(t.code),
    index('behaviours_key_idx').on(t.key),
  ],
);
