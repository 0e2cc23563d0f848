import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import * as z from 'zod';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { authorize } from '../core/policy.ts';
import { importFormatLabels, importRecords, type ImportFormat, type ImportResult, type ImportSource, type ImportedRecord } from './importers/index.ts';
import { observationInputSchema } from './observation.input.ts';
import type { Provenance } from './observation.schema.ts';
import { requireUser } from './observation-edit.ts';
import { headlineVectorSql, systemPromptSha256, textArraySql } from './observation-text.ts';
import { observationsChanged } from './observation.queries.ts';
import { writeObservations } from './observation-writer.ts';

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
}

/** The fields every observation needs, checked with the same rules (and messages) as a submission. */
const importedFieldsSchema = observationInputSchema.pick({ title: true, provider: true, model: true });

/** A `\u0000` escape in JSON text (not a literal backslash followed by "u0000"): jsonb refuses it. */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * Files every record of a source (see observations/importers/) as an observation submitted by the actor,
 * captured by 'import', visible to members. Each record is its own transaction with its `observation.recorded`
 * event, so one bad record never loses the others. A record whose raw sha256 is already held by a non-deleted
 * observation is a duplicate and skipped: the check runs inside the transaction under an advisory lock on the
 * sha256, so two imports of the same record at once cannot both insert it.
 *
 * Per-record problems (the importer's, or a record the observation rules refuse) are reported in the summary;
 * whole-source problems (unknown format, over the byte limit, corrupt archive) throw the importer's AppError.
 */
export async function importObservations(ctx: Ctx, source: ImportSource, options: ImportObservationsOptions = {}): Promise<ImportSummary> {
  authorize(ctx.actor, 'observation.create');
  requireUser(ctx, 'import observations');
  const importOptions = { ...(options.format ? { format: options.format } : {}), ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}) };
  return fileImportedRecords(ctx, importRecords(source, importOptions), options.onProgress ? { onProgress: options.onProgress } : {});
}

/**
 * Files results an importer already produced (e.g. `parseOtlpTraces` for the `/v1/traces` receiver) exactly as
 * `importObservations` files a source's records: same authorization, one transaction per record, duplicates by
 * raw sha256 skipped, per-record failures reported in the summary.
 */
export async function fileImportedRecords(
  ctx: Ctx,
  results: Iterable<ImportResult> | AsyncIterable<ImportResult>,
  options: { onProgress?: (progress: ImportProgress) => void } = {},
): Promise<ImportSummary> {
  authorize(ctx.actor, 'observation.create');
  const actor = requireUser(ctx, 'import observations');
  const summary: ImportSummary = { imported: 0, duplicates: 0, failed: [], ids: [] };
  let processed = 0;
  try {
    for await (const result of results) {
      processed++;
      if (result.kind === 'failure') {
        summary.failed.push(failureOf(result.index, result.reason, result.recordId));
      } else {
        try {
          const outcome = await fileRecord(ctx, actor.id, result);
          if (outcome.duplicate) summary.duplicates++;
          else {
            summary.imported++;
            summary.ids.push(outcome.id);
          }
        } catch (e) {
          const reason = recordErrorReason(e);
          if (reason === undefined) throw e;
          summary.failed.push(failureOf(result.index, reason, result.provenance.recordId));
        }
      }
      options.onProgress?.({ processed, imported: summary.imported, duplicates: summary.duplicates, failed: summary.failed.length });
    }
  } finally {
    if (summary.imported > 0) observationsChanged();
  }
  return summary;
}

function failureOf(index: number, reason: string, recordId: string | undefined): ImportRecordFailure {
  return recordId === undefined ? { index, reason } : { index, reason, recordId };
}

/** Writes one record as an observation in its own transaction, unless its raw sha256 is already held. */
async function fileRecord(ctx: Ctx, actorId: string, record: ImportedRecord): Promise<{ duplicate: true } | { duplicate: false; id: string }> {
  const fields = validFields(record);
  const transcriptJson = JSON.stringify(record.transcript);
  if (record.raw.includes('\u0000') || (transcriptJson.includes('\\u0000') && ESCAPED_NUL.test(transcriptJson))) {
    throw new AppError('validation_failed', 'The record contains a NUL character (\\u0000), which cannot be stored.');
  }
  const promptSha = systemPromptSha256(record.transcript);
  const provenance: Provenance = { ...record.provenance, ...(promptSha && !record.provenance.systemPromptSha256 ? { systemPromptSha256: promptSha } : {}) };
  const surprise = `Imported from ${importFormatLabels[record.format]} (${record.fileName}, record ${record.index}). Describe what was surprising.`;
  const id = randomUUID();
  const nowIso = ctx.now().toISOString();
  const observedAt = (record.observedAt ?? ctx.now()).toISOString();

  return inTransaction(ctx.db, async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${record.rawSha256}))`);
    const held = rowsOf<{ id: string }>(
      await tx.execute(sql`SELECT id FROM observations WHERE raw_sha256 = ${record.rawSha256} AND deleted_at IS NULL LIMIT 1`),
    );
    if (held.length > 0) return { duplicate: true as const };
    await writeObservations(tx, [
      {
        observation: sql`(
          ${id}::uuid, ${fields.title}, ${surprise}, 'members'::visibility, ${fields.provider}, ${fields.model},
          ${null}, ${JSON.stringify(provenance)}::jsonb, ${observedAt}::timestamptz,
          ${actorId}::uuid, ${record.raw}, ${record.rawSha256}, ${transcriptJson}::jsonb,
          '[]'::jsonb, ${textArraySql([])},
          ${headlineVectorSql(fields.title, surprise)}, true,
          ${nowIso}::timestamptz, ${nowIso}::timestamptz)`,
        codings: [],
        event: sql`(${id}::uuid, ${actorId}::uuid, ${JSON.stringify({
          title: fields.title,
          capture: 'import',
          codes: [],
          rawSha256: record.rawSha256,
          sourceFormat: record.format,
          fileName: record.fileName,
          index: record.index,
        })}::jsonb, ${nowIso}::timestamptz)`,
      },
    ]);
    return { duplicate: false as const, id };
  });
}

/** Title, provider and model as the observation rules accept them: long titles are shortened, unknowns named. */
function validFields(record: ImportedRecord): z.infer<typeof importedFieldsSchema> {
  const title = shorten(record.title.replace(/\s+/g, ' ').trim(), 200) || `Imported ${record.format} record ${record.index}`;
  const parsed = importedFieldsSchema.safeParse({ title, provider: record.provider ?? 'unknown', model: record.model ?? 'unknown' });
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
