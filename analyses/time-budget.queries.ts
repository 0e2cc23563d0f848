import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../core/db.ts';
import { analysisQuery, type AnalysisScope } from './analysis-scope.ts';
import type { BudgetSession, StateInterval } from './statistics/time-budget.ts';

export interface TimeBudgetData { sessions: BudgetSession[]; intervals: StateInterval[]; observerNames: Map<string, string> }

const ms = (v: string | Date) => new Date(v).getTime();

/**
 * Live sessions filed as observations the actor may see (matching the filters, on the scope's ethogram version),
 * each with its span (opened to ended) and its observers, and every state an observer ran in them, read from the
 * session's event log as the session summary folds it: a `state_start` code not undone, ended by the first
 * surviving `state_stop` that names it, or by the session's end. Grouped by the start each press belongs to (one
 * pass, no self-join); only states and sessions come back, not the log.
 */
export async function loadTimeBudget(db: Db, scope: AnalysisScope): Promise<TimeBudgetData> {
  const filed = sql`ls.ethogram_version_id = ${scope.version.id}::uuid AND ls.ended_at IS NOT NULL AND ${scope.observationWhere}`;
  const sessions = rowsOf<{ id: string; start: string | Date; end: string | Date; observers: string[] | null }>(
    await db.execute(sql`SELECT ls.id::text AS id, ls.created_at AS start, ls.ended_at AS "end",
        ARRAY(SELECT p.user_id::text FROM live_participants p WHERE p.session_id = ls.id AND p.role = 'observer') AS observers
      FROM live_sessions ls JOIN observations o ON o.id = ls.observation_id
      WHERE ${filed}`),
  );
  if (sessions.length === 0) return { sessions: [], intervals: [], observerNames: new Map() };
  const intervals = await analysisQuery(db, async (tx) => rowsOf<{ session_id: string; actor_id: string; behaviour: string; from: string | Date; to: string | Date | null }>(
    await tx.execute(sql`WITH ev AS MATERIALIZED (
        SELECT e.session_id, e.seq, e.event_id, e.actor_id, e.at, e.type, e.payload->>'kind' AS kind, e.payload->>'behaviourCode' AS behaviour,
          CASE WHEN e.payload->>'kind' = 'state_stop' THEN e.payload->>'startEventId' ELSE e.event_id END AS state_ref, e.payload->>'target' AS target
        FROM live_sessions ls JOIN observations o ON o.id = ls.observation_id JOIN live_events e ON e.session_id = ls.id
        WHERE ${filed} AND e.type IN ('code', 'undo')),
      undone AS (SELECT DISTINCT session_id, target FROM ev WHERE type = 'undo'),
      states AS (SELECT ev.* FROM ev LEFT JOIN undone u ON u.session_id = ev.session_id AND u.target = ev.event_id
        WHERE ev.type = 'code' AND ev.kind IN ('state_start', 'state_stop') AND ev.actor_id IS NOT NULL AND u.target IS NULL)
      SELECT session_id::text AS session_id, min(actor_id::text) FILTER (WHERE kind = 'state_start') AS actor_id,
        min(behaviour) FILTER (WHERE kind = 'state_start') AS behaviour, min(at) FILTER (WHERE kind = 'state_start') AS "from",
        (array_agg(at ORDER BY seq) FILTER (WHERE kind = 'state_stop'))[1] AS "to"
      FROM states GROUP BY session_id, state_ref HAVING count(*) FILTER (WHERE kind = 'state_start') > 0`),
  ));
  const people = [...new Set(sessions.flatMap((s) => s.observers ?? []))];
  const names = people.length
    ? rowsOf<{ id: string; display_name: string }>(
        await db.execute(sql`SELECT id::text AS id, display_name FROM users WHERE id = ANY(ARRAY[${sql.join(people.map((p) => sql`${p}`), sql`, `)}]::uuid[])`),
      )
    : [];
  return {
    sessions: sessions.map((s) => ({ id: s.id, start: ms(s.start), end: ms(s.end), observers: s.observers ?? [] })),
    intervals: intervals.map((i) => ({ sessionId: i.session_id, observer: i.actor_id, behaviour: i.behaviour, from: ms(i.from), to: i.to === null ? null : ms(i.to) })),
    observerNames: new Map(names.map((n) => [n.id, n.display_name])),
  };
}
