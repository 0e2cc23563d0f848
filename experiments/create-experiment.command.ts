import { randomInt } from 'node:crypto';
import { and, inArray, isNull } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { invalid } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import type { JobHandlerRegistry } from '../core/jobs/job-registry.ts';
import { authorize, can } from '../core/policy.ts';
import { parseOrThrow } from '../core/validation.ts';
import { observations } from '../observations/observation.schema.ts';
import { createExperimentSchema } from './experiment.input.ts';
import { experimentObservations, experiments } from './experiment.schema.ts';
import { findModel } from './models/model.queries.ts';
import { queueRun, requireReadyModel } from './run-experiment.command.ts';
import { checkIndices, checkParams, checkPromptLengths, requireTechnique } from './technique-params.ts';

/**
 * Creates an experiment (researchers): a hypothesis, a registered model that is ready, a technique with parameters
 * valid for it (prompts within the model's context), and the observations it follows up, which the creator must
 * be able to read. With `run` (the default) its first run is queued in the same transaction.
 */
export async function createExperiment(ctx: Ctx, input: unknown, handlers: JobHandlerRegistry): Promise<{ id: string; runId: string | null; jobId: string | null }> {
  authorize(ctx.actor, 'experiment.create');
  const actorId = (ctx.actor as { id: string }).id;
  const data = parseOrThrow(createExperimentSchema, input, 'The experiment');
  const model = await findModel(ctx.db, data.modelId);
  if (!model) throw invalid('There is no such model.', { modelId: 'there is no registered model with this id' });
  requireReadyModel(model);
  const technique = requireTechnique(data.technique);
  const params = checkParams(technique, data.params);
  checkIndices(model.shape, params);
  checkPromptLengths(model, params);
  const ids = [...new Set(data.observationIds)];
  if (ids.length) {
    const rows = await ctx.db
      .select({ id: observations.id, submittedBy: observations.submittedBy, visibility: observations.visibility, deletedAt: observations.deletedAt })
      .from(observations)
      .where(and(inArray(observations.id, ids), isNull(observations.deletedAt)));
    const readable = new Set(rows.filter((r) => can(ctx.actor, 'observation.read', r)).map((r) => r.id));
    const missing = ids.filter((id) => !readable.has(id));
    if (missing.length) throw invalid(`These observations were not found: ${missing.join(', ')}.`, { observationIds: `not found: ${missing.join(', ')}` });
  }
  const now = ctx.now();
  return inTransaction(ctx.db, async (tx) => {
    const [row] = await tx
      .insert(experiments)
      .values({ title: data.title, hypothesis: data.hypothesis, modelId: model.id, technique: technique.name, params, createdBy: actorId, createdAt: now, updatedAt: now })
      .returning({ id: experiments.id });
    const id = row!.id;
    if (ids.length) await tx.insert(experimentObservations).values(ids.map((observationId) => ({ experimentId: id, observationId, linkedBy: actorId, linkedAt: now })));
    await recordEvent(tx, { type: 'experiment.created', entityType: 'experiment', entityId: id, actorId, payload: { technique: technique.name, modelId: model.id, observationIds: ids } });
    if (!data.run) return { id, runId: null, jobId: null };
    const queued = await queueRun(tx, ctx, { id, title: data.title, technique: technique.name }, model, params, data.seed ?? randomInt(0, 2 ** 31 - 1), handlers);
    return { id, runId: queued.runId, jobId: queued.job.id };
  });
}
