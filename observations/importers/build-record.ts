import { createHash } from 'node:crypto';
import { transcriptSchema, type TranscriptFormat } from '../transcript.schema.ts';
import type { DraftMessage } from '../transcript/parse-transcript.ts';
import type { ImportFailure, ImportFormat, ImportProvenance, ImportResult } from './import-types.ts';

/** What a format importer produces for one record, before ids, the schema check and the hash. */
export interface RecordDraft {
  index: number;
  raw: string;
  messages: DraftMessage[];
  /** The transcript format the messages were parsed as (`menagerie` when the importer built them itself). */
  transcriptFormat: TranscriptFormat;
  recordId?: string;
  conversationId?: string;
  title?: string;
  observedAt?: Date | null;
  createdAt?: string;
  updatedAt?: string;
  model?: string;
  provider?: string;
  stopReason?: string;
  /** The harness that produced the record (e.g. `inspect_ai`). */
  harness?: string;
  source?: Record<string, unknown>;
  /** What was surprising, the model version and tags, when the source says (a Menagerie JSONL export). */
  surprise?: string;
  modelVersion?: string;
  tags?: string[];
  warnings?: string[];
}

/** A per-record failure as a format importer reports it (the file name is added by `importRecords`). */
export type DraftFailure = { index: number; reason: string; recordId?: string };

export type DraftResult = RecordDraft | DraftFailure;

/** Titles made from the first user message are kept short; a source's own title keeps up to an observation's limit. */
const TITLE_LENGTH = 80;
const OWN_TITLE_LENGTH = 200;

/** Hand out message ids, hold the transcript to its schema, hash the raw text and assemble the provenance. */
export function buildRecord(draft: RecordDraft, fileName: string, format: ImportFormat): ImportResult {
  const messages = draft.messages.map((message, i) => ({ id: `m${i + 1}`, ...message }));
  const checked = transcriptSchema.safeParse({ format: draft.transcriptFormat, messages });
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const where = issue ? describePath(issue.path) : '';
    const reason = messages.length === 0 ? 'The record holds no messages' : `The transcript does not fit: ${where}${issue?.message ?? 'invalid'}`;
    return failureOf({ index: draft.index, reason, ...(draft.recordId ? { recordId: draft.recordId } : {}) }, fileName);
  }
  const provenance: ImportProvenance = {
    capture: 'import',
    sourceFormat: format,
    fileName,
    ...defined({
      recordId: draft.recordId,
      conversationId: draft.conversationId,
      createdAt: draft.createdAt,
      updatedAt: draft.updatedAt,
      model: draft.model,
      provider: draft.provider,
      stopReason: draft.stopReason,
      harness: draft.harness,
      source: draft.source && Object.keys(draft.source).length > 0 ? draft.source : undefined,
    }),
  };
  return {
    kind: 'record',
    index: draft.index,
    fileName,
    format,
    transcript: checked.data,
    provenance,
    raw: draft.raw,
    rawSha256: sha256(draft.raw),
    title: titleOf(draft),
    observedAt: draft.observedAt ?? null,
    model: draft.model ?? null,
    provider: draft.provider ?? null,
    ...(draft.surprise ? { surprise: draft.surprise } : {}),
    ...(draft.modelVersion ? { modelVersion: draft.modelVersion } : {}),
    ...(draft.tags ? { tags: draft.tags } : {}),
    warnings: draft.warnings ?? [],
  };
}

export function failureOf(failure: DraftFailure, fileName: string): ImportFailure {
  return { kind: 'failure', index: failure.index, fileName, ...(failure.recordId ? { recordId: failure.recordId } : {}), reason: failure.reason };
}

export function isFailure(result: DraftResult): result is DraftFailure {
  return 'reason' in result;
}

/** sha256 of text as UTF-8, in hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function titleOf(draft: RecordDraft): string {
  const own = draft.title?.trim();
  if (own) return shorten(own, OWN_TITLE_LENGTH);
  for (const message of draft.messages) {
    if (message.role !== 'user') continue;
    const text = message.parts.find((part) => part.type === 'text');
    if (text && text.type === 'text' && text.text.trim() !== '') return shorten(text.text.trim().replace(/\s+/g, ' '));
  }
  return 'Imported conversation';
}

function shorten(text: string, max = TITLE_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

function describePath(path: readonly PropertyKey[]): string {
  if (path[0] !== 'messages' || typeof path[1] !== 'number') return '';
  const part = path[2] === 'parts' && typeof path[3] === 'number' ? `, part ${path[3] + 1}` : '';
  return `message ${path[1] + 1}${part}: `;
}

function defined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Shared helpers for the format importers. */
export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A date from epoch seconds, epoch milliseconds or an ISO string; undefined when unreadable. */
export function dateOf(value: unknown): Date | undefined {
  let date: Date | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) date = new Date(value < 1e11 ? value * 1000 : value);
  else if (typeof value === 'string' && value !== '') date = new Date(value);
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** Parse one record's JSON text; the reason names what is wrong in plain words. */
export function parseJson(raw: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (error) {
    return { ok: false, reason: `The record is not valid JSON (${(error as Error).message})` };
  }
}
