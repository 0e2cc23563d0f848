import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction } from '../../core/db.ts';
import { recordEvent, type EventInput } from '../../core/history.ts';
import { authorize } from '../../core/policy.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { requireUser } from '../observation-edit.ts';
import { SEARCH_TEXT_CAP, transcriptSearchText } from '../observation-text.ts';
import { captureInputSchema, storableHeaders, type CaptureInput } from './capture.input.ts';
import { captures } from './capture.schema.ts';
import { rebuildExchange, settleOutcome } from './rebuild-exchange.ts';

/**
 * Files one model call in the field log as a capture by the actor, with its `capture.recorded` event, in one
 * transaction. The message, transcript, model and usage are rebuilt from the raw text here, so the proxy and the
 * SDK helper only have to pass along what crossed. Credential headers are removed again whatever the caller sent.
 */
export async function recordCapture(ctx: Ctx, input: CaptureInput): Promise<{ id: string }> {
  const { row, searchText, event } = captureRecord(ctx, input);
  return inTransaction(ctx.db, async (tx) => {
    await tx.insert(captures).values({ ...row, search: sql`to_tsvector('english', ${searchText})` });
    await recordEvent(tx, event);
    return { id: row.id };
  });
}

/** One capture ready to insert: its row (all but the search vector), the text the vector is made from, and its event. */
export interface CaptureRecord {
  row: Omit<typeof captures.$inferInsert, 'search'> & { id: string };
  searchText: string;
  event: EventInput;
}

/**
 * The row and `capture.recorded` event for one capture, checked (actor allowed, input valid: else an AppError)
 * and rebuilt, without touching the database: `recordCapture` writes one, `insertCaptureRecords` many at once.
 */
export function captureRecord(ctx: Ctx, input: CaptureInput): CaptureRecord {
  authorize(ctx.actor, 'capture.create');
  const actor = requireUser(ctx, 'record captures');
  const capture = parseOrThrow(captureInputSchema, input, 'capture');
  const rebuilt = rebuildExchange(capture);
  const ending = settleOutcome(capture, rebuilt);
  const searchText = (rebuilt.transcript ? transcriptSearchText(rebuilt.transcript) : capture.requestBody).slice(0, SEARCH_TEXT_CAP);
  const id = randomUUID();
  return {
    row: {
      ...capture,
      ...ending,
      id,
      requestHeaders: storableHeaders(capture.requestHeaders),
      responseHeaders: storableHeaders(capture.responseHeaders),
      model: rebuilt.model,
      rebuilt: rebuilt.rebuilt,
      transcript: rebuilt.transcript,
      usage: rebuilt.usage,
      capturedBy: actor.id,
      createdAt: ctx.now(),
    },
    searchText: `${capture.flag ?? ''}\n${searchText}`,
    event: {
      type: 'capture.recorded',
      entityType: 'capture',
      entityId: id,
      actorId: actor.id,
      payload: { source: capture.source, upstream: capture.upstream, outcome: ending.outcome, ...(capture.flag ? { flagged: true } : {}) },
    },
  };
}
