import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../core/db.ts';
import { defaultPublishedVersion } from '../../ethograms/behaviour.queries.ts';

/** A classifiers row on the default published version (the review queue names proposals' classifiers). */
export async function makeClassifier(db: Db, createdBy: string, opts: { name?: string; kind?: 'llm_judge' | 'offline' | 'rules' } = {}) {
  const version = await defaultPublishedVersion(db);
  if (!version) throw new Error('no published ethogram version: start the test app with loadStarter');
  const id = randomUUID();
  await db.execute(sql`INSERT INTO classifiers (id, kind, name, ethogram_version_id, settings, created_by)
    VALUES (${id}::uuid, ${opts.kind ?? 'llm_judge'}::classifier_kind, ${opts.name ?? 'Test judge'}, ${version.id}::uuid, '{}'::jsonb, ${createdBy}::uuid)`);
  return { id, versionId: version.id, name: opts.name ?? 'Test judge', kind: opts.kind ?? 'llm_judge' };
}

export interface ProposalSpec {
  observationId: string;
  code: string;
  classifier: { id: string; versionId: string };
  coderId: string;
  span?: { messageId: string; partIndex: number; start: number; end: number; quote: string };
  confidence?: number;
  rationale?: string;
  method?: 'llm_judge' | 'classifier' | 'rule';
  createdAt?: Date;
}

/** Inserts a proposed coding directly, as a classification job would. Returns its id. */
export async function insertProposal(db: Db, p: ProposalSpec): Promise<string> {
  const behaviour = rowsOf<{ id: string }>(
    await db.execute(sql`SELECT id FROM behaviours WHERE version_id = ${p.classifier.versionId}::uuid AND code = ${p.code}`),
  )[0];
  if (!behaviour) throw new Error(`no behaviour ${p.code}`);
  const id = randomUUID();
  await db.execute(sql`INSERT INTO codings (id, observation_id, ethogram_version_id, behaviour_id, message_id, part_index, char_start, char_end, quote,
      coder_id, method, confidence, rationale, status, classifier_id, provenance, created_at)
    VALUES (${id}::uuid, ${p.observationId}::uuid, ${p.classifier.versionId}::uuid, ${behaviour.id}::uuid, ${p.span?.messageId ?? null},
      ${p.span?.partIndex ?? null}, ${p.span?.start ?? null}, ${p.span?.end ?? null}, ${p.span?.quote ?? null}, ${p.coderId}::uuid,
      ${p.method ?? 'llm_judge'}::coding_method, ${p.confidence ?? null}, ${p.rationale ?? ''}, 'proposed', ${p.classifier.id}::uuid,
      ${JSON.stringify({ model: 'fake-judge', promptVersion: 'test' })}::jsonb, ${(p.createdAt ?? new Date()).toISOString()}::timestamptz)`);
  return id;
}

/** A coding's status and review columns, read straight from the table. */
export async function codingState(db: Db, id: string) {
  return rowsOf<{ status: string; reviewed_by: string | null; behaviour_code: string; revision: number; char_start: number | null; char_end: number | null }>(
    await db.execute(sql`SELECT c.status, c.reviewed_by, b.code AS behaviour_code, c.revision, c.char_start, c.char_end
      FROM codings c JOIN behaviours b ON b.id = c.behaviour_id WHERE c.id = ${id}::uuid`),
  )[0];
}
