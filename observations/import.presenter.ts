import { importFormatLabels, importFormats, type ImportFormat } from './importers/index.ts';
import type { ImportError, ImportStatus, StoredImportFailure, imports } from './import.schema.ts';

export type ImportRow = typeof imports.$inferSelect;

/** The counts an import reports while it runs and when it ends. */
export interface ImportCounts {
  /** Records read so far (imported, duplicates and failures). */
  processed: number;
  imported: number;
  duplicates: number;
  failed: number;
}

/**
 * An import as the API, the pages and the live progress events show it. Dates are ISO strings. `fraction` is the
 * share of the file read (null when it cannot be known, e.g. a ZIP archive read by random access, until it ends).
 */
export interface ImportView {
  id: string;
  /** The import's page. */
  url: string;
  userId: string;
  fileName: string;
  byteSize: number;
  bytesRead: number;
  fraction: number | null;
  requestedFormat: ImportFormat | null;
  format: ImportFormat | null;
  /** What a person reads for the format ("ChatGPT data export (conversations.json)"), or null until known. */
  formatLabel: string | null;
  status: ImportStatus;
  finished: boolean;
  counts: ImportCounts;
  /** The first per-record failures, in file order; `failuresOmitted` more were not kept. */
  failures: StoredImportFailure[];
  failuresOmitted: number;
  /** The first new observations, in file order (`counts.imported` says how many there are in all). */
  observationIds: string[];
  /** Why the whole file could not be imported (status `failed`). */
  error: ImportError | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const asFormat = (value: string | null): ImportFormat | null => ((importFormats as readonly string[]).includes(value ?? '') ? (value as ImportFormat) : null);

export function presentImport(row: ImportRow): ImportView {
  const format = asFormat(row.format);
  const finished = row.status === 'done' || row.status === 'failed';
  return {
    id: row.id,
    url: `/imports/${row.id}`,
    userId: row.userId,
    fileName: row.fileName,
    byteSize: row.byteSize,
    bytesRead: row.bytesRead,
    fraction: fractionOf(row),
    requestedFormat: asFormat(row.requestedFormat),
    format,
    formatLabel: format ? importFormatLabels[format] : null,
    status: row.status,
    finished,
    counts: { processed: row.processed, imported: row.imported, duplicates: row.duplicates, failed: row.failed },
    failures: row.failures,
    failuresOmitted: row.failuresOmitted,
    observationIds: row.observationIds,
    error: row.error ?? null,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

function fractionOf(row: ImportRow): number | null {
  if (row.status === 'done') return 1;
  if (row.status === 'queued') return 0;
  if (row.byteSize <= 0 || row.bytesRead <= 0) return row.status === 'running' ? null : 0;
  return Math.min(1, row.bytesRead / row.byteSize);
}
