import { parseArgs } from 'node:util';
import { JobWorker } from '../../core/jobs/job-worker.ts';
import { closeLoadedModels } from '../../experiments/loaded-models.ts';
import { judgeEnvironment } from '../config.ts';
import { jobHandlers } from '../jobs/job-handlers.ts';
import { jobWakeups } from '../jobs/job-wakeups.ts';
import { createLogger } from '../logger.ts';
import type { CliCommand } from './cli-command.ts';
import { withDatabase } from './with-database.ts';

const HELP = `Usage:
  menagerie worker [--concurrency N] [--once] [--poll-ms MS] [--heartbeat-ms MS] [--lapse-ms MS]
      Runs background jobs (classification jobs, offline trainings, experiment runs) from the configured database's
      queue, the same way the web server's in-process worker does: claims jobs with FOR UPDATE SKIP LOCKED, keeps
      them alive with a heartbeat, writes progress, and puts running jobs back in the queue when stopped (SIGINT or
      SIGTERM). Run as many as you like against one PostgreSQL server; set MENAGERIE_INPROCESS_WORKER=false on the
      web server to leave all jobs to them. Job pages follow their progress either way. It LISTENs on the
      menagerie_jobs channel, so a job queued by any process starts at once; polling is the fallback.

Options:
  --concurrency N     Jobs run at once (default: MENAGERIE_WORKER_CONCURRENCY, else 2).
  --once              Run what is claimable now, then exit (0).
  --poll-ms MS        How often to look for claimable jobs besides wake-ups (default 1000).
  --heartbeat-ms MS   How often a running job's heartbeat is written (default 5000).
  --lapse-ms MS       A running job whose heartbeat is older than this is taken over: its worker is presumed dead
                      (default 30000; at least twice --heartbeat-ms). Must exceed the heartbeat interval of EVERY
                      worker on the database (the web server's is 5000), or live jobs are taken over and run twice.
                      A shorter lapse retries a crashed worker's jobs sooner.

Uses DATABASE_URL (PGlite's data folder can be opened by one process only, so a separate worker needs a
PostgreSQL server; with PGlite only --once works, while the web server is stopped). Judge keys come from this
process's environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, MENAGERIE_JUDGE_*).`;

export const workerCommand: CliCommand = {
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        concurrency: { type: 'string' },
        once: { type: 'boolean' },
        'poll-ms': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'lapse-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(HELP);
      return 0;
    }
    if (positionals.length > 0) {
      io.err(HELP);
      return 1;
    }
    const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) {
      io.err(`--concurrency takes a whole number from 1 to 64, not "${values.concurrency}".`);
      return 1;
    }
    const timings: { pollMs?: number; heartbeatMs?: number; lapseMs?: number } = {};
    for (const [option, key, min, max] of [
      ['poll-ms', 'pollMs', 10, 3_600_000],
      ['heartbeat-ms', 'heartbeatMs', 10, 600_000],
      ['lapse-ms', 'lapseMs', 20, 86_400_000],
    ] as const) {
      const raw = values[option];
      if (raw === undefined) continue;
      const ms = Number(raw);
      if (!Number.isInteger(ms) || ms < min || ms > max) {
        io.err(`--${option} takes a whole number of milliseconds from ${min} to ${max}, not "${raw}".`);
        return 1;
      }
      timings[key] = ms;
    }
    if ((timings.lapseMs ?? 30_000) < 2 * (timings.heartbeatMs ?? 5000)) {
      io.err(`--lapse-ms (${timings.lapseMs ?? 30_000}) must be at least twice --heartbeat-ms (${timings.heartbeatMs ?? 5000}): a lapse shorter than the heartbeat takes over jobs whose worker is alive.`);
      return 1;
    }
    if (!io.env.DATABASE_URL && !values.once) {
      io.err('A separate worker needs a PostgreSQL server: set DATABASE_URL (the embedded PGlite database can be opened by one process only; the web server runs jobs itself there). Or pass --once while the web server is stopped.');
      return 1;
    }
    const n = concurrency ?? 2;
    return withDatabase(io.env, async (db, config) => {
      const logger = createLogger(config.logLevel);
      const worker = new JobWorker({
        db,
        now: () => new Date(),
        logger,
        env: judgeEnvironment(io.env),
        handlers: jobHandlers,
        concurrency: concurrency ?? config.workerConcurrency,
        name: 'worker',
        ...timings,
        ...(config.databaseUrl && !values.once ? { listen: jobWakeups(config.databaseUrl, logger) } : {}),
      });
      worker.events.on('changed', (id) => logger.debug('job changed', { jobId: id }));
      if (values.once) {
        await worker.drain();
        await closeLoadedModels();
        io.out('No claimable jobs left.');
        return 0;
      }
      worker.start();
      await worker.listening();
      io.out(`Worker ${worker.id} serving ${[...jobHandlers.keys()].join(', ')} jobs, ${concurrency ?? config.workerConcurrency} at once. Stop with Ctrl-C.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      io.out('Stopping: running jobs go back to the queue after the items in hand…');
      await worker.stop();
      await closeLoadedModels();
      return 0;
    }, { poolSize: n + 4, pgliteWorker: true });
  },
};
