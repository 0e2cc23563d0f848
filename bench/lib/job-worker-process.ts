// A job worker in its own process for the experiments benchmark, built as `menagerie worker` builds its worker
// (server/cli/worker.command.ts: the server's job handlers, concurrency 2, LISTEN menagerie_jobs on a PostgreSQL
// server), except that each handler's first line stamps the wall clock and reports it, so the benchmark can measure
// from the enqueue's commit to the moment a handler starts.
// IPC: child -> parent {ready: workerId} once, then {started: jobId, at: wall ms} for each handler run;
// parent -> child {mode: 'listen' | 'poll'} (answered {ready: workerId}: a new worker with or without wake-ups), 'stop'.
import type { JobHandler } from '../../core/jobs/job-handler.ts';
import { jobHandlerRegistry } from '../../core/jobs/job-registry.ts';
import { JobWorker } from '../../core/jobs/job-worker.ts';
import { closeLoadedModels } from '../../experiments/loaded-models.ts';
import { openDatabase } from '../../server/db/client.ts';
import { jobHandlers } from '../../server/jobs/job-handlers.ts';
import { jobWakeups } from '../../server/jobs/job-wakeups.ts';
import { createLogger } from '../../server/logger.ts';

const wallMs = () => performance.timeOrigin + performance.now();
const databaseUrl = process.env.DATABASE_URL!;
const concurrency = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 2);
const logger = createLogger('error');
const database = await openDatabase({ databaseUrl, poolSize: concurrency + 4 });

const timed = jobHandlerRegistry(
  [...jobHandlers.values()].map((handler): JobHandler<unknown> => ({
    ...handler,
    run(context) {
      const at = wallMs();
      process.send!({ started: context.job.id, at });
      return handler.run(context);
    },
  })),
);

function startWorker(listen: boolean): JobWorker {
  return new JobWorker({
    db: database.db,
    now: () => new Date(),
    logger,
    env: {},
    handlers: timed,
    concurrency,
    name: 'bench',
    ...(listen ? { listen: jobWakeups(databaseUrl, logger) } : {}),
  }).start();
}

let worker = startWorker(true);
await worker.listening();
process.send!({ ready: worker.id });

process.on('message', (message: unknown) => {
  if (message === 'stop') {
    void (async () => {
      await worker.stop();
      await closeLoadedModels();
      await database.close();
      process.exit(0);
    })();
  } else if (typeof message === 'object' && message !== null && 'mode' in message) {
    void (async () => {
      await worker.stop();
      worker = startWorker((message as { mode: string }).mode === 'listen');
      await worker.listening();
      process.send!({ ready: worker.id });
    })();
  }
});
