import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../core/db.ts';

/** A coding written straight into the table, as the coding commands and the classifier jobs leave them. */
export interface SeedCoding {
  observationId: string;
  behaviourId: string;
  coderId: string;
  versionId: string;
  method?: 'manual' | 'llm_judge' | 'classifier' | 'rule' | 'live';
  status?: 'proposed' | 'accepted' | 'rejected';
  classifierId?: string | null;
  jobId?: string | null;
  span?: { messageId: string; partIndex: number; start: number; end: number } | null;
  withdrawn?: boolean;
}

export async function insertCoding(db: Db, c: SeedCoding): Promise<string> {
  const [row] = rowsOf<{ id: string }>(
    await db.execute(sql`INSERT INTO codings (observation_id, ethogram_version_id, behaviour_id, message_id, part_index, char_start, char_end,
        coder_id, method, status, classifier_id, job_id, withdrawn_at)
      VALUES (${c.observationId}::uuid, ${c.versionId}::uuid, ${c.behaviourId}::uuid, ${c.span?.messageId ?? null}, ${c.span?.partIndex ?? null},
        ${c.span?.start ?? null}, ${c.span?.end ?? null}, ${c.coderId}::uuid, ${c.method ?? 'manual'}::coding_method, ${c.status ?? 'accepted'}::coding_status,
        ${c.classifierId ?? null}::uuid, ${c.jobId ?? null}::uuid, ${c.withdrawn ? sql`now()` : null}) RETURNING id::text AS id`),
  );
  return row!.id;
}

export async function insertAssignment(db: Db, a: { observationId: string; coderId: string; assignedBy: string; submitted: boolean }): Promise<void> {
  await db.execute(sql`INSERT INTO coding_assignments (observation_id, coder_id, assigned_by, submitted_at)
    VALUES (${a.observationId}::uuid, ${a.coderId}::uuid, ${a.assignedBy}::uuid, ${a.submitted ? sql`now()` : null})`);
}

export async function insertClassifier(db: Db, c: { name: string; kind: 'llm_judge' | 'offline' | 'rules'; versionId: string; createdBy: string }): Promise<string> {
  const [row] = rowsOf<{ id: string }>(
    await db.execute(sql`INSERT INTO classifiers (kind, name, ethogram_version_id, created_by)
      VALUES (${c.kind}::classifier_kind, ${c.name}, ${c.versionId}::uuid, ${c.createdBy}::uuid) RETURNING id::text AS id`),
  );
  return row!.id;
}

/** A finished classification job of the classifier over these observations (items done, whatever it proposed). */
export async function insertClassificationJob(db: Db, j: { classifierId: string; createdBy: string; observationIds: string[] }): Promise<string> {
  const [job] = rowsOf<{ id: string }>(
    await db.execute(sql`INSERT INTO jobs (kind, status, payload, created_by)
      VALUES ('classify', 'completed', ${JSON.stringify({ classifierId: j.classifierId })}::jsonb, ${j.createdBy}::uuid) RETURNING id::text AS id`),
  );
  let position = 0;
  for (const o of j.observationIds) {
    await db.execute(sql`INSERT INTO classification_items (job_id, observation_id, position, status) VALUES (${job!.id}::uuid, ${o}::uuid, ${position++}, 'done')`);
  }
  return job!.id;
}

export async function behaviourIdsByCode(db: Db, versionId: string): Promise<Map<string, string>> {
  const rows = rowsOf<{ id: string; code: string }>(await db.execute(sql`SELECT id::text AS id, code FROM behaviours WHERE version_id = ${versionId}::uuid`));
  return new Map(rows.map((r) => [r.code, r.id]));
}
