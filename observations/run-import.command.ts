import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { and, eq, inArray } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { importObservations, type ImportProgress, type RecordOutcome } from './import-observations.command.ts';
import { detectFormat, unknownFormatError, type ImportFormat, type ImportSource } from './importers/index.ts';
import { imports, type ImportError, type StoredImportFailure } from './import.schema.ts';
import { presentImport, type ImportRow, type ImportView } from './import.presenter.ts';
import { loadImport } from './import.queries.ts';
import { requireUser } from './observation-edit.ts';

/** Failures kept on the import (the rest are counted) and new observations listed on its page. */
export const KEPT_FAILURES = 1000;
export const KEPT_OBSERVATION_IDS = 100;
/** How often the counts of a running import are saved, so a page (re)loaded mid-import shows them. */
const SAVE_EVERY_MS = 1000;
const HEAD_BYTES = 64 * 1024;

export interface RunImportOptions {
  /** The byte limit the file is held to (the configured import limit). */
  maxBytes: number;
  /** Ends the import between records (a server shutting down): it is then `failed`, with what was filed kept. */
  signal?: AbortSignal;
  /** The import's state after each record (and at the start and end): the queue throttles and broadcasts it. */
  onProgress?: (state: ImportView) => void;
  /** Told of an error that is not the file's fault (a lost database connection), for the log; the import fails. */
  onUnexpectedError?: (error: unknown) => void;
}

/**
 * Runs a queued import: marks it running (`import.started`), reads the file (the requested format, or the
 * detected one) and files each record through `importObservations` as the uploader, saving the counts as it goes,
 * then records the outcome (`import.finished`): `done` with the counts, the first failures (file order, the rest
 * counted) and the first new observations; or `failed` with the reason when the whole file could not be read
 * (unknown format, corrupt archive, too large, the server stopping). Records filed before a failure stay.
 * `ctx.actor` must be the uploader. Resolves with the final state; never throws for a problem of the file.
 */
export async function runImport(ctx: Ctx, importId: string, filePath: string, options: RunImportOptions): Promise<ImportView> {
  requireUser(ctx, 'run an import');
  const row = await loadImport(ctx.db, importId);
  if (!row) throw new AppError('not_found', 'That import was not found.');
  if (row.status !== 'queued') return presentImport(row);
  let state: ImportRow = { ...row };
  const kept = new KeptOutcomes();
  const publish = (view: ImportView) => options.onProgress?.(view);

  let format: ImportFormat | null = (row.requestedFormat as ImportFormat | null) ?? null;
  let head: Buffer;
  try {
    head = await readHead(filePath);
    format ??= detectFormat(row.fileName, head);
    if (!format) throw unknownFormatError(row.fileName);
  } catch (error) {
    return finish(ctx, state, kept, { error: errorOf(error), startedAt: ctx.now() }, publish);
  }

  state = await markRunning(ctx, state, format);
  publish(presentImport(state));
  const saver = new ThrottledSaver(ctx, importId);
  let bytesRead = 0;
  const source = isZip(head) ? ({ path: filePath, fileName: row.fileName } satisfies ImportSource) : { stream: counted(filePath, (n) => (bytesRead += n)), fileName: row.fileName };
  try {
    await importObservations(ctx, source, {
      format,
      maxBytes: options.maxBytes,
      importId,
      ...(options.signal ? { signal: options.signal } : {}),
      onRecord: (outcome) => kept.add(outcome),
      onProgress: (progress: ImportProgress) => {
        state = { ...state, ...progress, bytesRead };
        saver.save(state);
        publish(presentImport(state));
      },
    });
  } catch (error) {
    await saver.flush();
    const reason = errorOf(error);
    if (!(error instanceof AppError) && !options.signal?.aborted) options.onUnexpectedError?.(error);
    return finish(ctx, state, kept, { error: reason }, publish);
  }
  await saver.flush();
  return finish(ctx, { ...state, bytesRead: row.byteSize }, kept, {}, publish);
}

/**
 * Ends an import that cannot run (its file is gone: the server restarted, or stopped before its turn) as `failed`
 * with the reason and its `import.finished` event; an import already finished is left as it is.
 */
export async function abandonImport(ctx: Ctx, importId: string, error: ImportError): Promise<ImportView | null> {
  return inTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .update(imports)
      .set({ status: 'failed', error, finishedAt: ctx.now() })
      .where(and(eq(imports.id, importId), inArray(imports.status, ['queued', 'running'])))
      .returning();
    if (!row) return null;
    await recordEvent(tx, {
      type: 'import.finished',
      entityType: 'import',
      entityId: row.id,
      actorId: row.userId,
      payload: { status: row.status, processed: row.processed, imported: row.imported, duplicates: row.duplicates, failed: row.failed, error },
    });
    return presentImport(row);
  });
}

/** The failures and new observations of a run, the first of each in file order (writes finish out of order). */
class KeptOutcomes {
  private failures: StoredImportFailure[] = [];
  private ids: { index: number; id: string }[] = [];

  add(outcome: RecordOutcome): void {
    if (outcome.kind === 'failed') {
      this.failures.push(outcome.recordId === undefined ? { index: outcome.index, reason: outcome.reason } : { index: outcome.index, reason: outcome.reason, recordId: outcome.recordId });
      if (this.failures.length > 2 * KEPT_FAILURES) this.failures = firstByIndex(this.failures, KEPT_FAILURES);
    } else if (outcome.kind === 'imported') {
      this.ids.push({ index: outcome.index, id: outcome.id });
      if (this.ids.length > 2 * KEPT_OBSERVATION_IDS) this.ids = firstByIndex(this.ids, KEPT_OBSERVATION_IDS);
    }
  }

  firstFailures(): StoredImportFailure[] {
    return firstByIndex(this.failures, KEPT_FAILURES);
  }

  firstIds(): string[] {
    return firstByIndex(this.ids, KEPT_OBSERVATION_IDS).map((i) => i.id);
  }
}

function firstByIndex<T extends { index: number }>(items: T[], n: number): T[] {
  return [...items].sort((a, b) => a.index - b.index).slice(0, n);
}

async function markRunning(ctx: Ctx, state: ImportRow, format: ImportFormat): Promise<ImportRow> {
  const startedAt = ctx.now();
  await inTransaction(ctx.db, async (tx) => {
    await tx.update(imports).set({ status: 'running', format, startedAt }).where(eq(imports.id, state.id));
    await recordEvent(tx, { type: 'import.started', entityType: 'import', entityId: state.id, actorId: state.userId, payload: { format } });
  });
  return { ...state, status: 'running', format, startedAt };
}

/** Saves the outcome and its `import.finished` event in one transaction, publishes it, and returns it. */
async function finish(
  ctx: Ctx,
  state: ImportRow,
  kept: KeptOutcomes,
  outcome: { error?: ImportError; startedAt?: Date },
  publish: (view: ImportView) => void,
): Promise<ImportView> {
  const failures = kept.firstFailures();
  const final: ImportRow = {
    ...state,
    status: outcome.error ? 'failed' : 'done',
    error: outcome.error ?? null,
    failures,
    failuresOmitted: Math.max(0, state.failed - failures.length),
    observationIds: kept.firstIds(),
    startedAt: state.startedAt ?? outcome.startedAt ?? null,
    finishedAt: ctx.now(),
  };
  await inTransaction(ctx.db, async (tx) => {
    await tx
      .update(imports)
      .set({
        status: final.status,
        error: final.error,
        processed: final.processed,
        imported: final.imported,
        duplicates: final.duplicates,
        failed: final.failed,
        failures: final.failures,
        failuresOmitted: final.failuresOmitted,
        observationIds: final.observationIds,
        bytesRead: final.bytesRead,
        startedAt: final.startedAt,
        finishedAt: final.finishedAt,
      })
      .where(eq(imports.id, final.id));
    await recordEvent(tx, {
      type: 'import.finished',
      entityType: 'import',
      entityId: final.id,
      actorId: final.userId,
      payload: { status: final.status, processed: final.processed, imported: final.imported, duplicates: final.duplicates, failed: final.failed, ...(final.error ? { error: final.error } : {}) },
    });
  });
  const view = presentImport(final);
  publish(view);
  return view;
}

/** Saves a running import's counts at most once a second, one save at a time (progress survives a reload). */
class ThrottledSaver {
  private readonly ctx: Ctx;
  private readonly id: string;
  private last = 0;
  private saving: Promise<void> = Promise.resolve();
  private pending: ImportRow | undefined;

  constructor(
    ctx: Ctx,
    id: string,
  ) {
    this.ctx = ctx;
    this.id = id;
  }

  save(state: ImportRow): void {
    this.pending = state;
    const now = Date.now();
    if (now - this.last < SAVE_EVERY_MS) return;
    this.last = now;
    this.saving = this.saving.then(() => this.write());
  }

  async flush(): Promise<void> {
    await this.saving;
  }

  private async write(): Promise<void> {
    const state = this.pending;
    if (!state) return;
    this.pending = undefined;
    try {
      await this.ctx.db
        .update(imports)
        .set({ processed: state.processed, imported: state.imported, duplicates: state.duplicates, failed: state.failed, bytesRead: state.bytesRead })
        .where(and(eq(imports.id, this.id), eq(imports.status, 'running')));
    } catch {
      // A missed progress save only makes a reloaded page a second behind; the final state is saved apart.
    }
  }
}

/** The error kept on a failed import: the AppError's id and message, or a generic one (details go to the log). */
function errorOf(error: unknown): ImportError {
  if (error instanceof AppError) return { id: error.id, message: error.message };
  if (error instanceof Error && error.name === 'AbortError') {
    return { id: 'internal', message: 'The server stopped during this import. Upload the file again to import the rest: records already imported are skipped as duplicates.' };
  }
  return { id: 'internal', message: 'The import stopped on an unexpected error (it is in the server log). Upload the file again to import the rest: records already imported are skipped as duplicates.' };
}

async function readHead(filePath: string): Promise<Buffer> {
  const handle = await open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** ZIP archives (Inspect .eval logs) are read by random access, so they go to the importers by path. */
function isZip(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === 0x04034b50;
}

/** The file's bytes, counted as they are read (the progress bar's measure). */
async function* counted(filePath: string, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(filePath)) {
    onBytes((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}
