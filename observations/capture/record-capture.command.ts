import { sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction } from '../../core/db.ts';
import { recordEvent } from '../../core/history.ts';
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
  authorize(ctx.actor, 'capture.create');
  const actor = requireUser(ctx, 'record captures');
  const capture = parseOrThrow(captureInputSchema, input, 'capture');
  const rebuilt = rebuildExchange(capture);
  const ending = settleOutcome(capture, rebuilt);
  const searchText = (rebuilt.transcript ? transcriptSearchText(rebuilt.transcript) : capture.requestBody).slice(0, SEARCH_TEXT_CAP);
  return inTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .insert(captures)
      .values({
        ...capture,
        ...ending,
        requestHeaders: storableHeaders(capture.requestHeaders),
        responseHeaders: storableHeaders(capture.responseHeaders),
        model: rebuilt.model,
        rebuilt: rebuilt.rebuilt,
        transcript: rebuilt.transcript,
        usage: rebuilt.usage,
        capturedBy: actor.id,
        search: sql`to_tsvector('english', ${`${capture.flag ?? ''}\n${searchText}`})`,
        createdAt: ctx.now(),
      })
      .returning({ id: captures.id });
    const id = row!.id;
    await recordEvent(tx, {
      type: 'capture.recorded',
      entityType: 'capture',
      entityId: id,
      actorId: actor.id,
      payload: { source: capture.source, upstream: capture.upstream, outcome: ending.outcome, ...(capture.flag ? { flagged: true } : {}) },
    });
    return { id };
  });
}
