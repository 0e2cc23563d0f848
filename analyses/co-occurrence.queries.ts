import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../core/db.ts';
import { analysisQuery, behaviourSets, type AnalysisScope } from './analysis-scope.ts';

export interface CoOccurrenceCounts {
  observations: number;
  showing: Map<string, number>;
  pairs: Array<{ a: string; b: string; both: number }>;
}

/**
 * Per behaviour the observations showing it, per unordered pair the observations showing both, and how many
 * observations were coded at all: each observation's behaviour set crossed with itself, aggregated in SQL.
 */
export async function loadCoOccurrenceCounts(db: Db, scope: AnalysisScope): Promise<CoOccurrenceCounts> {
  const rows = await analysisQuery(db, async (tx) =>
    rowsOf<{ a: number | null; b: number | null; n: number }>(
      await tx.execute(sql`WITH shown AS MATERIALIZED (${behaviourSets(scope, sql`NULL AS unused`)})
        SELECT x AS a, y AS b, count(*)::int AS n FROM shown, unnest(bs) x, unnest(bs) y WHERE x <= y GROUP BY 1, 2
        UNION ALL SELECT NULL, NULL, count(*)::int FROM shown`),
    ),
  );
  const result: CoOccurrenceCounts = { observations: 0, showing: new Map(), pairs: [] };
  for (const r of rows) {
    const id = (i: number) => scope.behaviours[i]!.id;
    if (r.a === null || r.b === null) result.observations = Number(r.n);
    else if (r.a === r.b) result.showing.set(id(r.a), Number(r.n));
    else result.pairs.push({ a: id(r.a), b: id(r.b), both: Number(r.n) });
  }
  return result;
}
