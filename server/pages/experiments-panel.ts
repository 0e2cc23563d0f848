import { sql } from 'drizzle-orm';
import type { Actor } from '../../accounts/actor.ts';
import { rowsOf, type Db } from '../../core/db.ts';
import { JOB_STATUS_LABELS } from '../../core/jobs/job-status-labels.ts';
import { can } from '../../core/policy.ts';
import { listExperiments, type ExperimentListFilters } from '../../experiments/experiment.queries.ts';
import { resultPicture } from '../../experiments/pictures/result-picture.ts';
import type { ResultDocument } from '../../experiments/techniques/run-technique.ts';

/** Experiments shown on an observation's or a behaviour's page, at most this many (the list page has the rest). */
const PANEL_LIMIT = 10;

/**
 * The experiments panel of an observation page (linked experiments) or a behaviour page (experiments on the
 * observations coded with it): each with its latest run's state and, when a run completed, its headline (the
 * caption of its picture). Null for people who may not see experiments.
 */
export async function experimentsPanel(db: Db, actor: Actor, scope: Pick<ExperimentListFilters, 'observation' | 'behaviour'>) {
  if (!can(actor, 'experiment.list')) return null;
  const { items, hasMore } = await listExperiments(db, scope);
  const shown = items.slice(0, PANEL_LIMIT);
  // The latest completed run of each, with its result for the headline.
  const ids = shown.map((e) => e.id);
  const results = ids.length
    ? rowsOf<{ experimentId: string; number: number; result: ResultDocument }>(
        await db.execute(sql`SELECT DISTINCT ON (r.experiment_id) r.experiment_id AS "experimentId", r.number, r.result
          FROM experiment_runs r WHERE r.experiment_id IN (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)}) AND r.result IS NOT NULL
          ORDER BY r.experiment_id, r.number DESC`),
      )
    : [];
  const headlines = new Map(results.map((r) => [r.experimentId, { number: r.number, text: resultPicture(r.result, { run: r.number }).caption }]));
  return {
    items: shown.map((e) => ({
      ...e,
      statusLabel: e.latestRun ? (JOB_STATUS_LABELS[e.latestRun.status] ?? e.latestRun.status) : 'not run',
      headline: headlines.get(e.id) ?? null,
    })),
    more: hasMore || items.length > PANEL_LIMIT,
    moreUrl: `/experiments?${new URLSearchParams(Object.entries(scope).filter(([, v]) => v) as Array<[string, string]>).toString()}`,
  };
}
