import { eq } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction } from '../../core/db.ts';
import { AppError, conflict, notFound } from '../../core/errors.ts';
import { recordEvent } from '../../core/history.ts';
import { authorize } from '../../core/policy.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { requireUser } from '../observation-edit.ts';
import { observationInputSchema } from '../observation.input.ts';
import type { ObservationView } from '../observation.presenter.ts';
import { observationsChanged } from '../observation.queries.ts';
import { recordObservation } from '../record-observation.command.ts';
import { promoteCaptureSchema } from './capture-list.input.ts';
import { captures } from './capture.schema.ts';
import { promotionDefaults, providerOf, samplingOf, toolNamesOf } from './promotion-defaults.ts';
import { rebuildExchange } from './rebuild-exchange.ts';

/**
 * Turns a capture into an observation with everything pre-filled: its transcript, provider, model, observed-at
 * (when the call started), provenance (`capture: 'proxy' | 'sdk'`, the endpoint, upstream, capture id, sampling
 * parameters and tools from the request) and the raw exchange as the raw payload; title and surprise from the
 * overrides, else the flag (else the first user message for the title). It goes through the one observation
 * write path (recordObservation), and in ONE transaction with it the capture is locked, linked to the new
 * observation and its `capture.promoted` event written, so a capture is promoted at most once: a second
 * promotion is a conflict naming the observation. A capture without a transcript cannot be promoted (422, why).
 * `overrides` is parsed here (promoteCaptureSchema), so pages may pass form fields as typed.
 */
export async function promoteCapture(ctx: Ctx, captureId: string, overrides: unknown = {}): Promise<ObservationView> {
  const actor = requireUser(ctx, 'promote captures');
  const wanted = parseOrThrow(promoteCaptureSchema, overrides, 'The promotion');
  const view = await inTransaction(ctx.db, async (tx) => {
    const [capture] = await tx.select().from(captures).where(eq(captures.id, captureId)).for('update');
    if (!capture) throw notFound('That capture');
    authorize(ctx.actor, 'capture.promote', { capturedBy: capture.capturedBy });
    if (capture.observationId) {
      throw conflict(`This capture was already promoted, to observation ${capture.observationId} (/observations/${capture.observationId}).`, {
        observationId: capture.observationId,
      });
    }
    if (!capture.transcript) {
      const reason = rebuildExchange(capture).problem ?? 'the exchange could not be read as messages';
      throw new AppError('validation_failed', `This capture cannot become an observation: it has no transcript (${withoutFinalStop(reason)}). Only calls whose request and response read as messages can be promoted.`, {
        fields: { transcript: reason },
      });
    }
    const defaults = promotionDefaults(capture);
    const surprise = wanted.surprise ?? defaults.surprise;
    if (!surprise) {
      const message = 'Say what was surprising: this capture has no flag to start from.';
      throw new AppError('validation_failed', message, { fields: { surprise: message } });
    }
    const sampling = samplingOf(capture.requestBody);
    const input = parseOrThrow(
      observationInputSchema,
      {
        title: wanted.title ?? defaults.title,
        surprise,
        provider: providerOf(capture),
        model: (capture.model ?? 'unknown').slice(0, 200),
        interface: 'api',
        endpoint: capture.path.slice(0, 500),
        ...(Object.keys(sampling).length > 0 ? { sampling } : {}),
        transcript: capture.transcript,
        transcriptFormat: 'menagerie',
        observedAt: capture.startedAt,
        visibility: wanted.visibility ?? 'members',
      },
      'The observation',
    );
    const tools = toolNamesOf(capture.requestBody);
    const observation = await recordObservation({ ...ctx, db: tx }, input, {
      method: capture.source,
      raw: rawExchange(capture),
      provenance: {
        upstream: capture.upstream,
        captureId: capture.id,
        api: capture.api,
        streamed: capture.streamed,
        outcome: capture.outcome,
        ...(capture.httpStatus !== null ? { httpStatus: capture.httpStatus } : {}),
        ...(tools.length > 0 ? { tools } : {}),
      },
    });
    await tx.update(captures).set({ observationId: observation.id }).where(eq(captures.id, capture.id));
    await recordEvent(tx, { type: 'capture.promoted', entityType: 'capture', entityId: capture.id, actorId: actor.id, payload: { observationId: observation.id } });
    return observation;
  });
  // recordObservation already signalled the write, but inside the transaction: signal again now it is visible.
  observationsChanged();
  return view;
}

/** The raw exchange as the observation's raw payload: both bodies exactly as they crossed, with their framing. */
function rawExchange(capture: typeof captures.$inferSelect): string {
  return JSON.stringify({
    capture: capture.id,
    source: capture.source,
    upstream: capture.upstream,
    api: capture.api,
    streamed: capture.streamed,
    request: { method: capture.method, path: capture.path, headers: capture.requestHeaders, body: capture.requestBody },
    response: { status: capture.httpStatus, headers: capture.responseHeaders, body: capture.responseBody },
  });
}

function withoutFinalStop(text: string): string {
  return text.replace(/\.\s*$/, '');
}
