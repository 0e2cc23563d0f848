import { eq, sql, type SQL } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { rowsOf, type Db } from '../../core/db.ts';
import { listVersionBehaviours } from '../../ethograms/behaviour.queries.ts';
import type { EthogramDocumentInput } from '../../ethograms/ethogram-document.schema.ts';
import { ethograms, ethogramVersions } from '../../ethograms/ethogram.schema.ts';
import { versionDocument } from '../../ethograms/version-document.ts';
import type { ListFilters } from '../observation.input.ts';
import { listedConditions } from '../observation.queries.ts';
import { openBlindAssignment } from '../review/blind.queries.ts';
import type { ExportCoding, ExportObservation } from './export-record.ts';

/** Observations read per statement: big enough that round trips do not dominate; three batches are held (~9 MB). */
export const EXPORT_BATCH = 250;
/** Batches read (or being read) while one is written. */
const READ_AHEAD = 2;

interface ObservationRow {
  id: string;
  title: string;
  surprise: string;
  status: string;
  duplicate_of: string | null;
  visibility: string;
  provider: string;
  model: string;
  model_version: string | null;
  provenance: string;
  observed_at: string | Date;
  created_at: string | Date;
  /** created_at to the microsecond (a JavaScript Date keeps milliseconds only), for the cursor. */
  created_key: string;
  updated_at: string | Date;
  revision: number;
  submitted_by: string;
  submitter_name: string;
  raw_sha256: string;
  /** The whole transcript as PostgreSQL prints it (see splitTranscript). */
  transcript: string;
  evidence_links: string;
  tags: string[] | null;
}

interface CodingRow {
  id: string;
  observation_id: string;
  message_id: string | null;
  part_index: number | null;
  char_start: number | null;
  char_end: number | null;
  quote: string | null;
  modifiers: string;
  method: string;
  confidence: number | string | null;
  rationale: string;
  status: string;
  classifier_id: string | null;
  created_at: string | Date;
  behaviour_key: string;
  behaviour_code: string;
  behaviour_name: string;
  behaviour_category: string;
  version_id: string;
  version_number: number;
  ethogram_slug: string;
  coder_id: string;
  coder_name: string;
}

const iso = (d: string | Date) => (d instanceof Date ? d : new Date(d)).toISOString();

/**
 * Every observation the actor may see that matches the list filters (the list's own conditions, so the export is
 * exactly the list's set, every page of it), oldest first, `batchSize` at a time, each with its codings.
 *
 * Keyset pagination along the list's creation-date index (created_at DESC NULLS LAST, id, walked backwards), so
 * each batch is an index range scan from the previous batch's last row and memory holds one batch whatever the
 * set's size. JSON columns come as text (`messages` and `provenance` are spliced into the output unparsed).
 * Codings: all but withdrawn ones (a withdrawal retracts a coding; proposals and rejections keep their status);
 * a coder with open blind assignments gets only their own codings of those observations, as on the pages.
 * Stops between batches when `signal` aborts (a client that went away). The next batch's statements run while
 * the caller handles the current one, so the database and the serialising overlap.
 */
export async function* exportBatches(ctx: Ctx, filters: ListFilters, options: { batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<ExportObservation[]> {
  const { conditions, blindCoderId } = await listedConditions(ctx, filters);
  const batchSize = options.batchSize ?? EXPORT_BATCH;
  const page = async (after: { createdAt: string; id: string } | null) => {
    const cursor: SQL = after
      ? sql`o.created_at >= ${after.createdAt}::timestamptz AND (o.created_at > ${after.createdAt}::timestamptz OR o.id < ${after.id}::uuid)`
      : sql`true`;
    return rowsOf<ObservationRow>(
      await ctx.db.execute(sql`SELECT o.id, o.title, o.surprise, o.status, o.duplicate_of, o.visibility, o.provider, o.model, o.model_version,
          o.provenance::text AS provenance, o.observed_at, o.created_at, o.created_at::text AS created_key, o.updated_at, o.revision, o.submitted_by, u.display_name AS submitter_name,
          o.raw_sha256, o.transcript::text AS transcript,
          o.evidence_links::text AS evidence_links, o.tags
        FROM observations o JOIN users u ON u.id = o.submitted_by
        WHERE ${sql.join([...conditions, cursor], sql` AND `)}
        ORDER BY o.created_at ASC NULLS FIRST, o.id DESC
        LIMIT ${batchSize}`),
    );
  };
  // Batches are read ahead of the caller, up to READ_AHEAD of them: the next page's statement starts as soon as
  // the previous page's rows arrive (it needs only their last key), not when the caller asks, and each page's
  // codings are read beside the next page (another connection on a server). So the database works while the
  // caller writes, and the caller waits only when the database is the slower side.
  type Read = { rows: ObservationRow[]; codings: Promise<Map<string, ExportCoding[]>> } | null;
  const read = async (after: { createdAt: string; id: string } | null): Promise<Read> => {
    const rows = await page(after);
    if (rows.length === 0) return null;
    const codings = codingsOf(ctx.db, rows.map((r) => r.id), blindCoderId);
    codings.catch(() => {}); // awaited when the batch is taken; a caller that stops early never takes it
    return { rows, codings };
  };
  const following = (previous: Promise<Read>): Promise<Read> => {
    const next = previous.then((b) => {
      const last = b?.rows[b.rows.length - 1];
      return last && b.rows.length === batchSize ? read({ createdAt: last.created_key, id: last.id }) : null;
    });
    next.catch(() => {}); // surfaced when taken
    return next;
  };
  let last: Promise<Read> = read(null);
  last.catch(() => {});
  const ahead: Promise<Read>[] = [last];
  while (true) {
    while (ahead.length <= READ_AHEAD) ahead.push((last = following(last)));
    options.signal?.throwIfAborted();
    const batch = await ahead.shift()!;
    if (!batch) return;
    const codings = await batch.codings;
    yield batch.rows.map((r) => observationOf(r, codings.get(r.id) ?? []));
  }
}

async function codingsOf(db: Db, ids: string[], blindCoderId: string | undefined): Promise<Map<string, ExportCoding[]>> {
  const own = blindCoderId ? sql`AND (c.coder_id = ${blindCoderId}::uuid OR NOT ${openBlindAssignment(sql`c.observation_id`, blindCoderId)})` : sql``;
  const rows = rowsOf<CodingRow>(
    await db.execute(sql`SELECT c.id, c.observation_id, c.message_id, c.part_index, c.char_start, c.char_end, c.quote, c.modifiers::text AS modifiers,
        c.method, c.confidence, c.rationale, c.status, c.classifier_id, c.created_at,
        b.key AS behaviour_key, b.code AS behaviour_code, b.name AS behaviour_name, b.category AS behaviour_category,
        v.id AS version_id, v.number AS version_number, e.slug AS ethogram_slug, c.coder_id, u.display_name AS coder_name
      FROM codings c
      JOIN behaviours b ON b.id = c.behaviour_id
      JOIN ethogram_versions v ON v.id = c.ethogram_version_id
      JOIN ethograms e ON e.id = v.ethogram_id
      JOIN users u ON u.id = c.coder_id
      WHERE c.observation_id = ANY(${`{${ids.join(',')}}`}::uuid[]) AND c.withdrawn_at IS NULL ${own}
      ORDER BY c.observation_id, c.created_at, c.id`),
  );
  const byObservation = new Map<string, ExportCoding[]>();
  for (const r of rows) {
    const list = byObservation.get(r.observation_id) ?? [];
    list.push({
      id: r.id,
      ethogram: { slug: r.ethogram_slug, version: Number(r.version_number), versionId: r.version_id },
      behaviour: { key: r.behaviour_key, code: r.behaviour_code, name: r.behaviour_name, category: r.behaviour_category },
      coder: { id: r.coder_id, displayName: r.coder_name, classifierId: r.classifier_id },
      method: r.method,
      status: r.status,
      confidence: r.confidence === null ? null : Number(r.confidence),
      span: r.message_id === null ? null : { messageId: r.message_id, partIndex: r.part_index, start: r.char_start, end: r.char_end, quote: r.quote },
      modifiers: JSON.parse(r.modifiers) as Record<string, unknown>,
      rationale: r.rationale,
      createdAt: iso(r.created_at),
    });
    byObservation.set(r.observation_id, list);
  }
  return byObservation;
}

/** How PostgreSQL prints a stored transcript: jsonb orders keys by length, and transcriptSchema keeps only these two. */
const TRANSCRIPT_TEXT = /^\{"format": "([a-z-]+)", "messages": /;

/**
 * The transcript's format and its messages' JSON text, from the whole transcript's text. PostgreSQL reads the
 * column once this way: `transcript->>'format'` and `(transcript->'messages')::text` each decompressed the
 * TOASTed transcript again, and `->` copied the messages before printing them (about twice the database's CPU
 * for the export). The messages are cut out of the text, not parsed; any other shape is parsed instead.
 */
export function splitTranscript(text: string): { transcriptFormat: string; messagesJson: string } {
  const head = TRANSCRIPT_TEXT.exec(text);
  if (head && text.endsWith(']}')) return { transcriptFormat: head[1]!, messagesJson: text.slice(head[0].length, -1) };
  const transcript = JSON.parse(text) as { format: string; messages: unknown };
  return { transcriptFormat: transcript.format, messagesJson: JSON.stringify(transcript.messages) };
}

function observationOf(r: ObservationRow, codings: ExportCoding[]): ExportObservation {
  return {
    id: r.id,
    title: r.title,
    surprise: r.surprise,
    status: r.status,
    duplicateOf: r.duplicate_of,
    visibility: r.visibility,
    provider: r.provider,
    model: r.model,
    modelVersion: r.model_version,
    provenanceJson: r.provenance,
    observedAt: iso(r.observed_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    revision: Number(r.revision),
    submittedBy: { id: r.submitted_by, displayName: r.submitter_name },
    rawSha256: r.raw_sha256,
    ...splitTranscript(r.transcript),
    evidenceLinksJson: r.evidence_links,
    tags: r.tags ?? [],
    codings,
  };
}

/** The referenced ethogram versions as `menagerie.ethogram/v1` documents, by file name (`<slug>-v<N>.json`). */
export async function ethogramVersionDocuments(db: Db, versionIds: Iterable<string>): Promise<{ fileName: string; slug: string; number: number; status: string; document: EthogramDocumentInput }[]> {
  const out = [];
  for (const versionId of versionIds) {
    const [version] = await db.select().from(ethogramVersions).where(eq(ethogramVersions.id, versionId));
    if (!version) continue;
    const [ethogram] = await db.select().from(ethograms).where(eq(ethograms.id, version.ethogramId));
    if (!ethogram) continue;
    const document = versionDocument(ethogram, version, await listVersionBehaviours(db, version.id));
    out.push({ fileName: `${ethogram.slug}-v${version.number}.json`, slug: ethogram.slug, number: version.number, status: version.status, document });
  }
  return out.sort((a, b) => a.fileName.localeCompare(b.fileName));
}
