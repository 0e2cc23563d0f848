import { randomUUID } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import * as z from 'zod';
import type { Ctx } from '../core/context.ts';
import { rowsOf, type Db } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { authorize } from '../core/policy.ts';
import { importFormatLabels, importRecords, type ImportFormat, type ImportProvenance, type ImportResult, type ImportSource, type ImportedRecord } from './importers/index.ts';
import { observationInputSchema } from './observation.input.ts';
import { requireUser } from './observation-edit.ts';
import { headlineVectorSql, normaliseTags, systemPromptSha256, textArraySql } from './observation-text.ts';
import { observationsChanged } from './observation.queries.ts';
import { noteObservationWrite } from './observation-writer.ts';

/** One record that was not imported: its 0-based position in the file, why, and the source's own id when known. */
export interface ImportRecordFailure {
  index: number;
  reason: string;
  recordId?: string;
}

/** What an import did: new observations (their ids, in file order), re-imports skipped, records that failed. */
export interface ImportSummary {
  imported: number;
  duplicates: number;
  failed: ImportRecordFailure[];
  ids: string[];
}

/** Reported after every record, so a caller can show progress. */
export interface ImportProgress {
  /** Records (and failures) handled so far. */
  processed: number;
  imported: number;
  duplicates: number;
  failed: number;
}

export interface ImportObservationsOptions {
  format?: ImportFormat;
  maxBytes?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** The web import this run belongs to: stamped on each new observation's provenance and event. */
  importId?: string;
  /** Stops the import between records (the records already filed stay); the import then rejects with the reason. */
  signal?: AbortSignal;
  /** Told what became of each record, before the progress report that counts it. */
  onRecord?: (outcome: RecordOutcome) => void;
}

/** What became of one record, as it happens (writes finish out of file order). */
export type RecordOutcome =
  | { kind: 'imported'; index: number; id: string }
  | { kind: 'duplicate'; index: number }
  | { kind: 'failed'; index: number; reason: string; recordId?: string };

export type FileRecordsOptions = Pick<ImportObservationsOptions, 'onProgress' | 'onRecord' | 'importId' | 'signal'>;

/** The fields every observation needs, checked with the same rules (and messages) as a submission. */
const importedFieldsSchema = observationInputSchema.pick({ title: true, provider: true, model: true, surprise: true, modelVersion: true, tags: true });

/** A `\u0000` escape in JSON text (not a literal backslash followed by "u0000"): jsonb refuses it. */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * Records whose duplicates are looked up in one query before any is written (a re-import then costs one query
 * per batch instead of one statement per record), and records being written at once. Each write is one
 * statement, so several can wait at the database: the next batch is parsed while they run (PGlite runs them one
 * after another in its worker thread, PostgreSQL side by side on the pool).
 */
const CHECK_BATCH = 64;
const WRITES_IN_FLIGHT = 8;

/**
 * Files every record of a source (see observations/importers/) as an observation submitted by the actor,
 * captured by 'import', visible to members. Each record is its own transaction with its `observation.recorded`
 * event, so one bad record never loses the others. A record whose raw sha256 is already held by a non-deleted
 * observation is a duplicate and skipped; two imports of the same record at once cannot both insert it (a
 * unique index among live imported observations decides, and the loser is reported as a duplicate).
 *
 * Per-record problems (the importer's, or a record the observation rules refuse) are reported in the summary;
 * whole-source problems (unknown format, over the byte limit, corrupt archive) throw the importer's AppError.
 */
export async function importObservations(ctx: Ctx, source: ImportSource, options: ImportObservationsOptions = {}): Promise<ImportSummary> {
  authorize(ctx.actor, 'observation.create');
  requireUser(ctx, 'import observations');
  const importOptions = { ...(options.format ? { format: options.format } : {}), ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}) };
  return fileImportedRecords(ctx, importRecords(source, importOptions), options);
}

/**
 * Files results an importer already produced (e.g. `parseOtlpTraces` for the `/v1/traces` receiver) exactly as
 * `importObservations` files a source's records: same authorization, one transaction per record, duplicates by
 * raw sha256 skipped, per-record failures reported in the summary.
 */
export async function fileImportedRecords(
  ctx: Ctx,
  results: Iterable<ImportResult> | AsyncIterable<ImportResult>,
  options: FileRecordsOptions = {},
): Promise<ImportSummary> {
  authorize(ctx.actor, 'observation.create');
  const actor = requireUser(ctx, 'import observations');
  const summary: ImportSummary = { imported: 0, duplicates: 0, failed: [], ids: [] };
  const newIds: { index: number; id: string }[] = [];
  let processed = 0;
  const progressed = () => {
    processed++;
    options.onProgress?.({ processed, imported: summary.imported, duplicates: summary.duplicates, failed: summary.failed.length });
  };
  const fail = (index: number, reason: string, recordId: string | undefined) => {
    const failure = failureOf(index, reason, recordId);
    summary.failed.push(failure);
    options.onRecord?.({ kind: 'failed', ...failure });
    progressed();
  };
  const duplicate = (index: number) => {
    summary.duplicates++;
    options.onRecord?.({ kind: 'duplicate', index });
    progressed();
  };
  const writing = new Set<Promise<void>>();
  /** An error that is not a record's own (a lost connection): no more records are written, and it is rethrown. */
  let stopped: { error: unknown } | undefined;

  const write = (record: ImportedRecord, prepared: PreparedRecord) => {
    const done: Promise<void> = ctx.db
      .execute(prepared.statement)
      .then(
        (result) => {
          if (rowsOf(result).length === 0) return duplicate(record.index);
          // The search indexer yields to a burst of new observations: this import is one.
          noteObservationWrite();
          summary.imported++;
          newIds.push({ index: record.index, id: prepared.id });
          options.onRecord?.({ kind: 'imported', index: record.index, id: prepared.id });
          progressed();
        },
        (error: unknown) => {
          const reason = recordErrorReason(error);
          if (reason === undefined) stopped ??= { error };
          else fail(record.index, reason, record.provenance.recordId);
        },
      )
      .finally(() => writing.delete(done));
    writing.add(done);
  };

  try {
    for await (const batch of readAhead(batchesOf(results, CHECK_BATCH))) {
      if (stopped) break;
      options.signal?.throwIfAborted();
      const held = await heldRecords(ctx.db, batch);
      for (const result of batch) {
        if (result.kind === 'failure') {
          fail(result.index, result.reason, result.recordId);
          continue;
        }
        if (held.has(result.rawSha256)) {
          duplicate(result.index);
          continue;
        }
        let prepared: PreparedRecord;
        try {
          prepared = prepareRecord(ctx, actor.id, result, options.importId);
        } catch (e) {
          const reason = recordErrorReason(e);
          if (reason === undefined) throw e;
          fail(result.index, reason, result.provenance.recordId);
          continue;
        }
        while (writing.size >= WRITES_IN_FLIGHT) await Promise.race(writing);
        if (stopped) break;
        write(result, prepared);
      }
    }
  } finally {
    await Promise.allSettled([...writing]);
    if (summary.imported > 0) observationsChanged();
  }
  if (stopped) throw stopped.error;
  summary.ids = newIds.sort((a, b) => a.index - b.index).map((n) => n.id);
  summary.failed.sort((a, b) => a.index - b.index);
  return summary;
}

function failureOf(index: number, reason: string, recordId: string | undefined): ImportRecordFailure {
  return recordId === undefined ? { index, reason } : { index, reason, recordId };
}

/** Up to `size` results at a time. */
async function* batchesOf<T>(items: Iterable<T> | AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Asks for the next item as soon as one is handed out, so the source works (parses) while the consumer writes. */
async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  // A source that fails while the consumer is busy must not count as an unhandled rejection; it is awaited below.
  next.catch(() => {});
  let finished = false;
  try {
    while (true) {
      const item = await next;
      if (item.done) {
        finished = true;
        return;
      }
      next = iterator.next();
      next.catch(() => {});
      yield item.value;
    }
  } finally {
    if (!finished) {
      // Stopped early: let the pending read settle, then close the source (its file).
      await next.then(
        () => iterator.return?.(),
        () => undefined,
      );
    }
  }
}

/**
 * The sha256 of the records in the batch already held by a live observation, imported or logged any other way
 * (one query per batch, so a re-import costs a query per 64 records rather than a write attempt per record).
 */
async function heldRecords(db: Db, batch: ImportResult[]): Promise<Set<string>> {
  const shas = [...new Set(batch.flatMap((r) => (r.kind === 'record' ? [r.rawSha256] : [])))];
  if (shas.length === 0) return new Set();
  const rows = rowsOf<{ sha: string }>(
    await db.execute(
      liveWithSha(
        sql`raw_sha256 IN (${sql.join(
          shas.map((s) => sql`${s}`),
          sql`, `,
        )})`,
      ),
    ),
  );
  return new Set(rows.map((r) => r.sha));
}

/**
 * Live observations whose raw sha256 matches, found through the sha256 index whatever the statistics say.
 * Embedded PGlite never analyzes its tables (there is no autovacuum), and with no statistics the planner ANDs the
 * sha256 index with a partial "not deleted" index, reading every live observation's entry for each record: an
 * import slowed down as the table grew. The OFFSET 0 fence keeps `deleted_at IS NULL` out of the index choice.
 */
function liveWithSha(match: SQL): SQL {
  return sql`SELECT DISTINCT o.sha FROM (SELECT raw_sha256 AS sha, deleted_at FROM observations WHERE ${match} OFFSET 0) AS o WHERE o.deleted_at IS NULL`;
}

interface PreparedRecord {
  id: string;
  statement: SQL;
}

/**
 * One record as the single statement that files it: the observation and its `observation.recorded` event. One
 * statement is one transaction, written whole or not at all; it returns a row when the observation was written,
 * none for a duplicate. Copies already held were found by the batch's look-up (`heldRecords`, any capture);
 * an imported copy written since (another import of the same record racing, or the same record twice in a
 * file) is caught by the unique index among live imported observations: ON CONFLICT DO NOTHING.
 */
function prepareRecord(ctx: Ctx, actorId: string, record: ImportedRecord, importId: string | undefined): PreparedRecord {
  const fields = validFields(record);
  const surprise = fields.surprise;
  const transcriptJson = JSON.stringify(record.transcript);
  if (record.raw.includes('\u0000') || (transcriptJson.includes('\\u0000') && ESCAPED_NUL.test(transcriptJson))) {
    throw new AppError('validation_failed', 'The record contains a NUL character (\\u0000), which cannot be stored.');
  }
  const promptSha = systemPromptSha256(record.transcript);
  const provenance: ImportProvenance = {
    ...record.provenance,
    ...(promptSha && !record.provenance.systemPromptSha256 ? { systemPromptSha256: promptSha } : {}),
    ...(importId ? { importId } : {}),
  };
  const id = randomUUID();
  const nowIso = ctx.now().toISOString();
  const observedAt = (record.observedAt ?? ctx.now()).toISOString();
  const event = {
    title: fields.title,
    capture: 'import',
    codes: [],
    rawSha256: record.rawSha256,
    sourceFormat: record.format,
    fileName: record.fileName,
    index: record.index,
    ...(importId ? { importId } : {}),
  };
  const statement = sql`WITH inserted AS (
      INSERT INTO observations (id, title, surprise, visibility, provider, model, model_version, tags, provenance, observed_at, submitted_by,
        raw_payload, raw_sha256, transcript, search, search_pending, created_at, updated_at)
      SELECT ${id}::uuid, ${fields.title}::text, ${surprise}::text, 'members'::visibility, ${fields.provider}::text, ${fields.model}::text,
        ${fields.modelVersion ?? null}::text, ${textArraySql(normaliseTags(fields.tags))},
        ${JSON.stringify(provenance)}::jsonb, ${observedAt}::timestamptz, ${actorId}::uuid,
        ${record.raw}::text, ${record.rawSha256}::text, ${transcriptJson}::jsonb,
        ${headlineVectorSql(fields.title, surprise)}, true, ${nowIso}::timestamptz, ${nowIso}::timestamptz
      ON CONFLICT (raw_sha256) WHERE deleted_at IS NULL AND (provenance->>'capture') = 'import' DO NOTHING
      RETURNING id)
    INSERT INTO events (type, entity_type, entity_id, actor_id, payload, at)
    SELECT 'observation.recorded', 'observation', inserted.id::text, ${actorId}::uuid, ${JSON.stringify(event)}::jsonb, ${nowIso}::timestamptz
    FROM inserted
    RETURNING 1`;
  return { id, statement };
}

/**
 * Title, provider, model (and, when the source gives them, surprise, model version and tags) as the observation
 * rules accept them: long titles are shortened, unknowns named, a missing surprise says where the record came from.
 */
function validFields(record: ImportedRecord): z.infer<typeof importedFieldsSchema> {
  const title = shorten(record.title.replace(/\s+/g, ' ').trim(), 200) || `Imported ${record.format} record ${record.index}`;
  const surprise = record.surprise?.trim() || `Imported from ${importFormatLabels[record.format]} (${record.fileName}, record ${record.index}). Describe what was surprising.`;
  const parsed = importedFieldsSchema.safeParse({
    title,
    provider: record.provider ?? 'unknown',
    model: record.model ?? 'unknown',
    surprise,
    ...(record.modelVersion ? { modelVersion: record.modelVersion } : {}),
    ...(record.tags ? { tags: record.tags } : {}),
  });
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('validation_failed', `The record cannot be an observation: ${reason}`);
  }
  return parsed.data;
}

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '') + '…';
}

/**
 * Why one record failed, when the failure is the record's own (a validation error, or the database refusing its
 * data: SQLSTATE classes 22 and 23); undefined for anything else (a lost connection), which stops the import.
 */
function recordErrorReason(e: unknown): string | undefined {
  if (e instanceof AppError && e.id === 'validation_failed') return e.message;
  for (let err: unknown = e; err && typeof err === 'object'; err = (err as { cause?: unknown }).cause) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23]/.test(code)) return `The database refused the record: ${(err as Error).message}`;
  }
  return undefined;
}
