import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Ctx } from '../../core/context.ts';
import type { ListFilters } from '../observation.input.ts';
import { codingCsvRows, codingColumns, csvHeader, observationColumns, observationCsvRows } from './csv.ts';
import { datasetReadme, describeFilters } from './export-readme.ts';
import type { ExportObservation } from './export-record.ts';
import { jsonlLines } from './export-record.ts';
import { ethogramVersionDocuments, exportBatches } from './export.queries.ts';
import { DeflateSpool, ZipWriter, type ByteSink } from './zip-writer.ts';

export const exportFormats = ['jsonl', 'csv', 'zip'] as const;

/**
 * zlib level of the ZIP's entries: level 1 deflates transcripts about four times faster than the default 6 and
 * the archive comes out only about a tenth larger (measured on generated prose: 25.4% against 23.1% of the size).
 */
export const EXPORT_ZIP_LEVEL = 1;
export type ExportFormat = (typeof exportFormats)[number];

export const exportContentTypes: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  zip: 'application/zip',
};

/** What an export wrote. */
export interface ExportSummary {
  observations: number;
  codings: number;
  ethogramVersions: string[];
}

export interface ExportOptions {
  /** Stops the export between batches (a client that went away). */
  signal?: AbortSignal;
  batchSize?: number;
  /** zlib level for the ZIP's entries (default EXPORT_ZIP_LEVEL). */
  level?: number;
}

/** A file name for the download: `menagerie-observations-20260102-030405.jsonl`. */
export function exportFileName(format: ExportFormat, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `menagerie-observations-${stamp}.${format}`;
}

/**
 * Writes every observation the actor may see that matches the list filters, in one format, to the sink, streamed
 * batch by batch (see exportBatches): JSONL (one observation a line, readable back by the JSONL importer), CSV
 * (observations.csv alone), or a ZIP dataset (observations.jsonl, observations.csv, codings.csv, the ethogram
 * versions the codings were made under, and a README describing every field, the filters and the counts).
 */
export async function exportObservations(ctx: Ctx, filters: ListFilters, format: ExportFormat, sink: ByteSink, options: ExportOptions = {}): Promise<ExportSummary> {
  const batches = exportBatches(ctx, filters, { ...(options.batchSize ? { batchSize: options.batchSize } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  const summary: ExportSummary = { observations: 0, codings: 0, ethogramVersions: [] };
  const count = (batch: ExportObservation[]) => {
    summary.observations += batch.length;
    for (const o of batch) summary.codings += o.codings.length;
  };
  if (format === 'jsonl') {
    for await (const batch of batches) {
      count(batch);
      for (const chunk of jsonlLines(batch)) await sink(chunk);
    }
    return summary;
  }
  if (format === 'csv') {
    await sink(Buffer.from(csvHeader(observationColumns), 'utf8'));
    for await (const batch of batches) {
      count(batch);
      for (const chunk of observationCsvRows(batch)) await sink(chunk);
    }
    return summary;
  }
  return exportZip(ctx, filters, batches, sink, summary, options);
}

/**
 * The ZIP dataset in one pass over the database: observations.jsonl streams into the archive while the two CSV
 * files are deflated into temporary files beside it (entries cannot interleave); those are copied in after it,
 * then the ethogram versions met on the way and the README, which can then give the counts.
 */
async function exportZip(ctx: Ctx, filters: ListFilters, batches: AsyncGenerator<ExportObservation[]>, sink: ByteSink, summary: ExportSummary, options: ExportOptions): Promise<ExportSummary> {
  const at = ctx.now();
  const dir = await mkdtemp(path.join(tmpdir(), 'menagerie-export-'));
  const level = options.level ?? EXPORT_ZIP_LEVEL;
  const observationsCsv = new DeflateSpool(path.join(dir, 'observations.csv.deflate'), level);
  const codingsCsv = new DeflateSpool(path.join(dir, 'codings.csv.deflate'), level);
  const versionIds = new Set<string>();
  try {
    const zip = new ZipWriter(sink, { date: at, level });
    await observationsCsv.write(csvHeader(observationColumns));
    await codingsCsv.write(csvHeader(codingColumns));
    await zip.addStream(
      'observations.jsonl',
      (async function* () {
        for await (const batch of batches) {
          summary.observations += batch.length;
          for (const o of batch) {
            summary.codings += o.codings.length;
            for (const c of o.codings) versionIds.add(c.ethogram.versionId);
          }
          await Promise.all([observationsCsv.write(observationCsvRows(batch)), codingsCsv.write(codingCsvRows(batch))]);
          yield jsonlLines(batch);
        }
      })(),
    );
    await zip.addPrecompressed('observations.csv', await observationsCsv.finish());
    await zip.addPrecompressed('codings.csv', await codingsCsv.finish());
    const documents = await ethogramVersionDocuments(ctx.db, versionIds);
    for (const d of documents) await zip.addBuffer(`ethograms/${d.fileName}`, JSON.stringify(d.document, null, 2) + '\n');
    summary.ethogramVersions = documents.map((d) => `${d.slug} v${d.number}`);
    const readme = datasetReadme({
      exportedAt: at,
      filters: describeFilters(filters),
      audience: ctx.actor.kind === 'user' ? `as ${ctx.actor.displayName} (${ctx.actor.role}): every observation not deleted` : 'anonymously: public observations only',
      observations: summary.observations,
      codings: summary.codings,
      ethograms: documents.map((d) => ({ file: `ethograms/${d.fileName}`, slug: d.slug, number: d.number, status: d.status })),
    });
    await zip.addBuffer('README.md', readme);
    await zip.finish();
    return summary;
  } finally {
    observationsCsv.destroy();
    codingsCsv.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The export stopped because its destination closed (a client went away). */
export class DestinationClosed extends Error {
  constructor() {
    super('The destination closed before the export finished.');
    this.name = 'DestinationClosed';
  }
}

/**
 * A sink writing to a stream (an HTTP response, a file, stdout) with backpressure: it waits for 'drain' when the
 * stream's buffer is full, and throws DestinationClosed once the stream is closed or destroyed.
 */
export function writableSink(stream: Writable): ByteSink {
  return async (chunk) => {
    if (stream.destroyed || stream.writableEnded) throw new DestinationClosed();
    if (stream.write(chunk)) return;
    const ac = new AbortController();
    try {
      await Promise.race([once(stream, 'drain', { signal: ac.signal }), once(stream, 'close', { signal: ac.signal }).then(() => Promise.reject(new DestinationClosed()))]);
    } finally {
      ac.abort();
    }
  };
}
