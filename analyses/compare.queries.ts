import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../core/db.ts';
import { analysisQuery, behaviourSets, type AnalysisScope } from './analysis-scope.ts';

export interface CompareRow { provider: string; model: string; modelVersion: string | null; effort: number; count: number }

/**
 * One behaviour across models and model versions: per (provider, model, version) the observations coded at all
 * (effort) and those showing the behaviour, aggregated from each observation's behaviour set.
 */
export async function loadComparison(db: Db, scope: AnalysisScope, behaviourId: string): Promise<CompareRow[]> {
  const index = scope.behaviours.findIndex((b) => b.id === behaviourId);
  const rows = await analysisQuery(db, async (tx) =>
    rowsOf<{ provider: string; model: string; model_version: string | null; effort: number; n: number }>(
      await tx.execute(sql`WITH shown AS (${behaviourSets(scope, sql`o.provider, o.model, o.model_version`)})
        SELECT provider, model, model_version, count(*)::int AS effort, count(*) FILTER (WHERE ${index}::int = ANY(bs))::int AS n
        FROM shown GROUP BY provider, model, model_version ORDER BY provider, model, model_version NULLS FIRST`),
    ),
  );
  return rows.map((r) => ({ provider: r.provider, model: r.model, modelVersion: r.model_version, effort: Number(r.effort), count: Number(r.n) }));
}
