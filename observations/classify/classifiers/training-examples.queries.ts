import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../../core/db.ts';
import { textArraySql, transcriptSearchTextSql } from '../../observation-text.ts';
import type { TrainingExample } from '../offline/offline-classifier.ts';
import type { TrainingMethod } from './classifier-settings.ts';

export interface GatheredExample extends TrainingExample {
  observationId: string;
}

/**
 * The offline classifier's training data under one ethogram version: every (not deleted) observation with at
 * least one accepted, not withdrawn coding made by one of `methods` (people's codings, manual or live, by
 * default). Its text is the transcript's text (observation-text.ts: text, reasoning, refusals, tool calls and
 * results, one per line, as search indexes it); its labels are the codes of its accepted codings. An observation
 * coded only with other behaviours is a negative for a behaviour: people looked and did not code it. In
 * observation id order, so the same codings give the same training.
 */
export async function gatherTrainingExamples(db: Db, versionId: string, methods: readonly TrainingMethod[]): Promise<GatheredExample[]> {
  const result = await db.execute(sql`
    SELECT o.id AS "observationId", ${transcriptSearchTextSql(sql`o.transcript`)} AS "text", array_agg(DISTINCT b.code ORDER BY b.code) AS "labels"
    FROM codings c
    JOIN behaviours b ON b.id = c.behaviour_id
    JOIN observations o ON o.id = c.observation_id
    WHERE c.ethogram_version_id = ${versionId}
      AND c.status = 'accepted'
      AND c.withdrawn_at IS NULL
      AND c.method::text = ANY(${textArraySql(methods)})
      AND o.deleted_at IS NULL
    GROUP BY o.id
    ORDER BY o.id`);
  return rowsOf<{ observationId: string; text: string | null; labels: string[] | string }>(result).map((r) => ({
    observationId: r.observationId,
    text: r.text ?? '',
    labels: Array.isArray(r.labels) ? r.labels : parsePgArray(r.labels),
  }));
}

/** A `text[]` some drivers return as its literal ("{A,B}"); codes hold no commas or quotes. */
function parsePgArray(literal: string): string[] {
  const inner = literal.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map((s) => s.replace(/^"|"$/g, '')) : [];
}
