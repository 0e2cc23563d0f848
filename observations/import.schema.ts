import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../accounts/account.schema.ts';

/** An import's life: waiting its turn, reading the file, finished (whatever each record did), or stopped whole. */
export const importStatuses = ['queued', 'running', 'done', 'failed'] as const;
export type ImportStatus = (typeof importStatuses)[number];
export const importStatusEnum = pgEnum('import_status', importStatuses);

/** One record that was not imported, as kept on the import: its 0-based index in the file, why, and its own id. */
export interface StoredImportFailure {
  index: number;
  reason: string;
  recordId?: string;
}

/** Why a whole file could not be imported (unknown format, too large, corrupt archive): an AppError's id and message. */
export interface ImportError {
  id: string;
  message: string;
}

/**
 * One file uploaded for import (from the import page or `POST /api/v1/imports`): who sent it, what it was, and
 * what happened. The counts are updated while it runs (progress survives a page reload); `failures` keeps the
 * first per-record failures (`failuresOmitted` counts the rest) and `observationIds` the first new observations
 * in file order, so the result page links to them without scanning observations. A whole-file problem is
 * `status = 'failed'` with `error`. The uploaded bytes themselves are a temporary file, deleted when it ends.
 */
export const imports = pgTable(
  'imports',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    userId: uuid('user_id').notNull().references(() => users.id),
    fileName: text('file_name').notNull(),
    byteSize: bigint('byte_size', { mode: 'number' }).notNull(),
    /** The format the person chose; null when they asked for detection. */
    requestedFormat: text('requested_format'),
    /** The format the file was read as (the requested one, or what detection found); null until known. */
    format: text('format'),
    status: importStatusEnum('status').notNull().default('queued'),
    /** Bytes of the file read so far: the progress bar's measure (a ZIP archive is read by random access: 0 until done). */
    bytesRead: bigint('bytes_read', { mode: 'number' }).notNull().default(0),
    processed: integer('processed').notNull().default(0),
    imported: integer('imported').notNull().default(0),
    duplicates: integer('duplicates').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    failures: jsonb('failures').$type<StoredImportFailure[]>().notNull().default(sql`'[]'::jsonb`),
    failuresOmitted: integer('failures_omitted').notNull().default(0),
    observationIds: jsonb('observation_ids').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    error: jsonb('error').$type<ImportError>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('imports_user_created_idx').on(t.userId, t.createdAt.desc()),
    // Unfinished imports are found at boot (a restart ends them) and by the queue.
    index('imports_unfinished_idx').on(t.createdAt).where(sql`status IN ('queued', 'running')`),
  ],
);
