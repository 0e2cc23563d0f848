import { ByteChunks } from './byte-chunks.ts';

/** One coding as exported (withdrawn codings are not exported). */
export interface ExportCoding {
  id: string;
  ethogram: { slug: string; version: number; versionId: string };
  behaviour: { key: string; code: string; name: string; category: string };
  /** A person, or (classifierId set) the classifier that proposed it under its operator's account. */
  coder: { id: string; displayName: string; classifierId: string | null };
  method: string;
  status: string;
  confidence: number | null;
  /** Null when the coding is of the whole observation. */
  span: { messageId: string; partIndex: number | null; start: number | null; end: number | null; quote: string | null } | null;
  modifiers: Record<string, unknown>;
  rationale: string;
  createdAt: string;
}

/** One observation as the export reads it: JSON columns stay text (`...Json`) so they are spliced in, not re-encoded. */
export interface ExportObservation {
  id: string;
  title: string;
  surprise: string;
  status: string;
  duplicateOf: string | null;
  visibility: string;
  provider: string;
  model: string;
  modelVersion: string | null;
  provenanceJson: string;
  observedAt: string;
  createdAt: string;
  updatedAt: string;
  revision: number;
  submittedBy: { id: string; displayName: string };
  rawSha256: string;
  transcriptFormat: string;
  /** The transcript's messages (`[{ id, role, parts }]`) as JSON text. */
  messagesJson: string;
  evidenceLinksJson: string;
  tags: string[];
  codings: ExportCoding[];
}

/** The JSONL line format's name, in each line's `format` field. */
export const EXPORT_LINE_FORMAT = 'menagerie.observation/v1';

const s = JSON.stringify;

/** A JSONL line up to the transcript (whose text is spliced in between, as PostgreSQL printed it). */
function lineHead(o: ExportObservation): string {
  return (
    `{"format":${s(EXPORT_LINE_FORMAT)},"id":${s(o.id)},"title":${s(o.title)},"surprise":${s(o.surprise)},"status":${s(o.status)}` +
    `,"duplicateOf":${s(o.duplicateOf)},"visibility":${s(o.visibility)},"provider":${s(o.provider)},"model":${s(o.model)}` +
    `,"modelVersion":${s(o.modelVersion)},"observedAt":${s(o.observedAt)},"createdAt":${s(o.createdAt)},"updatedAt":${s(o.updatedAt)}` +
    `,"revision":${o.revision},"submittedBy":${s(o.submittedBy)},"tags":${s(o.tags)},"evidenceLinks":${o.evidenceLinksJson}` +
    `,"rawSha256":${s(o.rawSha256)},"transcriptFormat":${s(o.transcriptFormat)},"metadata":${o.provenanceJson},"messages":`
  );
}

/** The rest of the line after the transcript. */
const lineTail = (o: ExportObservation) => `,"codings":${s(o.codings)}}\n`;

/**
 * One observation as a JSONL line (with its newline) that the generic JSONL importer reads back: `messages` in
 * Menagerie form, `model`, `provider`, `id` (kept as the re-imported observation's provenance.recordId), `title`,
 * `observedAt`, `surprise`, `modelVersion` and `tags`, and the provenance under `metadata` (which the importer
 * keeps as provenance.source). The rest (codings, status, people, dates) travels beside them.
 */
export function jsonlLine(o: ExportObservation): string {
  return lineHead(o) + o.messagesJson + lineTail(o);
}

/**
 * A batch's JSONL lines as bytes, in buffers of about 1 MB: the same text as jsonlLine, but the transcript (most
 * of the bytes) is encoded where it lies rather than joined into the line first.
 */
export function jsonlLines(batch: readonly ExportObservation[]): Buffer[] {
  const out = new ByteChunks();
  for (const o of batch) {
    out.write(lineHead(o));
    out.write(o.messagesJson);
    out.write(lineTail(o));
  }
  return out.take();
}
