import { and, eq, isNull } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { notFound } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { authorize, can } from '../core/policy.ts';
import { parseOrThrow } from '../core/validation.ts';
import { observations } from '../observations/observation.schema.ts';
import { linkObservationSchema } from './experiment.input.ts';
import { requireExperiment } from './experiment.queries.ts';
import { experimentObservations } from './experiment.schema.ts';

/** Links an observation the researcher can read to an experiment (linking twice is a no-op). */
export async function linkObservation(ctx: Ctx, experimentId: string, input: unknown): Promise<void> {
  const experiment = await requireExperiment(ctx.db, experimentId);
  authorize(ctx.actor, 'experiment.link', experiment);
  const { observationId } = parseOrThrow(linkObservationSchema, input, 'The link');
  const [o] = await ctx.db
    .select({ submittedBy: observations.submittedBy, visibility: observations.visibility, deletedAt: observations.deletedAt })
    .from(observations)
    .where(and(eq(observations.id, observationId), isNull(observations.deletedAt)));
  if (!o || !can(ctx.actor, 'observation.read', o)) throw notFound('That observation');
  const actorId = (ctx.actor as { id: string }).id;
  await inTransaction(ctx.db, async (tx) => {
    const linked = await tx.insert(experimentObservations).values({ experimentId, observationId, linkedBy: actorId, linkedAt: ctx.now() }).onConflictDoNothing().returning();
    if (linked.length) await recordEvent(tx, { type: 'experiment.linked', entityType: 'experiment', entityId: experimentId, actorId, payload: { observationId } });
  });
}

/** Removes a link (the observation and the experiment stay). */
export async function unlinkObservation(ctx: Ctx, experimentId: string, observationId: string): Promise<void> {
  const experiment = await requireExperiment(ctx.db, experimentId);
  authorize(ctx.actor, 'experiment.link', experiment);
  const actorId = (ctx.actor as { id: string }).id;
  await inTransaction(ctx.db, async (tx) => {
    const removed = await tx
      .delete(experimentObservations)
      .where(and(eq(experimentObservations.experimentId, experimentId), eq(experimentObservations.observationId, observationId)))
      .returning();
    if (!removed.length) throw notFound('That link');
    await recordEvent(tx, { type: 'experiment.unlinked', entityType: 'experiment', entityId: experimentId, actorId, payload: { observationId } });
  });
}
