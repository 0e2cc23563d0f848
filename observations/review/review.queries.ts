import { sql, type SQL } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { rowsOf } from '../../core/db.ts';
import { invalid } from '../../core/errors.ts';
import type { ClassifierKind } from '../classify/classify.schema.ts';
import { partText, type TranscriptMessage } from '../transcript.schema.ts';
import { openBlindAssignment } from './blind.queries.ts';
import type { ReviewQueueFilters } from './review.input.ts';
import { spanContext, type ReviewItemView, type ReviewQueuePage } from './review.presenter.ts';

/** Past this many matching proposals the queue says "10,000+" rather than counting them all. */
export const REVIEW_COUNT_CAP = 10_000;

interface QueueRow {
  id: string;
  observation_id: string;
  title: string;
  message_id: string | null;
  part_index: number | null;
  char_start: number | null;
  char_end: number | null;
  quote: string | null;
  modifiers: Record<string, unknown> | string;
  method: ReviewItemView['method'];
  confidence: number | null;
  rationale: string;
  job_id: string | null;
  provenance: Record<string, unknown> | string | null;
  created_at: string | Date;
  created_key: string;
  coder_id: string;
  coder_name: string;
  behaviour_id: string;
  code: string;
  name: string;
  category: string;
  colour: string;
  definition: string;
  inclusion: string[] | string;
  exclusion: string[] | string;
  version_id: string;
  version_number: number;
  slug: string;
  classifier_id: string | null;
  classifier_name: string | null;
  classifier_kind: ClassifierKind | null;
  message: (TranscriptMessage & { position: number }) | string | null;
}

/** The queue's conditions on `c` (codings), `b` (behaviours) and `o` (observations), cursor apart. */
function queueConditions(ctx: Ctx, f: ReviewQueueFilters): SQL[] {
  const where: SQL[] = [sql`c.status = 'proposed'`, sql`c.withdrawn_at IS NULL`, sql`o.deleted_at IS NULL`];
  if (f.behaviour) where.push(sql`c.behaviour_id IN (SELECT id FROM behaviours WHERE code = ${f.behaviour.toUpperCase()})`);
  if (f.classifierId) where.push(sql`c.classifier_id = ${f.classifierId}::uuid`);
  if (f.method) where.push(sql`c.method = ${f.method}::coding_method`);
  if (f.minConfidence !== undefined) where.push(sql`c.confidence >= ${f.minConfidence}`);
  if (f.maxConfidence !== undefined) where.push(sql`c.confidence <= ${f.maxConfidence}`);
  if (f.ethogramVersionId) where.push(sql`c.ethogram_version_id = ${f.ethogramVersionId}::uuid`);
  if (f.observationId) where.push(sql`c.observation_id = ${f.observationId}::uuid`);
  // A reviewer coding an observation blind does not see others' proposals of it until they submit.
  if (ctx.actor.kind === 'user') where.push(sql`(c.coder_id = ${ctx.actor.id}::uuid OR NOT ${openBlindAssignment(sql`c.observation_id`, ctx.actor.id)})`);
  return where;
}

/**
 * The review queue: proposed codings (not withdrawn, on observations not deleted) matching the filters, oldest
 * first (the codings_proposed_idx order), a page at a time by keyset (`after`, the cursor of the previous page's
 * last item), with the count of all matches (capped). Each item carries the quoted span's surrounding text.
 */
export async function listReviewQueue(ctx: Ctx, f: ReviewQueueFilters): Promise<ReviewQueuePage> {
  const where = queueConditions(ctx, f);
  const cursor = f.after ? decodeCursor(f.after) : null;
  const paged = cursor ? [...where, sql`(c.created_at, c.id) > (${cursor.at}::timestamptz, ${cursor.id}::uuid)`] : where;
  const [rows, counted] = await Promise.all([
    ctx.db.execute(sql`SELECT c.id, c.observation_id, o.title, c.message_id, c.part_index, c.char_start, c.char_end, c.quote, c.modifiers,
        c.method, c.confidence, c.rationale, c.job_id, c.provenance, c.created_at, c.created_at::text AS created_key,
        c.coder_id, cu.display_name AS coder_name,
        b.id AS behaviour_id, b.code, b.name, b.category, b.colour, b.definition, b.inclusion, b.exclusion,
        v.id AS version_id, v.number AS version_number, e.slug,
        cl.id AS classifier_id, cl.name AS classifier_name, cl.kind AS classifier_kind,
        CASE WHEN c.message_id IS NULL THEN NULL ELSE
          (SELECT m.value || jsonb_build_object('position', m.ordinality) FROM jsonb_array_elements(o.transcript->'messages') WITH ORDINALITY m
            WHERE m.value->>'id' = c.message_id LIMIT 1) END AS message
      FROM codings c
      JOIN observations o ON o.id = c.observation_id
      JOIN behaviours b ON b.id = c.behaviour_id
      JOIN ethogram_versions v ON v.id = c.ethogram_version_id
      JOIN ethograms e ON e.id = v.ethogram_id
      JOIN users cu ON cu.id = c.coder_id
      LEFT JOIN classifiers cl ON cl.id = c.classifier_id
      WHERE ${sql.join(paged, sql` AND `)}
      ORDER BY c.created_at, c.id
      LIMIT ${f.limit + 1}`),
    ctx.db.execute(sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM codings c JOIN observations o ON o.id = c.observation_id
      WHERE ${sql.join(where, sql` AND `)} LIMIT ${REVIEW_COUNT_CAP + 1}) s`),
  ]);
  const list = rowsOf<QueueRow>(rows);
  const more = list.length > f.limit;
  const page = more ? list.slice(0, f.limit) : list;
  const n = Number(rowsOf<{ n: number }>(counted)[0]?.n ?? 0);
  const last = page.at(-1);
  return {
    data: page.map(presentQueueRow),
    total: Math.min(n, REVIEW_COUNT_CAP),
    totalCapped: n > REVIEW_COUNT_CAP,
    nextCursor: more && last ? encodeCursor(last.created_key, last.id) : null,
  };
}

/** Ids of the proposals matching the filters, oldest first, at most `limit` (bulk decisions on a filtered selection). */
export async function reviewQueueIds(ctx: Ctx, f: ReviewQueueFilters, limit: number): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await ctx.db.execute(sql`SELECT c.id FROM codings c JOIN observations o ON o.id = c.observation_id
      WHERE ${sql.join(queueConditions(ctx, f), sql` AND `)} ORDER BY c.created_at, c.id LIMIT ${limit}`),
  );
  return rows.map((r) => r.id);
}

function encodeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string' && /^\d{4}-\d\d-\d\d[ T][\d:.]+(Z|[+-]\d\d(:?\d\d)?)?$/.test(at) && /^[0-9a-f-]{36}$/i.test(id)) return { at, id };
  } catch {
    // Fall through: a cursor that does not decode is a bad request, answered below.
  }
  throw invalid('That page cursor is not valid: start from the first page of the queue.', { after: 'Not a cursor this queue gave out.' });
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

function presentQueueRow(r: QueueRow): ReviewItemView {
  const hasSpan = r.message_id !== null && r.part_index !== null && r.char_start !== null && r.char_end !== null;
  const message = r.message === null ? null : json(r.message);
  let context: ReviewItemView['context'] = null;
  if (hasSpan && message) {
    const part = message.parts?.[r.part_index!];
    const text = part ? partText(part) : null;
    if (text !== null) {
      context = {
        messageId: r.message_id!,
        messageNumber: typeof message.position === 'number' ? message.position : Number(message.position) || null,
        role: message.role,
        partIndex: r.part_index!,
        ...spanContext(text, r.char_start!, r.char_end!),
      };
    }
  }
  return {
    id: r.id,
    observation: { id: r.observation_id, title: r.title },
    behaviour: {
      id: r.behaviour_id,
      code: r.code,
      name: r.name,
      category: r.category,
      colour: r.colour,
      definition: r.definition,
      inclusion: json(r.inclusion),
      exclusion: json(r.exclusion),
    },
    ethogramVersion: { id: r.version_id, slug: r.slug, number: r.version_number },
    classifier: r.classifier_id ? { id: r.classifier_id, name: r.classifier_name ?? '', kind: r.classifier_kind! } : null,
    method: r.method,
    confidence: r.confidence === null ? null : Number(r.confidence),
    rationale: r.rationale,
    span: hasSpan ? { messageId: r.message_id!, partIndex: r.part_index!, start: r.char_start!, end: r.char_end!, quote: r.quote ?? '' } : null,
    context,
    modifiers: json(r.modifiers) ?? {},
    proposedBy: { id: r.coder_id, displayName: r.coder_name },
    jobId: r.job_id,
    provenance: r.provenance === null ? null : json(r.provenance),
    createdAt: (r.created_at instanceof Date ? r.created_at : new Date(r.created_at)).toISOString(),
  };
}
