import { sql } from 'drizzle-orm';
import { rowsOf } from '../core/db.ts';
import type { JobHandler, JobOutcome } from '../core/jobs/job-handler.ts';
import { EngineError, ENGINE_VERSION } from './index.ts';
import { withLoadedModel } from './loaded-models.ts';
import { checkOfError, recordModelCheck } from './models/check-model.command.ts';
import { findModel } from './models/model.queries.ts';
import { runOfJob } from './experiment.queries.ts';
import { EXPERIMENT_RUN_JOB, experimentRunPayloadSchema, type ExperimentRunPayload } from './experiment-run.payload.ts';
import { runTechnique } from './techniques/run-technique.ts';

/** Engine errors that mean the model folder, not the request, is the problem: the registry is told. */
const FOLDER_ERRORS = new Set(['model_not_found', 'model_incomplete', 'corrupt_weights', 'tokenizer_mismatch']);

/**
 * Runs one experiment run (experiment_runs row of this job): loads the registered model folder (reusing a loaded
 * one), refuses it when its weights no longer hash to the registered sha256 (the registry then marks the model
 * changed; old results stay), runs the technique with live progress and cancellation, and stores the result
 * document once. A run whose result is already stored (its worker died after writing it) completes without
 * running again.
 */
export const experimentRunJob: JobHandler<ExperimentRunPayload> = {
  kind: EXPERIMENT_RUN_JOB,
  payloadSchema: experimentRunPayloadSchema,
  describe: (p) => `Run ${p.number} of “${p.title}” (${p.technique} on ${p.modelName})`,
  async run(context): Promise<JobOutcome> {
    const run = await runOfJob(context.db, context.job.id);
    if (!run) return { status: 'failed', error: { id: 'not_found', message: 'The run this job was for no longer exists.' } };
    if (run.hasResult) return { status: 'completed', summary: { runId: run.id, note: 'the result was already stored' } };
    context.progress({ done: 0, total: 1, message: 'loading the model' });
    // The registry learns what the run found (no second read of the folder: hashing large weights again is slow).
    const failFolder = async (error: EngineError | { status: 'changed'; message: string }): Promise<JobOutcome> => {
      const model = await findModel(context.db, run.modelId);
      if (model) {
        const check = error instanceof EngineError ? checkOfError(error) : { status: 'changed' as const, reason: error.message };
        if (check.status !== model.status || check.reason !== model.statusReason) await recordModelCheck(context.db, model, check, context.now(), null);
      }
      const id = error instanceof EngineError ? (error.id === 'model_not_found' ? 'model_missing' : error.id) : 'model_changed';
      return { status: 'failed', error: { id, message: error.message } };
    };
    try {
      const document = await withLoadedModel(run.modelPath, async (model) => {
        // Cancelled (or the worker stopping) while waiting for the model: do not start. The cancel is read from the
        // job row too: the worker aborts the signal only once it has heard of it, which may be after this turn began.
        context.signal.throwIfAborted();
        const asked = rowsOf<{ cancel: boolean }>(await context.db.execute(sql`SELECT cancel_requested IS NOT NULL AS cancel FROM jobs WHERE id = ${context.job.id}::uuid`));
        if (asked[0]?.cancel) return { cancelled: true as const };
        if (model.weightsSha256 !== run.expectedSha256) return { changed: model.weightsSha256 };
        return runTechnique(run.technique, run.params, {
          model,
          modelDir: run.modelPath,
          seed: run.seed,
          signal: context.signal,
          progress: (done, total, label) => context.progress({ done, total, ...(label ? { message: label } : {}) }),
        });
      });
      if ('cancelled' in document) return { status: 'interrupted' };
      if ('changed' in document) {
        return failFolder({
          status: 'changed',
          message: `The weights in ${run.modelPath} changed since the model was registered (sha256 ${document.changed.slice(0, 12)}…, registered ${run.expectedSha256.slice(0, 12)}…): the run was refused. Register the new weights as another model; earlier results stay.`,
        });
      }
      const stored = rowsOf<{ id: string }>(
        await context.db.execute(sql`UPDATE experiment_runs SET result = ${JSON.stringify(document)}::jsonb, engine_version = ${document.engineVersion},
          schema_version = ${document.schemaVersion}, weights_sha256 = ${document.model.weightsSha256}, finished_at = ${context.now().toISOString()}::timestamptz
          WHERE id = ${run.id}::uuid AND result IS NULL RETURNING id`),
      );
      return { status: 'completed', summary: { runId: run.id, stored: stored.length === 1, durationMs: document.durationMs, engineVersion: ENGINE_VERSION } };
    } catch (error) {
      if (context.signal.aborted || (error instanceof Error && error.name === 'AbortError')) return { status: 'interrupted' };
      if (error instanceof EngineError) {
        if (FOLDER_ERRORS.has(error.id)) return failFolder(error);
        return { status: 'failed', error: { id: error.id, message: error.message } };
      }
      throw error;
    }
  },
};
