import { sql, type SQL } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';
import { notFound } from '../core/errors.ts';
import { cachedDefaultVersion } from '../ethograms/default-version.ts';
import { hasOpenBlindAssignments, openBlindAssignment } from '../observations/review/blind.queries.ts';
import type { AnalysisFilters } from './analysis-filters.ts';

export interface AnalysisVersion { id: string; number: number; status: string; slug: string; ethogramName: string }
export interface AnalysisBehaviour { id: string; code: string; name: string; kind: 'event' | 'state'; colour: string; category: string }

/**
 * What an analysis runs over: one ethogram version's behaviours, and the SQL conditions (on `c`, codings, and `o`,
 * observations) that select the codings counted. Built once per request; every analysis query uses `where`.
 */
export interface AnalysisScope {
  version: AnalysisVersion;
  behaviours: AnalysisBehaviour[];
  filters: AnalysisFilters;
  /** Only public observations (anonymous visitors). */
  publicOnly: boolean;
  where: SQL;
  /** The conditions on `o` alone (the time budget reaches observations through live sessions). */
  observationWhere: SQL;
  /**
   * Where the analyses read each observation's behaviours from: `code-sets`, the table the database keeps
   * (analyses/analysis.schema.ts), or `codings` themselves, for a coder with open blind assignments (whose view
   * leaves out other coders' codings of some observations, which the kept sets cannot).
   */
  source: 'code-sets' | 'codings';
  /** On `o` = observation_code_sets: the version, the observations coded in the chosen scope, `observationWhere`. */
  codeSetWhere: SQL;
  /** The code-set columns of the chosen codings (accepted, or accepted or proposed). */
  codeSetColumns: { set: SQL; sequence: SQL; whole: SQL; unplaced: SQL };
}

/**
 * Resolves the version (the default published one when the filters name none; drafts are not analysed) and
 * builds the conditions: codings of that version, not withdrawn, with the chosen statuses (rejected never);
 * observations not deleted, visible to the actor (public ones for anonymous visitors, every one for people signed
 * in, as in lists), matching provider, model and observed-at range. A coder with open blind assignments does not
 * see others' codings of those observations in aggregates either, as the observation list hides them.
 * Null when there is no published ethogram at all.
 */
export async function resolveScope(ctx: Ctx, filters: AnalysisFilters): Promise<AnalysisScope | null> {
  const versionId = filters.version ?? (await cachedDefaultVersion(ctx.db))?.id;
  if (!versionId) return null;
  const [version] = rowsOf<{ id: string; number: number; status: string; slug: string; ethogram_name: string }>(
    await ctx.db.execute(sql`SELECT v.id::text AS id, v.number, v.status::text AS status, e.slug, e.name AS ethogram_name
      FROM ethogram_versions v JOIN ethograms e ON e.id = v.ethogram_id
      WHERE v.id = ${versionId}::uuid AND v.status <> 'draft' AND e.deleted_at IS NULL`),
  );
  if (!version) throw notFound('That ethogram version');
  const behaviours = rowsOf<AnalysisBehaviour>(
    await ctx.db.execute(sql`SELECT id::text AS id, code, name, kind::text AS kind, colour, category FROM behaviours
      WHERE version_id = ${versionId}::uuid ORDER BY position, code`),
  );
  const publicOnly = ctx.actor.kind !== 'user';
  const blindCoderId = ctx.actor.kind === 'user' && (await hasOpenBlindAssignments(ctx.db, ctx.actor.id)) ? ctx.actor.id : null;
  const observationWhere = sql.join(
    [
      sql`o.deleted_at IS NULL`,
      publicOnly ? sql`o.visibility = 'public'` : null,
      filters.provider ? sql`o.provider = ${filters.provider}` : null,
      filters.model ? sql`o.model = ${filters.model}` : null,
      filters.from ? sql`o.observed_at >= ${`${filters.from}T00:00:00Z`}::timestamptz` : null,
      filters.to ? sql`o.observed_at < ${`${filters.to}T00:00:00Z`}::timestamptz + interval '1 day'` : null,
    ].filter((c): c is SQL => c !== null),
    sql` AND `,
  );
  const statuses = filters.codings === 'accepted' ? sql`c.status = 'accepted'` : sql`c.status IN ('accepted', 'proposed')`;
  const blind = blindCoderId ? sql` AND (c.coder_id = ${blindCoderId}::uuid OR NOT ${openBlindAssignment(sql`c.observation_id`, blindCoderId)})` : sql``;
  const where = sql`c.ethogram_version_id = ${versionId}::uuid AND c.withdrawn_at IS NULL AND ${statuses} AND ${observationWhere}${blind}`;
  const codeSetColumns = filters.codings === 'accepted'
    ? { set: sql`o.accepted`, sequence: sql`o.accepted_sequence`, whole: sql`o.accepted_whole`, unplaced: sql`o.accepted_unplaced` }
    : { set: sql`o.shown`, sequence: sql`o.shown_sequence`, whole: sql`o.shown_whole`, unplaced: sql`o.shown_unplaced` };
  const codeSetWhere = sql`o.ethogram_version_id = ${versionId}::uuid AND cardinality(${codeSetColumns.set}) > 0 AND ${observationWhere}`;
  return {
    version: { id: version.id, number: Number(version.number), status: version.status, slug: version.slug, ethogramName: version.ethogram_name },
    behaviours,
    filters,
    publicOnly,
    where,
    observationWhere,
    source: blindCoderId ? 'codings' : 'code-sets',
    codeSetWhere,
    codeSetColumns,
  };
}

/**
 * The behaviours of the scope's version numbered 0..n-1 in the scope's order (position, code), as a CTE body:
 * queries aggregate small integers rather than uuids, and Node maps an index back to `scope.behaviours[i]`.
 */
export function behaviourIndex(scope: AnalysisScope): SQL {
  return sql`SELECT id, (row_number() OVER (ORDER BY position, code) - 1)::int AS i FROM behaviours WHERE version_id = ${scope.version.id}::uuid`;
}

/**
 * One row per coded observation in scope with the set of behaviours it shows (`bs`, distinct indices) and the
 * given columns of `o` (provider, model, model_version, observed_at): every count of observations "showing" a
 * behaviour starts here, so several coders coding one behaviour count once. Read from the kept code sets (one
 * narrow row per observation), or, for a blind coder, aggregated from the codings joined to their observations.
 */
export function behaviourSets(scope: AnalysisScope, columns: SQL): SQL {
  if (scope.source === 'code-sets') {
    return sql`SELECT o.observation_id, ${columns}, ${scope.codeSetColumns.set} AS bs FROM observation_code_sets o WHERE ${scope.codeSetWhere}`;
  }
  return sql`WITH b AS (${behaviourIndex(scope)})
    SELECT o.id AS observation_id, ${columns}, array_agg(DISTINCT b.i) AS bs
    FROM codings c JOIN observations o ON o.id = c.observation_id JOIN b ON b.id = c.behaviour_id
    WHERE ${scope.where} GROUP BY o.id`;
}

/**
 * Runs an analysis query in its own transaction with room to aggregate in memory (work_mem) and without JIT
 * compilation, which costs more than it saves on these sub-second aggregates.
 */
export async function analysisQuery<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`SET LOCAL work_mem = '64MB'`);
    await tx.execute(sql`SET LOCAL jit = off`);
    return work(tx);
  });
}
