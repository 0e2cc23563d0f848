import { parseArgs } from 'node:util';
import { JobWorker } from '../../core/jobs/job-worker.ts';
import { judgeEnvironment } from '../config.ts';
import { jobHandlers } from '../jobs/job-handlers.ts';
import { createLogger } from '../logger.ts';
import type { CliCommand } from './cli-command.ts';
import { withDatabase } from './with-database.ts';

const HELP = `Usage:
  menagerie worker [--concurrency N] [--once]
      Runs background jobs (classification jobs, offline trainings) from the configured database's queue, the same
      way the web server's in-process worker does: claims jobs with FOR UPDATE SKIP LOCKED, keeps them alive with a
      heartbeat, writes progress, and puts running jobs back in the queue when stopped (SIGINT or SIGTERM). Run
      as many as you like against one PostgreSQL server; set MENAGERIE_INPROCESS_WORKER=false on the web server to
      leave all jobs to them. Job pages follow their progress either way.

Options:
  --concurrency N   Jobs run at once (default: MENAGERIE_WORKER_CONCURRENCY, else 2).
  --once            Run what is claimable now, then exit (0).

Uses DATABASE_URL (PGlite's data folder can be opened by one process only, so a separate worker needs a
PostgreSQL server; with PGlite only --once works, while the web server is stopped). Judge keys come from this
process's environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, MENAGERIE_JUDGE_*).`;

export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'Run background jobs (classification...) from the database queue: "worker [--concurrency N] [--once]".',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { concurrency: { type: 'string' }, once: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
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
      });
      worker.events.on('changed', (id) => logger.debug('job changed', { jobId: id }));
      if (values.once) {
        await worker.drain();
        io.out('No claimable jobs left.');
        return 0;
      }
      io.out(`Worker ${worker.id} serving ${[...jobHandlers.keys()].join(', ')} jobs, ${concurrency ?? config.workerConcurrency} at once. Stop with Ctrl-C.`);
      worker.start();
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      io.out('Stopping: running jobs go back to the queue after the items in hand…');
      await worker.stop();
      return 0;
    }, { poolSize: n + 4 });
  },
};
