import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../../core/db.ts';
import { defaultPublishedVersion } from '../../../ethograms/behaviour.queries.ts';

/** Test helpers for classification jobs: classifier rows written straight into the table, and waiting for a job. */

/** Inserts a classifier (the classifiers pages are another feature's; tests need only the row). */
export async function insertClassifier(
  db: Db,
  input: { kind: 'llm_judge' | 'offline' | 'rules'; settings: Record<string, unknown>; createdBy: string; name?: string; versionId?: string; currentTrainingId?: string },
): Promise<{ id: string; versionId: string }> {
  const versionId = input.versionId ?? (await defaultPublishedVersion(db))!.id;
  const [row] = rowsOf<{ id: string }>(
    await db.execute(sql`INSERT INTO classifiers (kind, name, ethogram_version_id, settings, created_by, current_training_id)
      VALUES (${input.kind}::classifier_kind, ${input.name ?? `${input.kind} classifier`}, ${versionId}::uuid, ${JSON.stringify(input.settings)}::jsonb,
        ${input.createdBy}::uuid, ${input.currentTrainingId ?? null}::uuid) RETURNING id`),
  );
  return { id: row!.id, versionId };
}

interface JobApi {
  get(path: string): Promise<{ status: number; body: any }>;
}

/** Polls `GET /api/v1/jobs/:id` until the job's status is one of `statuses`; returns the job. */
export async function waitForJobStatus(api: JobApi, jobId: string, statuses: readonly string[], timeoutMs = 20_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get(`/jobs/${jobId}`);
    if (res.status !== 200) throw new Error(`GET /jobs/${jobId}: ${res.status} ${JSON.stringify(res.body)}`);
    if (statuses.includes(res.body.status)) return res.body;
    if (Date.now() > end) throw new Error(`job ${jobId} is still ${res.body.status} (${JSON.stringify(res.body.progress)}), wanted ${statuses.join(' or ')}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

/** The codings a job wrote, with their behaviour codes. */
export async function jobCodings(db: Db, jobId: string) {
  return rowsOf<{
    id: string; observation_id: string; code: string; status: string; method: string; classifier_id: string; coder_id: string; reviewed_by: string | null;
    confidence: number | null; rationale: string; message_id: string | null; part_index: number | null; char_start: number | null; char_end: number | null;
    quote: string | null; provenance: Record<string, any>; ethogram_version_id: string;
  }>(
    await db.execute(sql`SELECT c.*, b.code FROM codings c JOIN behaviours b ON b.id = c.behaviour_id WHERE c.job_id = ${jobId}::uuid ORDER BY c.created_at, c.id`),
  );
}
