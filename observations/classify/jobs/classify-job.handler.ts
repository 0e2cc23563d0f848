import { AppError } from '../../../core/errors.ts';
import type { JobHandler, JobOutcome, JobRunContext } from '../../../core/jobs/job-handler.ts';
import type { JobError } from '../../../core/jobs/job.schema.ts';
import { JudgeError, type JudgeErrorId } from '../judge/index.ts';
import { itemFailures, itemObservations, itemTotals, pendingItemIds, proposalsByBehaviour, type ItemObservation, type ItemTotals } from './classification-items.queries.ts';
import { classifyJobPayloadSchema, type ClassifyJobPayload } from './classify-job.payload.ts';
import { createRunner, loadClassifier, type ClassifierRunner } from './classifier-runner.ts';
import { recordItemDone, recordItemFailed, type RecordContext } from './record-item.ts';

/** Judge failures that no other observation would get past: the whole job fails with the judge's message. */
const JOB_LEVEL: ReadonlySet<JudgeErrorId> = new Set(['judge_missing_key', 'judge_auth_failed', 'judge_key_origin_not_allowed']);

/** A paused job resumes after this (doubling with each claim, at most PAUSE_MAX_MS), or after the provider's Retry-After. */
export const PAUSE_BASE_MS = 15_000;
export const PAUSE_MAX_MS = 10 * 60_000;

/** Observations whose transcripts are loaded at once. */
const BATCH = 50;

type Stop = { kind: 'job'; error: JobError } | { kind: 'pause'; error: JobError; retryAfterMs?: number | undefined } | null;

/**
 * The `classify` job: runs one classifier (LLM judge, offline classifier or rule detectors) over the job's
 * observations (`classification_items`), writing each observation's proposed codings and marking its item done in
 * one transaction. Resumable at any point: it only ever works on pending items. Per-observation failures (a
 * refusal, an input too large, output still invalid after retries, an observation deleted since) fail that item
 * and the job goes on; failures every observation would hit (missing key, key refused, key origin not allowed)
 * fail the job; outages (rate limits, 5xx, unreachable) pause it until a backoff time, then it resumes by itself.
 */
export const classifyJobHandler: JobHandler<ClassifyJobPayload> = {
  kind: 'classify',
  payloadSchema: classifyJobPayloadSchema,
  describe(payload) {
    const n = payload.scope.count;
    const what = `${n} observation${n === 1 ? '' : 's'}`;
    return `Classify ${what}${payload.classifierName ? ` with ${payload.classifierName}` : ''}`;
  },
  run: runClassifyJob,
  async inspect(db, job) {
    const [totals, failures, byBehaviour] = await Promise.all([itemTotals(db, job.id), itemFailures(db, job.id, 100), proposalsByBehaviour(db, job.id)]);
    return { totals, failures, proposalsByBehaviour: byBehaviour };
  },
};

async function runClassifyJob(context: JobRunContext<ClassifyJobPayload>): Promise<JobOutcome> {
  const { db, job, signal } = context;
  const payload = job.payload;
  let runner: ClassifierRunner;
  try {
    const classifier = await loadClassifier(db, payload.classifierId);
    runner = await createRunner(db, classifier, context.env);
  } catch (error) {
    if (error instanceof JudgeError) return { status: 'failed', error: jobErrorOf(error) };
    if (error instanceof AppError) return { status: 'failed', error: { id: error.id, message: error.message } };
    throw error;
  }

  const record: RecordContext = {
    db,
    now: context.now(),
    jobId: job.id,
    classifierId: payload.classifierId,
    ethogramVersionId: runner.ethogramVersionId,
    method: runner.method,
    behaviourIds: runner.behaviourIds,
    creatorId: job.createdBy,
    autoAccept: payload.autoAccept,
  };
  const totals = await itemTotals(db, job.id);
  const counts = { done: totals.done, failed: totals.failed, proposed: totals.proposed, accepted: totals.accepted, droppedQuotes: totals.droppedQuotes, rejectedFindings: totals.rejectedFindings };
  const report = (message?: string) =>
    context.progress({
      done: counts.done + counts.failed,
      total: totals.total,
      counts: { proposed: counts.proposed, accepted: counts.accepted, failed: counts.failed, droppedQuotes: counts.droppedQuotes, rejectedFindings: counts.rejectedFindings },
      ...(message ? { message } : {}),
    });
  report();

  const pending = await pendingItemIds(db, job.id);
  let next = 0;
  let stop: Stop = null;
  let batch = new Map<string, ItemObservation>();
  let batchLoad: Promise<void> | null = null;
  let batchEnd = 0;

  /** The next pending observation, loading transcripts a batch at a time (one load at once). */
  async function take(): Promise<string | null> {
    for (;;) {
      if (stop || signal.aborted || next >= pending.length) return null;
      if (next < batchEnd) return pending[next++]!;
      if (!batchLoad) {
        const ids = pending.slice(batchEnd, batchEnd + BATCH);
        batchLoad = itemObservations(db, ids).then((loaded) => {
          batch = loaded;
          batchEnd += ids.length;
          batchLoad = null;
        });
      }
      await batchLoad;
    }
  }

  async function lane(): Promise<void> {
    for (let id = await take(); id; id = await take()) {
      const observation = batch.get(id);
      record.now = context.now();
      if (!observation || observation.deleted) {
        if (await recordItemFailed(record, id, { id: 'not_found', message: 'The observation was deleted after the job was created.' })) counts.failed++;
        report();
        continue;
      }
      try {
        const result = await runner.classify({ observationId: id, transcript: observation.transcript, stopReason: observation.stopReason }, signal);
        record.now = context.now();
        const written = await recordItemDone(record, id, result);
        if (written) {
          counts.done++;
          counts.proposed += written.proposed;
          counts.accepted += written.accepted;
          counts.droppedQuotes += result.outcome.droppedQuotes;
          counts.rejectedFindings += result.outcome.rejectedFindings;
        }
      } catch (error) {
        if (!(error instanceof JudgeError)) throw error;
        if (error.id === 'judge_cancelled' || signal.aborted) return;
        if (JOB_LEVEL.has(error.id)) {
          stop ??= { kind: 'job', error: jobErrorOf(error) };
          return;
        }
        if (error.retryable) {
          stop ??= { kind: 'pause', error: jobErrorOf(error), retryAfterMs: error.details.retryAfterMs };
          return;
        }
        const usage = error.details.usage;
        const outcome = { attempts: error.details.attempts, inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0 };
        if (await recordItemFailed(record, id, { id: error.id, message: error.message }, outcome)) counts.failed++;
      }
      report();
    }
  }

  // A lane that fails unexpectedly (the database went away) stops the others between items; the job fails.
  const guarded = () =>
    lane().catch((error: unknown) => {
      context.logger.error('classification job: unexpected error', { jobId: job.id, error: String((error as Error)?.stack ?? error) });
      stop ??= { kind: 'job', error: { id: 'internal', message: 'The job stopped on an unexpected error on our side; what it finished is kept. Resume it by starting a new job, or tell an admin if it happens again.' } };
    });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(runner.concurrency, pending.length)) }, guarded));

  // Assigned inside the lanes: TypeScript cannot see that, so read it through its declared type.
  const stopped = stop as Stop;
  const final = await itemTotals(db, job.id);
  const summary = await summaryOf(context, final);
  report();
  if (stopped?.kind === 'job') return { status: 'failed', error: stopped.error, summary };
  if (stopped?.kind === 'pause') {
    const backoff = Math.min(PAUSE_MAX_MS, PAUSE_BASE_MS * 2 ** Math.min(8, Math.max(0, job.attempts - 1)));
    const wait = Math.max(backoff, stopped.retryAfterMs ?? 0);
    const resumeAt = new Date(context.now().getTime() + wait);
    return {
      status: 'paused',
      resumeAt,
      error: { ...stopped.error, message: `${stopped.error.message} The job is paused and resumes by itself at ${resumeAt.toISOString()} (or resume it now).` },
    };
  }
  if (signal.aborted || final.pending > 0) return { status: 'interrupted', summary };
  return { status: 'completed', summary };
}

async function summaryOf(context: JobRunContext<ClassifyJobPayload>, totals: ItemTotals): Promise<Record<string, unknown>> {
  return {
    observations: totals.total,
    done: totals.done,
    failed: totals.failed,
    pending: totals.pending,
    proposals: totals.proposed,
    autoAccepted: totals.accepted,
    proposalsByBehaviour: await proposalsByBehaviour(context.db, context.job.id),
    droppedQuotes: totals.droppedQuotes,
    rejectedFindings: totals.rejectedFindings,
    unclear: totals.unclear,
    unmapped: totals.unmapped,
    tokens: { input: totals.inputTokens, output: totals.outputTokens },
    costUsd: totals.costUsd,
    costUsdKnownPart: totals.costUsdKnownPart,
  };
}

function jobErrorOf(error: JudgeError): JobError {
  const { attempts, status, setting, retryAfterMs } = error.details;
  return {
    id: error.id,
    message: error.message,
    details: { attempts, retryable: error.retryable, ...(status !== undefined ? { status } : {}), ...(setting ? { setting } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
  };
}
