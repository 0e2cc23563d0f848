import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../core/db.ts';
import { rowsOf } from '../core/db.ts';
import type { FrequencyGrouping } from './analysis-filters.ts';
import { analysisQuery, behaviourSets, type AnalysisScope } from './analysis-scope.ts';

const groupKey: Record<FrequencyGrouping, SQL> = {
  provider: sql`o.provider`,
  model: sql`o.provider || ' / ' || o.model`,
  version: sql`o.provider || ' / ' || o.model || ' / ' || coalesce(o.model_version, '(no version)')`,
  month: sql`to_char(o.observed_at AT TIME ZONE 'UTC', 'YYYY-MM')`,
};

export interface FrequencyCounts {
  groups: Array<{ group: string; effort: number }>;
  counts: Array<{ group: string; behaviourId: string; count: number }>;
}

/**
 * Effort and counts per group, aggregated in the database: each coded observation once with its set of behaviours,
 * then per group the observations showing each behaviour and the group's observations coded at all (its effort).
 */
export async function loadFrequencyCounts(db: Db, scope: AnalysisScope, by: FrequencyGrouping): Promise<FrequencyCounts> {
  const rows = await analysisQuery(db, async (tx) =>
    rowsOf<{ grp: string; i: number | null; n: number }>(
      await tx.execute(sql`WITH shown AS MATERIALIZED (${behaviourSets(scope, sql`${groupKey[by]} AS grp`)})
        SELECT grp, i, count(*)::int AS n FROM shown, unnest(bs) i GROUP BY grp, i
        UNION ALL
        SELECT grp, NULL, count(*)::int FROM shown GROUP BY grp`),
    ),
  );
  const groups: FrequencyCounts['groups'] = [];
  const counts: FrequencyCounts['counts'] = [];
  for (const r of rows) {
    if (r.i === null) groups.push({ group: r.grp, effort: Number(r.n) });
    else counts.push({ group: r.grp, behaviourId: scope.behaviours[r.i]!.id, count: Number(r.n) });
  }
  groups.sort((a, b) => a.group.localeCompare(b.group));
  return { groups, counts };
}
