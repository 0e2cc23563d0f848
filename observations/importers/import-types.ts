import type { Readable } from 'node:stream';
import type { Provenance } from '../observation.schema.ts';
import type { Transcript } from '../transcript.schema.ts';

/** Every source format the importers read; `detectFormat` tries them in this order of specificity. */
export const importFormats = [
  'inspect-log',
  'chatgpt-export',
  'claude-export',
  'otel-genai',
  'openai-responses',
  'openai-chat',
  'anthropic-messages',
  'jsonl',
] as const;
export type ImportFormat = (typeof importFormats)[number];

/** What a person reads for each format (in error messages and the README). */
export const importFormatLabels: Record<ImportFormat, string> = {
  'inspect-log': 'Inspect eval log (.json or .eval)',
  'chatgpt-export': 'ChatGPT data export (conversations.json)',
  'claude-export': 'Claude.ai data export (conversations.json)',
  'otel-genai': 'OpenTelemetry GenAI spans (OTLP/HTTP JSON)',
  'openai-responses': 'OpenAI Responses API',
  'openai-chat': 'OpenAI Chat Completions',
  'anthropic-messages': 'Anthropic Messages',
  jsonl: 'generic JSONL ({ messages, model, provider } per line)',
};

/** Where an imported record came from: the observation's provenance, with the import's own facts. */
export interface ImportProvenance extends Provenance {
  capture: 'import';
  sourceFormat: ImportFormat;
  fileName: string;
  /** The record's own id in the source (conversation id, sample id and epoch, span id, response id). */
  recordId?: string;
  /** The conversation, eval run or trace the record belongs to, when the source has one. */
  conversationId?: string;
  /** ISO timestamps the source gives for the record. */
  createdAt?: string;
  updatedAt?: string;
  model?: string;
  provider?: string;
  stopReason?: string;
  /** Further source facts worth keeping beside the transcript (usage, scores, branch counts, span ids). */
  source?: Record<string, unknown>;
  /** The upload (`imports` row) that filed the record, when it came through the import page or API. */
  importId?: string;
}

/** One record read from a source, ready to become an observation. */
export interface ImportedRecord {
  kind: 'record';
  /** 0-based position of the record in the file (for JSONL, the line number minus one). */
  index: number;
  fileName: string;
  format: ImportFormat;
  transcript: Transcript;
  provenance: ImportProvenance;
  /** The record's own raw JSON text, kept beside the transcript (no normaliser is lossless). */
  raw: string;
  /** sha256 (hex) of `raw` as UTF-8: the same record always hashes the same, so re-imports are found. */
  rawSha256: string;
  /** A title to suggest: the source's own title, or the start of the first user message. */
  title: string;
  observedAt: Date | null;
  model: string | null;
  provider: string | null;
  /** What was surprising, the model version and tags, when the source says (a Menagerie JSONL export). */
  surprise?: string;
  modelVersion?: string;
  tags?: string[];
  /** Things worth telling the importer about this record that did not stop it (e.g. only the first choice read). */
  warnings: string[];
}

/** A record that could not be imported: the rest of the file still imports. */
export interface ImportFailure {
  kind: 'failure';
  index: number;
  fileName: string;
  recordId?: string;
  reason: string;
}

export type ImportResult = ImportedRecord | ImportFailure;

/** A file on disk, or a stream (an upload) with the name it was uploaded under. */
export type ImportSource =
  | { path: string; fileName?: string }
  | { stream: Readable | AsyncIterable<Uint8Array>; fileName: string };

export interface ImportOptions {
  /** Skip detection and read the source as this format. */
  format?: ImportFormat;
  /** Refuse sources larger than this many bytes (default `DEFAULT_MAX_IMPORT_BYTES`). */
  maxBytes?: number;
}

/** 1 GiB: sources are streamed, so the limit guards disk and time rather than memory. */
export const DEFAULT_MAX_IMPORT_BYTES = 1024 * 1024 * 1024;

/**
 * Formats that are one JSON document (an API payload, an Inspect `.json` log, an OTLP body) are parsed whole;
 * past this size they are refused with a message pointing at the streamable alternatives.
 */
export const MAX_WHOLE_DOCUMENT_BYTES = 256 * 1024 * 1024;

/** One record (a conversation, a sample, a line) larger than this is reported as a failure, not held in memory. */
export const MAX_RECORD_BYTES = 128 * 1024 * 1024;
