import { randomInt } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { enqueueJob } from '../core/jobs/enqueue-job.command.ts';
import type { JobHandlerRegistry } from '../core/jobs/job-registry.ts';
import type { JobRow } from '../core/jobs/job.queries.ts';
import { authorize } from '../core/policy.ts';
import { parseOrThrow } from '../core/validation.ts';
import { EXPERIMENT_RUN_JOB } from './experiment-run.payload.ts';
import { requireExperiment, type ExperimentRow } from './experiment.queries.ts';
import { runExperimentSchema } from './experiment.input.ts';
import { experimentRuns } from './experiment.schema.ts';
import { requireModel, type ModelRow } from './models/model.queries.ts';
import { checkIndices, checkParams, checkPromptLengths, requireTechnique } from './technique-params.ts';

/** A model experiments may run on now, or a conflict saying why not (the registry's last check found it missing or changed). */
export function requireReadyModel(model: ModelRow): void {
  if (model.status !== 'ready') {
    throw new AppError('conflict', `${model.name} is ${model.status}: ${model.statusReason ?? 'an admin should check it again'} Its old results stay readable.`, { modelStatus: model.status });
  }
}

/**
 * Queues one run of an experiment: a job (kind `experiment.run`) and its run row, numbered next, in one
 * transaction (inside the caller's when there is one). The run keeps its own parameters, seed and the weights'
 * registered sha256, so its result can be compared with earlier runs and reproduced.
 */
export async function queueRun(
  tx: Db,
  ctx: Ctx,
  experiment: Pick<ExperimentRow, 'id' | 'title' | 'technique'>,
  model: ModelRow,
  params: Record<string, unknown>,
  seed: number,
  handlers: JobHandlerRegistry,
): Promise<{ runId: string; number: number; job: JobRow }> {
  const actorId = (ctx.actor as { id: string }).id;
  // The experiment's row is locked so two runs queued at once get different numbers.
  const number = rowsOf<{ next: number }>(
    await tx.execute(sql`SELECT coalesce((SELECT max(number) FROM experiment_runs WHERE experiment_id = ${experiment.id}::uuid), 0) + 1 AS next
      FROM experiments WHERE id = ${experiment.id}::uuid FOR UPDATE`),
  )[0]!.next;
  let runId = '';
  const job = await enqueueJob(
    { ...ctx, db: tx },
    { kind: EXPERIMENT_RUN_JOB, payload: { experimentId: experiment.id, number, title: experiment.title, technique: experiment.technique, modelName: model.name } },
    {
      handlers,
      withJob: async (t, job) => {
        const [row] = await t
          .insert(experimentRuns)
          .values({ experimentId: experiment.id, number, jobId: job.id, params, seed, expectedSha256: model.weightsSha256, modelPath: model.path, createdBy: actorId, createdAt: ctx.now() })
          .returning({ id: experimentRuns.id });
        runId = row!.id;
      },
    },
  );
  return { runId, number, job };
}

/** Runs an experiment again (researchers), with its parameters or changed ones; the earlier results stay as they were. */
export async function runExperiment(ctx: Ctx, experimentId: string, input: unknown, handlers: JobHandlerRegistry): Promise<{ runId: string; number: number; job: JobRow }> {
  const experiment = await requireExperiment(ctx.db, experimentId);
  authorize(ctx.actor, 'experiment.run', experiment);
  const data = parseOrThrow(runExperimentSchema, input ?? {}, 'The run');
  const model = await requireModel(ctx.db, experiment.modelId);
  requireReadyModel(model);
  const params = data.params ? checkParams(requireTechnique(experiment.technique), data.params) : experiment.params;
  checkIndices(model.shape, params);
  checkPromptLengths(model, params);
  return inTransaction(ctx.db, (tx) => queueRun(tx, ctx, experiment, model, params, data.seed ?? randomInt(0, 2 ** 31 - 1), handlers));
}
