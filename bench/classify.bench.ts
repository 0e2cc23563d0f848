import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { UserActor } from '../accounts/actor.ts';
import { rowsOf, type Db } from '../core/db.ts';
import { JobWorker } from '../core/jobs/job-worker.ts';
import { loadJob } from '../core/jobs/job.queries.ts';
import { createJudge, parseJudgeSettings } from '../observations/classify/judge/index.ts';
import { createClassificationJob } from '../observations/classify/jobs/create-classification-job.command.ts';
import { pinnedVersionOf } from '../observations/classify/jobs/classifier-runner.ts';
import type { Transcript } from '../observations/transcript.schema.ts';
import { testConfig } from '../server/config.ts';
import { openDatabase, type Database } from '../server/db/client.ts';
import { jobHandlers } from '../server/jobs/job-handlers.ts';
import { createLogger } from '../server/logger.ts';
import { prepareInstance } from '../server/prepare-instance.ts';
import type { PgServer } from './lib/postgres-server.ts';
import type { Figure } from './lib/stats.ts';

const JUDGE_MS = 50;
const CONCURRENCY = 8;
const QUOTE = 'I am sorry, I cannot read PDFs.';
const transcript: Transcript = {
  format: 'openai-chat',
  messages: [
    { id: 'm1', role: 'system', parts: [{ type: 'text', text: 'You are a helpful assistant.' }] },
    { id: 'm2', role: 'user', parts: [{ type: 'text', text: 'Summarise the paper for me.' }] },
    { id: 'm3', role: 'assistant', parts: [{ type: 'text', text: `${QUOTE} The paper shows that zebras sleep standing up.` }] },
  ],
} as Transcript;

/**
 * Issue 5's judge target: 1,000 observations judged through the real job queue (enqueue, worker claim, judge
 * runner at its default concurrency of 8, one transaction per observation writing its proposal and item) and the
 * real `openai` client, against a local judge answering in 50 ms. Beside it, in the same run: the same 1,000 judge
 * calls made directly with the same client and concurrency (no queue, no database), and the ideal
 * 1000 × 50 ms / 8. Also reports the most requests the judge server had in flight at once (no request storms).
 */
export async function classifyBench(server: PgServer | null, quick: boolean): Promise<Figure[]> {
  const n = quick ? 200 : 1000;
  const judge = await startJudgeProcess();
  const env = { OPENAI_API_KEY: 'sk-bench', MENAGERIE_JUDGE_KEY_ORIGINS: judge.url };
  const settings = { provider: 'openai', model: 'gpt-4o-mini', baseUrl: `${judge.url}/v1`, maxRetries: 0 };
  const figures: Figure[] = [];
  const ideal = (n * JUDGE_MS) / CONCURRENCY / 1000;
  try {
    const targets: { name: string; open: () => Promise<{ database: Database; cleanup: () => void }> }[] = [
      {
        name: 'PGlite',
        open: async () => {
          const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-bench-classify-'));
          const database = await openDatabase({ dataDir: dir });
          return { database, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
        },
      },
    ];
    if (server) targets.push({ name: 'PostgreSQL', open: async () => ({ database: await openDatabase({ databaseUrl: await server.createDatabase('menagerie_bench_classify'), poolSize: 20 }), cleanup: () => {} }) });

    for (const target of targets) {
      const { database, cleanup } = await target.open();
      try {
        await database.migrate();
        const { actor, classifierId, versionId } = await seed(database.db, n, settings);

        // Baseline: the same judge calls, straight through the client at the same concurrency.
        const version = await pinnedVersionOf(database.db, versionId);
        const direct = createJudge(parseJudgeSettings(settings), { env });
        await judge.reset();
        const directStart = performance.now();
        let next = 0;
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          while (next++ < n) await direct.judge(version, transcript, { unmatchedQuotes: 'drop' });
        }));
        const directS = (performance.now() - directStart) / 1000;
        const directPeak = (await judge.stats()).peak;

        // The real thing: enqueue (job + 1,000 items in one transaction) and let a worker run it.
        await judge.reset();
        const start = performance.now();
        const ids = rowsOf<{ id: string }>(await database.db.execute(sql`SELECT id FROM observations ORDER BY created_at, id`)).map((r) => r.id);
        const ctx = { db: database.db, actor, now: () => new Date() };
        const job = await createClassificationJob(ctx, { classifierId, observationIds: ids }, { handlers: jobHandlers });
        const worker = new JobWorker({ db: database.db, now: () => new Date(), logger: createLogger('error'), env, handlers: jobHandlers, concurrency: 2 });
        await worker.drain();
        const queuedS = (performance.now() - start) / 1000;
        const row = (await loadJob(database.db, job.id))!;
        const { peak } = await judge.stats();
        const proposals = rowsOf<{ n: number }>(await database.db.execute(sql`SELECT count(*)::int AS n FROM codings WHERE job_id = ${job.id}::uuid`))[0]!.n;
        console.log(
          `  ${target.name}: ${n} observations through the queue in ${queuedS.toFixed(2)} s (status ${row.status}, ${proposals} proposals); ` +
            `direct judge calls ${directS.toFixed(2)} s; ideal ${ideal.toFixed(2)} s; peak in-flight requests ${peak} (direct ${directPeak}, concurrency ${CONCURRENCY})`,
        );
        const ok = row.status === 'completed' && proposals === n && peak <= CONCURRENCY;
        figures.push({ name: `${n} judged via queue (${target.name})`, value: queuedS, unit: 's', baselineName: 'direct judge calls', baseline: directS, target: `< ${quick ? 3 : 15} s, all proposed`, pass: ok && queuedS < (quick ? 3 : 15) });
        figures.push({ name: `  vs ideal ${n}×${JUDGE_MS}ms/${CONCURRENCY} (${target.name})`, value: queuedS, unit: 's', baselineName: 'ideal', baseline: ideal, target: 'ratio shown', pass: true });
        figures.push({ name: `peak concurrent judge requests (${target.name})`, value: peak, unit: 'requests', baselineName: 'configured concurrency', baseline: CONCURRENCY, target: `<= ${CONCURRENCY}`, pass: peak <= CONCURRENCY });
      } finally {
        await database.close();
        cleanup();
      }
    }
  } finally {
    judge.stop();
  }
  return figures;
}

/** The fake judge in a child process (bench/lib/fake-judge-process.ts), with its in-flight counter over IPC. */
async function startJudgeProcess() {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'lib/fake-judge-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, JUDGE_MS: String(JUDGE_MS), JUDGE_QUOTE: QUOTE },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () => new Promise<any>((resolve) => child.once('message', resolve));
  const { url } = (await next()) as { url: string };
  return {
    url,
    reset: async () => {
      const reply = next();
      child.send('reset');
      await reply;
    },
    stats: async (): Promise<{ peak: number; requests: number }> => {
      const reply = next();
      child.send('stats');
      return reply;
    },
    stop: () => child.send('stop'),
  };
}

/** A researcher, the starter ethogram, an LLM judge classifier, and `n` observations (inserted in one statement). */
async function seed(db: Db, n: number, settings: Record<string, unknown>): Promise<{ actor: UserActor; classifierId: string; versionId: string }> {
  const now = () => new Date();
  await prepareInstance({ db, config: testConfig({ loadStarter: true }), logger: createLogger('error'), now });
  const [user] = rowsOf<{ id: string }>(
    await db.execute(sql`INSERT INTO users (email, display_name, password_hash, role) VALUES ('bench@example.org', 'Bench', 'x', 'researcher') RETURNING id`),
  );
  const [version] = rowsOf<{ id: string }>(await db.execute(sql`SELECT id FROM ethogram_versions WHERE status = 'published' ORDER BY published_at LIMIT 1`));
  const [classifier] = rowsOf<{ id: string }>(
    await db.execute(sql`INSERT INTO classifiers (kind, name, ethogram_version_id, settings, created_by)
      VALUES ('llm_judge', 'Bench judge', ${version!.id}::uuid, ${JSON.stringify({ ...settings, concurrency: CONCURRENCY })}::jsonb, ${user!.id}::uuid) RETURNING id`),
  );
  await db.execute(sql`INSERT INTO observations (title, surprise, provider, model, provenance, observed_at, submitted_by, raw_payload, raw_sha256, transcript, search)
    SELECT 'Bench observation ' || i, 'It refused.', 'openai', 'gpt-4o', '{"capture":"api"}'::jsonb, now(), ${user!.id}::uuid, '{}', md5(i::text),
      ${JSON.stringify(transcript)}::jsonb, to_tsvector('english', 'bench')
    FROM generate_series(1, ${n}) AS i`);
  return { actor: { kind: 'user', id: user!.id, role: 'researcher', email: 'bench@example.org', displayName: 'Bench', via: 'system' }, classifierId: classifier!.id, versionId: version!.id };
}
