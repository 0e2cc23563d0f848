import { EventEmitter } from 'node:events';
import { JobWorker } from '../../core/jobs/job-worker.ts';
import type { JobHandlerRegistry } from '../../core/jobs/job-registry.ts';
import type { AppDeps } from '../app-deps.ts';
import { jobHandlers } from './job-handlers.ts';
import { jobWakeups } from './job-wakeups.ts';

export interface JobRuntimeEvents {
  /** A job's row changed and was committed (by this process's worker, or a person acting through this server). */
  changed: [jobId: string];
}

/**
 * The background-job side of one app: its handler registry, its in-process worker (unless
 * MENAGERIE_INPROCESS_WORKER=false leaves jobs to `menagerie worker` processes), and the change events the
 * realtime layer broadcasts. Routes call `changed(jobId)` after committing a job they created or controlled.
 */
export interface JobRuntime {
  handlers: JobHandlerRegistry;
  worker: JobWorker | null;
  events: EventEmitter<JobRuntimeEvents>;
  /** After commit: broadcast the job's state, wake the worker (a new or resumed job), nudge it (a cancel or pause). */
  changed(jobId: string): void;
  stop(): Promise<void>;
}

const runtimes = new WeakMap<AppDeps, JobRuntime>();

/** Builds and starts the runtime for an app (createApp calls this once). */
export function createJobRuntime(deps: AppDeps, handlers: JobHandlerRegistry = jobHandlers): JobRuntime {
  const events = new EventEmitter<JobRuntimeEvents>();
  events.setMaxListeners(0);
  const worker = deps.config.inprocessWorker
    ? new JobWorker({
        db: deps.db,
        now: deps.now,
        logger: deps.logger,
        env: deps.judgeEnv ?? {},
        handlers,
        concurrency: deps.config.workerConcurrency,
        name: 'web',
        // On a PostgreSQL server, jobs queued or requeued by other processes (another web server, a stopping worker) wake it too.
        ...(deps.dbKind === 'postgres' && deps.config.databaseUrl ? { listen: jobWakeups(deps.config.databaseUrl, deps.logger) } : {}),
      })
    : null;
  worker?.events.on('changed', (id) => events.emit('changed', id));
  const runtime: JobRuntime = {
    handlers,
    worker,
    events,
    changed(jobId) {
      events.emit('changed', jobId);
      worker?.wake();
      worker?.nudge(jobId);
    },
    async stop() {
      await worker?.stop();
    },
  };
  worker?.start();
  runtimes.set(deps, runtime);
  return runtime;
}

/** The runtime createApp built for these deps. */
export function jobRuntimeOf(deps: AppDeps): JobRuntime {
  const runtime = runtimes.get(deps);
  if (!runtime) throw new Error('The job runtime is created by createApp before routes run.');
  return runtime;
}
