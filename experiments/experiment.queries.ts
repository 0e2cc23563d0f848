import { eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { rowsOf, type Db } from '../core/db.ts';
import { notFound } from '../core/errors.ts';
import { jobStatuses, type JobError, type JobProgress, type JobStatus } from '../core/jobs/job.schema.ts';
import { experiments } from './experiment.schema.ts';

export type ExperimentRow = typeof experiments.$inferSelect;

export async function findExperiment(db: Db, id: string): Promise<ExperimentRow | null> {
  const [row] = await db.select().from(experiments).where(eq(experiments.id, id));
  return row ?? null;
}

export async function requireExperiment(db: Db, id: string): Promise<ExperimentRow> {
  const row = await findExperiment(db, id);
  if (!row) throw notFound('That experiment');
  return row;
}

/** One run as pages and the API show it: the run row with its job's state. */
export interface RunView {
  id: string;
  number: number;
  jobId: string;
  status: JobStatus;
  progress: JobProgress;
  error: JobError | null;
  attempts: number;
  params: Record<string, unknown>;
  seed: number;
  expectedSha256: string;
  modelPath: string;
  engineVersion: string | null;
  schemaVersion: number | null;
  weightsSha256: string | null;
  result: Record<string, unknown> | null;
  createdBy: string;
  creatorName: string | null;
  createdAt: string;
  finishedAt: string | null;
}

const runColumns = sql`r.id, r.number, r.job_id AS "jobId", j.status, j.progress, j.error, j.attempts, r.params, r.seed,
  r.expected_sha256 AS "expectedSha256", r.model_path AS "modelPath", r.engine_version AS "engineVersion",
  r.schema_version AS "schemaVersion", r.weights_sha256 AS "weightsSha256", r.created_by AS "createdBy",
  u.display_name AS "creatorName", r.created_at AS "createdAt", r.finished_at AS "finishedAt"`;

type RawRun = Omit<RunView, 'createdAt' | 'finishedAt'> & { createdAt: Date | string; finishedAt: Date | string | null };
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const toRun = (r: RawRun): RunView => ({ ...r, createdAt: iso(r.createdAt)!, finishedAt: iso(r.finishedAt) });

/** An experiment's runs, newest first; results included only when asked (they can be large). */
export async function listRuns(db: Db, experimentId: string, options: { withResults?: boolean } = {}): Promise<RunView[]> {
  const result = options.withResults ? sql`r.result` : sql`NULL::jsonb AS result`;
  return rowsOf<RawRun>(
    await db.execute(sql`SELECT ${runColumns}, ${result} FROM experiment_runs r JOIN jobs j ON j.id = r.job_id
      LEFT JOIN users u ON u.id = r.created_by WHERE r.experiment_id = ${experimentId}::uuid ORDER BY r.number DESC`),
  ).map(toRun);
}

/** One run of an experiment, with its result, or not found. */
export async function requireRun(db: Db, experimentId: string, number: number): Promise<RunView> {
  const [row] = rowsOf<RawRun>(
    await db.execute(sql`SELECT ${runColumns}, r.result FROM experiment_runs r JOIN jobs j ON j.id = r.job_id
      LEFT JOIN users u ON u.id = r.created_by WHERE r.experiment_id = ${experimentId}::uuid AND r.number = ${number}`),
  );
  if (!row) throw notFound(`Run ${number} of that experiment`);
  return toRun(row);
}

/** The run a job runs (for the job handler), with what it needs to run. */
export async function runOfJob(db: Db, jobId: string) {
  const [row] = rowsOf<{ id: string; experimentId: string; technique: string; params: Record<string, unknown>; seed: number; expectedSha256: string; modelPath: string; modelId: string; hasResult: boolean }>(
    await db.execute(sql`SELECT r.id, r.experiment_id AS "experimentId", e.technique, r.params, r.seed, r.expected_sha256 AS "expectedSha256",
      r.model_path AS "modelPath", e.model_id AS "modelId", r.result IS NOT NULL AS "hasResult"
      FROM experiment_runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.job_id = ${jobId}::uuid`),
  );
  return row ?? null;
}

export const experimentListSchema = z
  .object({
    model: z.string().uuid('choose a model from the list').optional().or(z.literal('').transform(() => undefined)),
    technique: z.string().max(100).optional().or(z.literal('').transform(() => undefined)),
    status: z.enum(jobStatuses, { error: `status is one of ${jobStatuses.join(', ')}` }).optional().or(z.literal('').transform(() => undefined)),
    behaviour: z.string().trim().max(100).optional().or(z.literal('').transform(() => undefined)),
    observation: z.string().uuid().optional().or(z.literal('').transform(() => undefined)),
    page: z.coerce.number().int().min(1).max(10_000).default(1),
  })
  .strip();
export type ExperimentListFilters = z.infer<typeof experimentListSchema>;

/** An experiment in lists: its model, technique, its latest run's state and how many observations it follows up. */
export interface ExperimentListItem {
  id: string;
  title: string;
  hypothesis: string;
  technique: string;
  modelId: string;
  modelName: string;
  createdBy: string;
  creatorName: string | null;
  createdAt: string;
  runs: number;
  latestRun: { number: number; status: JobStatus; jobId: string } | null;
  observations: number;
}

export const EXPERIMENTS_PER_PAGE = 50;

/**
 * Experiments newest first, filtered by model, technique, the latest run's status, a linked observation, or a
 * behaviour code that one of the linked observations carries (an accepted coding, not withdrawn).
 */
export async function listExperiments(db: Db, filters: Partial<ExperimentListFilters>): Promise<{ items: ExperimentListItem[]; hasMore: boolean }> {
  const where: SQL[] = [sql`true`];
  if (filters.model) where.push(sql`e.model_id = ${filters.model}::uuid`);
  if (filters.technique) where.push(sql`e.technique = ${filters.technique}`);
  if (filters.status) where.push(sql`latest.status = ${filters.status}`);
  if (filters.observation) where.push(sql`EXISTS (SELECT 1 FROM experiment_observations eo WHERE eo.experiment_id = e.id AND eo.observation_id = ${filters.observation}::uuid)`);
  if (filters.behaviour) {
    where.push(sql`EXISTS (SELECT 1 FROM experiment_observations eo JOIN codings c ON c.observation_id = eo.observation_id
      JOIN behaviours b ON b.id = c.behaviour_id
      WHERE eo.experiment_id = e.id AND c.status = 'accepted' AND c.withdrawn_at IS NULL AND upper(b.code) = upper(${filters.behaviour}))`);
  }
  const page = filters.page ?? 1;
  const rows = rowsOf<Omit<ExperimentListItem, 'latestRun' | 'createdAt'> & { createdAt: Date | string; latestNumber: number | null; latestStatus: JobStatus | null; latestJob: string | null }>(
    await db.execute(sql`SELECT e.id, e.title, e.hypothesis, e.technique, e.model_id AS "modelId", m.name AS "modelName",
        e.created_by AS "createdBy", u.display_name AS "creatorName", e.created_at AS "createdAt",
        (SELECT count(*)::int FROM experiment_runs r WHERE r.experiment_id = e.id) AS runs,
        (SELECT count(*)::int FROM experiment_observations eo WHERE eo.experiment_id = e.id) AS observations,
        latest.number AS "latestNumber", latest.status AS "latestStatus", latest.job_id AS "latestJob"
      FROM experiments e JOIN models m ON m.id = e.model_id LEFT JOIN users u ON u.id = e.created_by
      LEFT JOIN LATERAL (SELECT r.number, r.job_id, j.status FROM experiment_runs r JOIN jobs j ON j.id = r.job_id
        WHERE r.experiment_id = e.id ORDER BY r.number DESC LIMIT 1) latest ON true
      WHERE ${sql.join(where, sql` AND `)}
      ORDER BY e.created_at DESC, e.id DESC LIMIT ${EXPERIMENTS_PER_PAGE + 1} OFFSET ${(page - 1) * EXPERIMENTS_PER_PAGE}`),
  );
  const items = rows.slice(0, EXPERIMENTS_PER_PAGE).map(({ latestNumber, latestStatus, latestJob, createdAt, ...rest }) => ({
    ...rest,
    createdAt: new Date(createdAt).toISOString(),
    latestRun: latestNumber === null ? null : { number: latestNumber, status: latestStatus!, jobId: latestJob! },
  }));
  return { items, hasMore: rows.length > EXPERIMENTS_PER_PAGE };
}

/** The observations an experiment follows up (id, title), as the reader may see them. */
export async function linkedObservations(db: Db, experimentId: string) {
  return rowsOf<{ id: string; title: string; submittedBy: string; visibility: 'members' | 'public'; deletedAt: Date | null }>(
    await db.execute(sql`SELECT o.id, o.title, o.submitted_by AS "submittedBy", o.visibility, o.deleted_at AS "deletedAt"
      FROM experiment_observations eo JOIN observations o ON o.id = eo.observation_id
      WHERE eo.experiment_id = ${experimentId}::uuid ORDER BY eo.linked_at, o.id`),
  );
}
