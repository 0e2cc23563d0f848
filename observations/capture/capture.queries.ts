import { and, asc, desc, eq, gte, isNotNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { users } from '../../accounts/account.schema.ts';
import type { Ctx } from '../../core/context.ts';
import type { Db } from '../../core/db.ts';
import { invalid } from '../../core/errors.ts';
import { authorize, can, type CaptureRef } from '../../core/policy.ts';
import type { CaptureListFilters } from './capture-list.input.ts';
import {
  presentCapture,
  presentCaptureListItem,
  type CaptureListPage,
  type CaptureRecord,
  type CaptureSummaryRecord,
  type CaptureView,
} from './capture.presenter.ts';
import { captures } from './capture.schema.ts';

/** The columns a list row needs (never the bodies), with the capturer's display name. */
const summaryColumns = {
  id: captures.id,
  source: captures.source,
  upstream: captures.upstream,
  api: captures.api,
  method: captures.method,
  path: captures.path,
  model: captures.model,
  streamed: captures.streamed,
  outcome: captures.outcome,
  endReason: captures.endReason,
  httpStatus: captures.httpStatus,
  error: captures.error,
  startedAt: captures.startedAt,
  firstByteMs: captures.firstByteMs,
  firstTokenMs: captures.firstTokenMs,
  durationMs: captures.durationMs,
  usage: captures.usage,
  flag: captures.flag,
  observationId: captures.observationId,
  hasTranscript: sql<boolean>`(${captures.transcript} IS NOT NULL)`,
  capturedById: users.id,
  capturedByName: users.displayName,
  /** The start time to the microsecond, in UTC: the keyset cursor must compare exactly what is stored. */
  cursorTs: sql<string>`to_char(${captures.startedAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
};

type SummaryRow = { [K in keyof typeof summaryColumns]: unknown } & Record<string, unknown>;

function summaryOf(row: SummaryRow): CaptureSummaryRecord {
  const { capturedById, capturedByName, cursorTs: _cursor, ...rest } = row;
  return { ...(rest as unknown as Omit<CaptureSummaryRecord, 'capturedBy'>), hasTranscript: !!row.hasTranscript, capturedBy: { id: String(capturedById), displayName: String(capturedByName) } };
}

/**
 * The field log the actor may see, newest first (the captures_started_idx order: started_at DESC, id), filtered
 * and searched, one page at a time by keyset: `nextCursor` names the last row shown, and the next page starts
 * strictly after it, so captures arriving meanwhile never shift or repeat rows. Contributors see their own
 * captures; researchers and admins see everyone's (policy: capture.list, capture.listAll).
 */
export async function listCaptures(ctx: Ctx, filters: CaptureListFilters): Promise<CaptureListPage> {
  authorize(ctx.actor, 'capture.list');
  const conditions: SQL[] = [];
  if (!can(ctx.actor, 'capture.listAll') && ctx.actor.kind === 'user') conditions.push(eq(captures.capturedBy, ctx.actor.id));
  if (filters.model) conditions.push(eq(captures.model, filters.model));
  if (filters.upstream) conditions.push(eq(captures.upstream, filters.upstream));
  if (filters.source) conditions.push(eq(captures.source, filters.source));
  if (filters.outcome) conditions.push(eq(captures.outcome, filters.outcome));
  if (filters.flagged) conditions.push(isNotNull(captures.flag));
  if (filters.from) conditions.push(gte(captures.startedAt, filters.from));
  if (filters.to) conditions.push(lt(captures.startedAt, filters.to));
  if (filters.q) conditions.push(sql`${captures.search} @@ websearch_to_tsquery('english', ${filters.q})`);
  if (filters.cursor) {
    const after = decodeCursor(filters.cursor);
    const at = sql`${after.startedAt}::timestamptz`;
    conditions.push(sql`${captures.startedAt} <= ${at}`, or(sql`${captures.startedAt} < ${at}`, sql`${captures.id} > ${after.id}::uuid`)!);
  }
  const rows = await ctx.db
    .select(summaryColumns)
    .from(captures)
    .innerJoin(users, eq(users.id, captures.capturedBy))
    .where(and(...conditions))
    .orderBy(desc(captures.startedAt), asc(captures.id))
    .limit(filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  const last = page[page.length - 1];
  return {
    data: page.map((r) => presentCaptureListItem(summaryOf(r))),
    nextCursor: rows.length > filters.limit && last ? encodeCursor(String(last.cursorTs), last.id) : null,
  };
}

/** The authorization facts of a capture, or null when there is none with that id. */
export async function loadCaptureRef(db: Db, id: string): Promise<(CaptureRef & { observationId: string | null }) | null> {
  const [row] = await db.select({ capturedBy: captures.capturedBy, observationId: captures.observationId }).from(captures).where(eq(captures.id, id));
  return row ?? null;
}

/** A whole capture (routes authorize with `loadCaptureRef` first). */
export async function getCapture(db: Db, id: string): Promise<CaptureView | null> {
  const [row] = await db
    .select({
      ...summaryColumns,
      requestHeaders: captures.requestHeaders,
      requestBody: captures.requestBody,
      responseHeaders: captures.responseHeaders,
      responseBody: captures.responseBody,
      rebuilt: captures.rebuilt,
      transcript: captures.transcript,
      keyHash: captures.keyHash,
      createdAt: captures.createdAt,
    })
    .from(captures)
    .innerJoin(users, eq(users.id, captures.capturedBy))
    .where(eq(captures.id, id));
  if (!row) return null;
  const record: CaptureRecord = {
    ...summaryOf(row),
    requestHeaders: row.requestHeaders,
    requestBody: row.requestBody,
    responseHeaders: row.responseHeaders,
    responseBody: row.responseBody,
    rebuilt: row.rebuilt,
    transcript: row.transcript,
    keyHash: row.keyHash,
    createdAt: row.createdAt,
  };
  return presentCapture(record);
}

/** The models and upstreams in the part of the field log the actor may see, for the filter pickers. */
export async function captureFilterOptions(ctx: Ctx): Promise<{ models: string[]; upstreams: string[] }> {
  authorize(ctx.actor, 'capture.list');
  const own = !can(ctx.actor, 'capture.listAll') && ctx.actor.kind === 'user' ? eq(captures.capturedBy, ctx.actor.id) : undefined;
  const [models, upstreams] = await Promise.all([
    ctx.db.selectDistinct({ v: captures.model }).from(captures).where(and(own, isNotNull(captures.model))).orderBy(captures.model).limit(500),
    ctx.db.selectDistinct({ v: captures.upstream }).from(captures).where(own).orderBy(captures.upstream).limit(500),
  ]);
  return { models: models.map((r) => r.v!).filter(Boolean), upstreams: upstreams.map((r) => r.v) };
}

function encodeCursor(startedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([startedAt, id]), 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function decodeCursor(cursor: string): { startedAt: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && CURSOR_TS.test(value[0]) && typeof value[1] === 'string' && UUID.test(value[1])) {
      return { startedAt: value[0], id: value[1] };
    }
  } catch {
    // Falls through to the message below.
  }
  throw invalid('The cursor is not one this field log handed out: pass back the nextCursor of the previous page, or leave it out to start from the newest.', {
    cursor: 'Not a cursor from a previous page.',
  });
}
