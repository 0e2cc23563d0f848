/** The importers' public API: read files of model conversations into normalised transcripts (see README.md). */
export { importRecords } from './import-records.ts';
export { detectFormat, unknownFormatError } from './detect-format.ts';
export { parseOtlpTraces } from './otel-genai.importer.ts';
export { jsonlRecordSchema, type JsonlRecord } from './jsonl.importer.ts';
export { sha256 } from './build-record.ts';
export {
  DEFAULT_MAX_IMPORT_BYTES,
  importFormatLabels,
  importFormats,
  type ImportFailure,
  type ImportFormat,
  type ImportOptions,
  type ImportProvenance,
  type ImportResult,
  type ImportSource,
  type ImportedRecord,
} from './import-types.ts';
