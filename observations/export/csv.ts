import { createHash } from 'node:crypto';
import { partText, type TranscriptMessage } from '../transcript.schema.ts';
import { ByteChunks } from './byte-chunks.ts';
import type { ExportCoding, ExportObservation } from './export-record.ts';

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote, CR or LF (quotes doubled). A text that a
 * spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) is prefixed with an apostrophe, so
 * opening an export cannot run what an observation's author wrote. Numbers are written as they are.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV record, CRLF-terminated as RFC 4180 asks. */
export function csvRow(values: readonly (string | number | boolean | null | undefined)[]): string {
  return values.map(csvCell).join(',') + '\r\n';
}

/** A CSV column: its header, what it holds (for the dataset's README), and how to read it from a record. */
export interface CsvColumn<T> {
  name: string;
  description: string;
  value: (record: T) => string | number | null;
}

/** Lists inside one cell (tags, codes, links) are joined with `|`, which tags and codes cannot contain. */
const LIST_SEPARATOR = '|';

/** The plain text's pieces in order: one block per message, `role: text` (non-text parts as `[type: text]`). */
function* plainTextPieces(messages: readonly TranscriptMessage[]): Generator<string> {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (i > 0) yield '\n\n';
    yield `${m.role}: `;
    for (let j = 0; j < m.parts.length; j++) {
      const p = m.parts[j]!;
      if (j > 0) yield '\n';
      const text = partText(p);
      yield p.type === 'text' ? p.text : `[${p.type}${text ? `: ${text}` : ''}]`;
    }
  }
}

/** The observation's transcript as plain text: one block per message, `role: text` (non-text parts as `[type]`). */
export function transcriptPlainText(messages: readonly TranscriptMessage[]): string {
  return Array.from(plainTextPieces(messages)).join('');
}

/**
 * The transcript goes into observations.csv as an excerpt with the full text's length and sha256, not whole:
 * spreadsheets cap a cell at 32,767 characters (transcripts reach megabytes), and the exact transcript is in
 * observations.jsonl (joined by `id`).
 */
export const TRANSCRIPT_EXCERPT = 1000;

/** What observations.csv says of a transcript's plain text: its start, its length and its sha256. */
export interface TranscriptSummary {
  excerpt: string;
  chars: number;
  sha256: string;
}

/** Where transcriptSummary encodes the text; kept between calls (an export makes 100,000 of them). */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * transcriptPlainText's excerpt, length and sha256 without making the text: its pieces are encoded one after the
 * other into a reused buffer and hashed from there. (The text as one string was about 1 GB of short-lived
 * strings in a 100,000-observation export, besides the transcripts themselves, for the collector to clear.)
 * The pieces are separated by ASCII text, so encoding them apart gives the text's own UTF-8 bytes.
 */
export function transcriptSummary(messages: readonly TranscriptMessage[]): TranscriptSummary {
  let used = 0;
  let chars = 0;
  let excerpt = '';
  const add = (text: string) => {
    if (scratch.length - used < text.length * 3) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * scratch.length, used + text.length * 3));
      scratch.copy(bigger, 0, 0, used);
      scratch = bigger;
    }
    used += scratch.write(text, used);
    if (chars < TRANSCRIPT_EXCERPT) excerpt += text.slice(0, TRANSCRIPT_EXCERPT - chars);
    chars += text.length;
  };
  for (const piece of plainTextPieces(messages)) add(piece);
  const sha256 = createHash('sha256').update(scratch.subarray(0, used)).digest('hex');
  // One giant transcript must not keep its buffer for the life of the process.
  if (scratch.length > 4 * 1024 * 1024) scratch = Buffer.allocUnsafe(64 * 1024);
  return { excerpt, chars, sha256 };
}

/** An observation with its parsed JSON columns, as the CSV columns read it. */
export interface ObservationCsvRecord {
  o: ExportObservation;
  provenance: Record<string, unknown>;
  messageCount: number;
  evidenceLinks: string[];
  transcript: TranscriptSummary;
}

export function observationCsvRecord(o: ExportObservation): ObservationCsvRecord {
  const messages = JSON.parse(o.messagesJson) as TranscriptMessage[];
  return {
    o,
    provenance: JSON.parse(o.provenanceJson) as Record<string, unknown>,
    messageCount: messages.length,
    evidenceLinks: JSON.parse(o.evidenceLinksJson) as string[],
    transcript: transcriptSummary(messages),
  };
}

const fact = (r: ObservationCsvRecord, key: string) => {
  const v = r.provenance[key];
  return typeof v === 'string' ? v : v === undefined || v === null ? null : JSON.stringify(v);
};

/** observations.csv: one row per observation. */
export const observationColumns: CsvColumn<ObservationCsvRecord>[] = [
  { name: 'id', description: 'The observation\'s id (UUID); `observation_id` in codings.csv.', value: (r) => r.o.id },
  { name: 'title', description: 'Its title.', value: (r) => r.o.title },
  { name: 'surprise', description: 'What the contributor found surprising.', value: (r) => r.o.surprise },
  { name: 'status', description: 'submitted, triaged, coded, verified, rejected or duplicate.', value: (r) => r.o.status },
  { name: 'duplicate_of', description: 'The observation this one duplicates (status duplicate), else empty.', value: (r) => r.o.duplicateOf },
  { name: 'visibility', description: 'members (signed-in people) or public (anyone).', value: (r) => r.o.visibility },
  { name: 'provider', description: 'Who served the model (openai, anthropic, local...).', value: (r) => r.o.provider },
  { name: 'model', description: 'The model\'s name.', value: (r) => r.o.model },
  { name: 'model_version', description: 'The model version or snapshot, when known.', value: (r) => r.o.modelVersion },
  { name: 'observed_at', description: 'When the behaviour was observed (ISO 8601, UTC).', value: (r) => r.o.observedAt },
  { name: 'created_at', description: 'When the observation was filed (ISO 8601, UTC); rows are in this order, oldest first.', value: (r) => r.o.createdAt },
  { name: 'updated_at', description: 'When it was last edited (ISO 8601, UTC).', value: (r) => r.o.updatedAt },
  { name: 'revision', description: 'Its revision number (1, then one more per edit).', value: (r) => r.o.revision },
  { name: 'submitted_by', description: 'The submitter\'s user id.', value: (r) => r.o.submittedBy.id },
  { name: 'submitted_by_name', description: 'The submitter\'s display name.', value: (r) => r.o.submittedBy.displayName },
  { name: 'tags', description: 'Free tags, joined with `|`.', value: (r) => r.o.tags.join(LIST_SEPARATOR) },
  { name: 'codes', description: 'The distinct behaviour codes of its exported codings, joined with `|`.', value: (r) => [...new Set(r.o.codings.map((c) => c.behaviour.code))].join(LIST_SEPARATOR) },
  { name: 'coding_count', description: 'How many codings it has in codings.csv (withdrawn ones are not exported).', value: (r) => r.o.codings.length },
  { name: 'accepted_coding_count', description: 'Of those, how many are accepted.', value: (r) => r.o.codings.filter((c) => c.status === 'accepted').length },
  { name: 'message_count', description: 'Messages in the transcript.', value: (r) => r.messageCount },
  { name: 'capture', description: 'How it was captured: form, api, import, proxy, sdk, live-session.', value: (r) => fact(r, 'capture') },
  { name: 'interface', description: 'The interface (api, chat-app, agent-harness, local-runtime, other), when given.', value: (r) => fact(r, 'interface') },
  { name: 'endpoint', description: 'The API endpoint, when given.', value: (r) => fact(r, 'endpoint') },
  { name: 'harness', description: 'The harness that produced it, when given.', value: (r) => fact(r, 'harness') },
  { name: 'runtime', description: 'The local runtime, when given.', value: (r) => fact(r, 'runtime') },
  { name: 'quantization', description: 'The quantization, when given.', value: (r) => fact(r, 'quantization') },
  { name: 'system_prompt_sha256', description: 'sha256 (hex) of the system prompt, when there is one.', value: (r) => fact(r, 'systemPromptSha256') },
  { name: 'provenance_json', description: 'The whole provenance object as JSON (sampling parameters, tools, import facts...).', value: (r) => JSON.stringify(r.provenance) },
  { name: 'evidence_links', description: 'Evidence URLs, joined with `|`.', value: (r) => r.evidenceLinks.join(LIST_SEPARATOR) },
  { name: 'raw_sha256', description: 'sha256 (hex) of the raw payload as it was received (not exported; the same record always hashes the same).', value: (r) => r.o.rawSha256 },
  { name: 'transcript_excerpt', description: `The start (${TRANSCRIPT_EXCERPT} characters) of the transcript as plain text: one block per message, \`role: text\`, blocks separated by a blank line, non-text parts as \`[type: text]\`. The whole transcript is in observations.jsonl (spreadsheets cannot hold long cells).`, value: (r) => r.transcript.excerpt },
  { name: 'transcript_chars', description: 'The length of that plain text, in characters (UTF-16 code units).', value: (r) => r.transcript.chars },
  { name: 'transcript_sha256', description: 'sha256 (hex) of that plain text as UTF-8, whole: compare transcripts without reading them.', value: (r) => r.transcript.sha256 },
];

/** codings.csv: one row per coding. */
export const codingColumns: CsvColumn<{ observationId: string; c: ExportCoding }>[] = [
  { name: 'id', description: 'The coding\'s id (UUID).', value: (r) => r.c.id },
  { name: 'observation_id', description: 'The observation coded (`id` in observations.csv).', value: (r) => r.observationId },
  { name: 'ethogram', description: 'The ethogram\'s slug.', value: (r) => r.c.ethogram.slug },
  { name: 'ethogram_version', description: 'The ethogram version the coding was made under (its document is ethograms/<slug>-v<N>.json).', value: (r) => r.c.ethogram.version },
  { name: 'behaviour_key', description: 'The behaviour\'s stable key (the same across versions).', value: (r) => r.c.behaviour.key },
  { name: 'behaviour_code', description: 'The behaviour\'s code in that version.', value: (r) => r.c.behaviour.code },
  { name: 'behaviour_name', description: 'The behaviour\'s name in that version.', value: (r) => r.c.behaviour.name },
  { name: 'behaviour_category', description: 'The behaviour\'s category key in that version.', value: (r) => r.c.behaviour.category },
  { name: 'coder_id', description: 'The coder\'s user id (for a classifier\'s proposal, the account that ran it).', value: (r) => r.c.coder.id },
  { name: 'coder_name', description: 'The coder\'s display name.', value: (r) => r.c.coder.displayName },
  { name: 'classifier_id', description: 'The classifier that proposed it, else empty.', value: (r) => r.c.coder.classifierId },
  { name: 'method', description: 'manual, llm_judge, classifier, rule or live.', value: (r) => r.c.method },
  { name: 'status', description: 'proposed, accepted or rejected.', value: (r) => r.c.status },
  { name: 'confidence', description: 'Confidence between 0 and 1, when given.', value: (r) => r.c.confidence },
  { name: 'message_id', description: 'The span\'s message id (empty: the whole observation).', value: (r) => r.c.span?.messageId ?? null },
  { name: 'part_index', description: 'The span\'s part index within the message.', value: (r) => r.c.span?.partIndex ?? null },
  { name: 'char_start', description: 'The span\'s first character (0-based, UTF-16 units).', value: (r) => r.c.span?.start ?? null },
  { name: 'char_end', description: 'The span\'s end (exclusive).', value: (r) => r.c.span?.end ?? null },
  { name: 'quote', description: 'The coded text as it stood.', value: (r) => r.c.span?.quote ?? null },
  { name: 'modifiers_json', description: 'The modifiers as a JSON object (modifier set key to value).', value: (r) => JSON.stringify(r.c.modifiers) },
  { name: 'rationale', description: 'The coder\'s rationale.', value: (r) => r.c.rationale },
  { name: 'created_at', description: 'When the coding was made (ISO 8601, UTC).', value: (r) => r.c.createdAt },
];

export const csvHeader = <T>(columns: readonly CsvColumn<T>[]) => csvRow(columns.map((c) => c.name));
export const csvRecord = <T>(columns: readonly CsvColumn<T>[], record: T) => csvRow(columns.map((c) => c.value(record)));

/** observations.csv rows of a batch, as bytes in buffers of about 1 MB (see ByteChunks). */
export function observationCsvRows(batch: readonly ExportObservation[]): Buffer[] {
  const out = new ByteChunks();
  for (const o of batch) out.write(csvRecord(observationColumns, observationCsvRecord(o)));
  return out.take();
}

/** codings.csv rows of a batch, as bytes. */
export function codingCsvRows(batch: readonly ExportObservation[]): Buffer[] {
  const out = new ByteChunks();
  for (const o of batch) for (const c of o.codings) out.write(csvRecord(codingColumns, { observationId: o.id, c }));
  return out.take();
}
