import { sql, type SQL } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { rowsOf } from '../../core/db.ts';
import type { SuggestFilters } from './suggest-filters.ts';

/** Characters of the assistant's turns read per observation: the gist is early, and transfer costs. */
export const ASSISTANT_TEXT_CAP = 6_000;

/** An observation the clustering reads. */
export interface CandidateObservation {
  id: string;
  title: string;
  surprise: string;
  provider: string;
  model: string;
  observedAt: Date;
  /** Bumped by every edit: with the id, it says whether the text may have changed (the clustering cache's key). */
  revision: number;
  /** The assistant messages' text and refusal parts, one per line, capped at ASSISTANT_TEXT_CAP. */
  assistantText: string;
}

export interface Candidates {
  observations: CandidateObservation[];
  /** True when more observations qualified than the limit let in (the oldest were left out). */
  truncated: boolean;
}

/**
 * A behaviour code that does not count as a real code: one in the `unclear` list, or, without a list, a code or
 * key with a dash- or dot-separated part "unclear" or "other" (so OTHER and REF-OTHER, not ANOTHER).
 */
function unclearBehaviour(filters: SuggestFilters): SQL {
  if (filters.unclear?.length) return sql`b.code IN (${sql.join(filters.unclear.map((c) => sql`${c}`), sql`, `)})`;
  return sql`(b.code ~ '(^|-)(UNCLEAR|OTHER)(-|$)' OR b.key ~ '(^|[.-])(unclear|other)([.-]|$)')`;
}

/**
 * The observations the suggestions are drawn from, newest (by observed-at) first, at most `filters.limit`:
 * not deleted, readable by the actor, and with no coding that says what they show, that is no coding that is not
 * withdrawn, not rejected, not a classifier proposal awaiting review (the rule the observation list's behaviour
 * filter uses) and not of an "unclear"-like behaviour. The assistant text is extracted by PostgreSQL so whole
 * transcripts never travel.
 */
export async function loadCandidates(ctx: Ctx, filters: SuggestFilters): Promise<Candidates> {
  const conditions: SQL[] = [
    ctx.actor.kind === 'user' ? sql`o.deleted_at IS NULL` : sql`o.deleted_at IS NULL AND o.visibility = 'public'`,
    sql`NOT EXISTS (SELECT 1 FROM codings c JOIN behaviours b ON b.id = c.behaviour_id
      WHERE c.observation_id = o.id AND c.withdrawn_at IS NULL AND c.status <> 'rejected'
        AND NOT (c.status = 'proposed' AND c.classifier_id IS NOT NULL) AND NOT ${unclearBehaviour(filters)})`,
  ];
  if (filters.provider) conditions.push(sql`o.provider = ${filters.provider}`);
  if (filters.model) conditions.push(sql`o.model = ${filters.model}`);
  if (filters.tag) conditions.push(sql`o.tags @> ARRAY[${filters.tag}]::text[]`);
  if (filters.from) conditions.push(sql`o.observed_at >= ${`${filters.from}T00:00:00Z`}::timestamptz`);
  if (filters.to) conditions.push(sql`o.observed_at < (${`${filters.to}T00:00:00Z`}::timestamptz + interval '1 day')`);
  const rows = rowsOf<{ id: string; title: string; surprise: string; provider: string; model: string; observed_at: string | Date; revision: number; assistant_text: string }>(
    await ctx.db.execute(sql`
      SELECT o.id::text AS id, o.title, o.surprise, o.provider, o.model, o.observed_at, o.revision,
        left(coalesce((
          SELECT string_agg(p.part->>'text', E'\n' ORDER BY m.i, p.j)
          FROM jsonb_array_elements(o.transcript->'messages') WITH ORDINALITY AS m(message, i),
               jsonb_array_elements(m.message->'parts') WITH ORDINALITY AS p(part, j)
          WHERE m.message->>'role' = 'assistant' AND p.part->>'type' IN ('text', 'refusal') AND coalesce(p.part->>'text', '') <> ''
        ), ''), ${ASSISTANT_TEXT_CAP}) AS assistant_text
      FROM observations o
      WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY o.observed_at DESC NULLS LAST, o.id
      LIMIT ${filters.limit + 1}`),
  );
  const truncated = rows.length > filters.limit;
  return {
    truncated,
    observations: rows.slice(0, filters.limit).map((r) => ({
      id: r.id,
      title: r.title,
      surprise: r.surprise,
      provider: r.provider,
      model: r.model,
      observedAt: new Date(r.observed_at),
      revision: Number(r.revision),
      assistantText: r.assistant_text ?? '',
    })),
  };
}

/** An ethogram a suggested behaviour can be drafted into, as the form needs it. */
export interface DraftTarget {
  slug: string;
  name: string;
  /** The version the behaviour will land in: the open draft's number, or the number a new draft will get. */
  draftNumber: number;
  hasOpenDraft: boolean;
  /** The categories of the open draft, or of the newest version a new draft is copied from. */
  categories: Array<{ key: string; name: string }>;
  /** Codes already used there (a suggested code must avoid them). */
  codes: string[];
  /** The default ethogram's (the starter's, else the newest published one's). */
  isDefault: boolean;
}

/**
 * Every ethogram not deleted, with what a new behaviour would meet: the open draft, or else the newest version
 * (a new draft copies its categories and behaviours). The default is the ethogram of the default published
 * version (llm-starter when present). One statement; ethograms are few.
 */
export async function listDraftTargets(ctx: Ctx): Promise<DraftTarget[]> {
  const rows = rowsOf<{ slug: string; name: string; number: number; status: string; categories: Array<{ key: string; name: string }>; codes: string[] | null; is_default: boolean }>(
    await ctx.db.execute(sql`
      WITH newest AS (
        SELECT DISTINCT ON (v.ethogram_id) v.id, v.ethogram_id, v.number, v.status::text AS status, v.categories
        FROM ethogram_versions v ORDER BY v.ethogram_id, v.number DESC),
      default_ethogram AS (
        SELECT v.ethogram_id FROM ethogram_versions v JOIN ethograms e ON e.id = v.ethogram_id
        WHERE v.status = 'published' AND e.deleted_at IS NULL
        ORDER BY (e.slug = 'llm-starter') DESC, v.published_at DESC NULLS LAST LIMIT 1)
      SELECT e.slug, e.name, n.number, n.status, n.categories,
        (SELECT array_agg(b.code ORDER BY b.code) FROM behaviours b WHERE b.version_id = n.id) AS codes,
        EXISTS (SELECT 1 FROM default_ethogram d WHERE d.ethogram_id = e.id) AS is_default
      FROM ethograms e JOIN newest n ON n.ethogram_id = e.id
      WHERE e.deleted_at IS NULL
      ORDER BY e.name, e.slug`),
  );
  return rows.map((r) => ({
    slug: r.slug,
    name: r.name,
    draftNumber: r.status === 'draft' ? r.number : r.number + 1,
    hasOpenDraft: r.status === 'draft',
    categories: (r.categories ?? []).map((c) => ({ key: c.key, name: c.name })),
    codes: r.codes ?? [],
    isDefault: r.is_default,
  }));
}
