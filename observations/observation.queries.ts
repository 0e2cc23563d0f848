import { sql, type SQL } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';
import type { CodingRef, ObservationRef } from '../core/policy.ts';
import type { ListFilters } from './observation.input.ts';
import {
  excerpt,
  presentCoding,
  presentObservation,
  snippetMarkers,
  snippetSegments,
  type CodingRecord,
  type CodingView,
  type DeletedObservationItem,
  type FilterOptions,
  type ObservationHistoryView,
  type ObservationListItem,
  type ObservationListPage,
  type ObservationRecord,
  type ObservationView,
  type PersonView,
  type TagCount,
} from './observation.presenter.ts';
import type { ObservationStatus, Provenance, Visibility } from './observation.schema.ts';
import type { Transcript } from './transcript.schema.ts';

/**
 * Counting every match of a broad search over 100,000 observations costs more than the page itself; past this
 * many the list says "10,000+" instead of an exact figure.
 */
export const COUNT_CAP = 10_000;
/**
 * Searches count fewer ("1,000+"): a match left after other filters, and every candidate of a phrase query, is
 * checked against its TOASTed search vector, so counting 10,000 of them costs far more than the page.
 */
export const SEARCH_COUNT_CAP = 1_000;

/** Who may see what in lists: deleted ones never; anonymous visitors only public ones. */
function visibleTo(ctx: Ctx): SQL {
  return ctx.actor.kind === 'user' ? sql`o.deleted_at IS NULL` : sql`o.deleted_at IS NULL AND o.visibility = 'public'`;
}

/** Active codings: not withdrawn, not rejected. */
const activeCoding = sql`c.withdrawn_at IS NULL AND c.status <> 'rejected'`;

/** Ids of observations with an active coding of a behaviour matching the condition (on `b`, behaviours). */
function codedWith(behaviourCondition: SQL): SQL {
  return sql`SELECT DISTINCT c.observation_id FROM codings c
    WHERE c.behaviour_id = ANY(ARRAY(SELECT b.id FROM behaviours b WHERE ${behaviourCondition})) AND ${activeCoding}`;
}

function filterConditions(ctx: Ctx, f: ListFilters): SQL[] {
  const where: SQL[] = [visibleTo(ctx)];
  if (f.provider) where.push(sql`o.provider = ${f.provider}`);
  if (f.model) where.push(sql`o.model = ${f.model}`);
  if (f.status) where.push(sql`o.status = ${f.status}::observation_status`);
  if (f.tag) where.push(sql`o.tags @> ARRAY[${f.tag}]::text[]`);
  if (f.from) where.push(sql`o.observed_at >= ${f.from.toISOString()}::timestamptz`);
  if (f.to) where.push(sql`o.observed_at < ${endOfDay(f.to).toISOString()}::timestamptz`);
  // Observations coded with a behaviour (or one of a category) are collected from the codings first, into an
  // array: the cost then follows the number of codings, instead of walking the date index hoping to meet them.
  if (f.behaviour) where.push(sql`o.id = ANY(ARRAY(${codedWith(sql`b.code = ${f.behaviour.toUpperCase()}`)}))`);
  if (f.category) where.push(sql`o.id = ANY(ARRAY(${codedWith(sql`b.category = ${f.category}`)}))`);
  if (f.q) where.push(sql`o.search @@ websearch_to_tsquery('english', ${f.q})`);
  return where;
}

/** `to` is inclusive: a bare date means up to the end of that day (UTC). */
function endOfDay(d: Date): Date {
  const isMidnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0;
  return isMidnight ? new Date(d.getTime() + 86_400_000) : new Date(d.getTime() + 1);
}

/**
 * Sort orders written to match the indexes exactly (observed_at DESC NULLS LAST, id): a forward or backward
 * index scan then yields the page without sorting the table.
 */
function orderBy(sort: NonNullable<ListFilters['sort']>, searched: boolean, prefix: SQL): SQL {
  switch (sort) {
    case 'observed_asc':
      return sql`${prefix}observed_at ASC NULLS FIRST, ${prefix}id DESC`;
    case 'created_desc':
      return sql`${prefix}created_at DESC NULLS LAST, ${prefix}id ASC`;
    case 'relevance':
      if (searched) return sql`rank DESC, ${prefix}observed_at DESC NULLS LAST, ${prefix}id ASC`;
      return sql`${prefix}observed_at DESC NULLS LAST, ${prefix}id ASC`;
    default:
      return sql`${prefix}observed_at DESC NULLS LAST, ${prefix}id ASC`;
  }
}

interface ListRow {
  id: string;
  title: string;
  surprise: string;
  status: ObservationStatus;
  visibility: Visibility;
  provider: string;
  model: string;
  model_version: string | null;
  observed_at: string | Date;
  created_at: string | Date;
  submitted_by: string;
  display_name: string;
  tags: string[];
  behaviours: ObservationListItem['behaviours'] | string | null;
  rank: number | null;
  headline: string | null;
}

/**
 * Relevance is ts_rank over the full search vector, which must be read (de-TOASTed) for every row ranked: over
 * 100,000 observations a broad term matches most of them, so ranking all matches would take seconds. Relevance
 * therefore ranks the most recent `relevanceWindow` matches (or as many as the requested page needs). Phrase
 * searches ("...") check word positions in each candidate's vector, so they count and rank fewer.
 */
export function searchBudget(q: string): { countCap: number; relevanceWindow: number } {
  return q.includes('"') ? { countCap: 200, relevanceWindow: 100 } : { countCap: SEARCH_COUNT_CAP, relevanceWindow: 300 };
}

/**
 * Observations the actor may see, filtered, searched (PostgreSQL full text, `websearch_to_tsquery`), sorted and
 * paged. Two queries: a capped count first, then the page, whose shape the count chooses:
 * - no more matches than the cap: collect them through the indexes (bitmap scans), then sort them; the cost
 *   follows the number of matches, so rare and empty combinations stay fast whatever the data's correlations;
 * - more: walk the date index and stop when the page is full (matches are dense, so few rows are read).
 * Behaviours and snippets are computed for the page's rows only.
 */
export async function listObservations(ctx: Ctx, filters: ListFilters): Promise<ObservationListPage> {
  const where = sql.join(filterConditions(ctx, filters), sql` AND `);
  const searched = !!filters.q;
  const sort = filters.sort === 'relevance' && !searched ? 'observed_desc' : (filters.sort ?? (searched ? 'relevance' : 'observed_desc'));
  const offset = (filters.page - 1) * filters.pageSize;
  const query = sql`websearch_to_tsquery('english', ${filters.q ?? ''})`;

  return withPlannerHints(ctx.db, searched, async (db) => {
    const budget = searched ? searchBudget(filters.q!) : { countCap: COUNT_CAP, relevanceWindow: 0 };
    const cap = budget.countCap;
    const counted = rowsOf<{ n: number }>(
      await db.execute(sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM observations o WHERE ${where} LIMIT ${cap + 1}) s`),
    )[0]?.n ?? 0;
    const totalCapped = counted > cap;
    const total = totalCapped ? cap : Number(counted);
    const empty = { data: [], page: filters.page, pageSize: filters.pageSize, total, totalCapped, totalPages: Math.max(1, Math.ceil(total / filters.pageSize)) };
    if (total === 0 || (!totalCapped && offset >= total)) return empty;

    // The rows to consider: all matches when they are few (through the indexes), else the table itself.
    const source = totalCapped
      ? sql`(SELECT o.id, o.observed_at, o.created_at FROM observations o WHERE ${where})`
      : sql`matches`;
    const matchesCte = totalCapped
      ? sql``
      : sql`matches AS MATERIALIZED (SELECT o.id, o.observed_at, o.created_at FROM observations o WHERE ${where}),`;
    const pageCte =
      sort === 'relevance'
        ? sql`recent AS MATERIALIZED (
              SELECT m.id, m.observed_at, m.created_at FROM ${source} m
              ORDER BY m.observed_at DESC NULLS LAST, m.id LIMIT ${Math.max(budget.relevanceWindow, offset + filters.pageSize)}),
            page AS (
              SELECT r.id, r.observed_at, r.created_at, ts_rank(o.search, ${query}) AS rank
              FROM recent r JOIN observations o ON o.id = r.id
              ORDER BY rank DESC, r.observed_at DESC NULLS LAST, r.id LIMIT ${filters.pageSize} OFFSET ${offset})`
        : sql`page AS (
              SELECT m.id, m.observed_at, m.created_at, NULL::real AS rank FROM ${source} m
              ORDER BY ${orderBy(sort, searched, sql`m.`)} LIMIT ${filters.pageSize} OFFSET ${offset})`;
    // ts_headline returns the document's own text: the markers are control characters stripped from the
    // document first, and the presenter turns the result into plain-text segments (never markup). The snippet
    // comes from the title and what was surprising when they match (cheap), else from the transcript's start.
    const headlineOptions = `StartSel=${snippetMarkers.start}, StopSel=${snippetMarkers.stop}, MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`;
    const stripMarkers = (text: SQL) => sql`translate(${text}, E'\\x02\\x03', '')`;
    const headline = searched
      ? sql`CASE WHEN to_tsvector('english', o.title || ' ' || o.surprise) @@ ${query}
          THEN ts_headline('english', ${stripMarkers(sql`o.title || E'\n' || o.surprise`)}, ${query}, ${headlineOptions})
          ELSE ts_headline('english', ${stripMarkers(sql`coalesce((
            SELECT left(string_agg(t.value #>> '{}', E'\n'), ${SNIPPET_SOURCE_CHARS})
            FROM jsonb_path_query(o.transcript, '$.messages[*].parts[*].text') AS t(value)), o.surprise)`)}, ${query}, ${headlineOptions})
          END`
      : sql`NULL::text`;

    const rows = rowsOf<ListRow>(
      await db.execute(sql`
        WITH ${matchesCte} ${pageCte}
        SELECT o.id, o.title, left(o.surprise, 400) AS surprise, o.status, o.visibility, o.provider, o.model, o.model_version,
               o.observed_at, o.created_at, o.submitted_by, u.display_name, o.tags, p.rank,
               (SELECT coalesce(json_agg(json_build_object('code', x.code, 'name', x.name, 'category', x.category, 'colour', x.colour) ORDER BY x.code), '[]'::json)
                  FROM (SELECT DISTINCT b.code, b.name, b.category, b.colour FROM codings c JOIN behaviours b ON b.id = c.behaviour_id
                        WHERE c.observation_id = o.id AND ${activeCoding}) x) AS behaviours,
               ${headline} AS headline
        FROM page p JOIN observations o ON o.id = p.id JOIN users u ON u.id = o.submitted_by
        ORDER BY ${orderBy(sort, searched, sql`p.`)}`),
    );
    return { ...empty, data: rows.map(presentListRow) };
  });
}

/** Characters of transcript text a search snippet is cut from (ts_headline's cost grows with the text). */
const SNIPPET_SOURCE_CHARS = 5_000;

/**
 * Full-text matches must come from the GIN index: checking `search @@ q` row by row reads each row's large,
 * TOASTed vector, which the planner does not price in and which made a sequential scan 20x slower than the
 * bitmap scan it thought equal. Searches therefore run with sequential scans disabled, in a transaction so the
 * setting ends with it.
 */
async function withPlannerHints<T>(db: Db, searched: boolean, work: (db: Db) => Promise<T>): Promise<T> {
  if (!searched) return work(db);
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`SET LOCAL enable_seqscan = off`);
    return work(tx);
  });
}

function presentListRow(r: ListRow): ObservationListItem {
  const behaviours = typeof r.behaviours === 'string' ? JSON.parse(r.behaviours) : (r.behaviours ?? []);
  return {
    id: r.id,
    title: r.title,
    surpriseExcerpt: excerpt(r.surprise),
    status: r.status,
    visibility: r.visibility,
    provider: r.provider,
    model: r.model,
    modelVersion: r.model_version,
    observedAt: toIso(r.observed_at),
    createdAt: toIso(r.created_at),
    submittedBy: { id: r.submitted_by, displayName: r.display_name },
    tags: r.tags ?? [],
    behaviours,
    snippet: r.headline === null || r.headline === undefined ? null : snippetSegments(r.headline),
    rank: r.rank === null || r.rank === undefined ? null : Number(r.rank),
  };
}

const toIso = (d: string | Date) => (d instanceof Date ? d : new Date(d)).toISOString();

interface ObservationRow {
  id: string;
  title: string;
  surprise: string;
  status: ObservationStatus;
  duplicate_of: string | null;
  visibility: Visibility;
  provider: string;
  model: string;
  model_version: string | null;
  provenance: Provenance | string;
  observed_at: string | Date;
  created_at: string | Date;
  updated_at: string | Date;
  revision: number;
  submitted_by: string;
  display_name: string;
  raw_sha256: string;
  transcript: Transcript | string;
  evidence_links: string[] | string;
  tags: string[];
  deleted_at: string | Date | null;
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

/** An observation row as the presenter takes it. */
export function observationRecordOf(r: ObservationRow): ObservationRecord {
  return {
    id: r.id,
    title: r.title,
    surprise: r.surprise,
    status: r.status,
    duplicateOf: r.duplicate_of,
    visibility: r.visibility,
    provider: r.provider,
    model: r.model,
    modelVersion: r.model_version,
    provenance: json(r.provenance),
    observedAt: new Date(r.observed_at),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    revision: r.revision,
    submittedBy: r.submitted_by,
    rawSha256: r.raw_sha256,
    transcript: json(r.transcript),
    evidenceLinks: json(r.evidence_links),
    tags: r.tags ?? [],
    deletedAt: r.deleted_at ? new Date(r.deleted_at) : null,
  };
}

/** The columns of an observation (everything but the raw payload and the search vector) and its submitter's name. */
export const observationColumns = sql`o.id, o.title, o.surprise, o.status, o.duplicate_of, o.visibility, o.provider, o.model,
  o.model_version, o.provenance, o.observed_at, o.created_at, o.updated_at, o.revision, o.submitted_by, o.raw_sha256,
  o.transcript, o.evidence_links, o.tags, o.deleted_at`;

/** One observation row with its submitter, or undefined (deleted ones included). */
export async function loadObservationRow(db: Db, id: string, opts: { forUpdate?: boolean } = {}) {
  const rows = rowsOf<ObservationRow>(
    await db.execute(sql`SELECT ${observationColumns}, u.display_name FROM observations o JOIN users u ON u.id = o.submitted_by
      WHERE o.id = ${id}::uuid ${opts.forUpdate ? sql`FOR UPDATE OF o` : sql``}`),
  );
  const row = rows[0];
  return row ? { record: observationRecordOf(row), submitter: { id: row.submitted_by, displayName: row.display_name } as PersonView } : undefined;
}

/** One observation with its codings (deleted ones too: the caller authorizes). Null when there is none. */
export async function getObservation(ctx: Ctx, id: string): Promise<ObservationView | null> {
  const [loaded, codings] = await Promise.all([loadObservationRow(ctx.db, id), listCodings(ctx, id, { includeWithdrawn: true })]);
  if (!loaded) return null;
  return presentObservation(loaded.record, loaded.submitter, codings);
}

/** The raw payload as it was sent, with its sha256 (deleted ones too: the caller authorizes). */
export async function getRawPayload(db: Db, id: string): Promise<{ raw: string; sha256: string } | null> {
  const rows = rowsOf<{ raw_payload: string; raw_sha256: string }>(
    await db.execute(sql`SELECT raw_payload, raw_sha256 FROM observations WHERE id = ${id}::uuid`),
  );
  return rows[0] ? { raw: rows[0].raw_payload, sha256: rows[0].raw_sha256 } : null;
}

/** The facts authorization needs about an observation, or null. */
export async function loadObservationRef(db: Db, id: string): Promise<ObservationRef | null> {
  const rows = rowsOf<{ submitted_by: string; visibility: Visibility; deleted_at: string | Date | null }>(
    await db.execute(sql`SELECT submitted_by, visibility, deleted_at FROM observations WHERE id = ${id}::uuid`),
  );
  const r = rows[0];
  return r ? { submittedBy: r.submitted_by, visibility: r.visibility, deletedAt: r.deleted_at ? new Date(r.deleted_at) : null } : null;
}

/** The facts authorization needs about a coding and the observation it belongs to, or null. */
export async function loadCodingRef(db: Db, id: string): Promise<(CodingRef & { observationId: string; observation: ObservationRef }) | null> {
  const rows = rowsOf<{ coder_id: string; observation_id: string; submitted_by: string; visibility: Visibility; deleted_at: string | Date | null }>(
    await db.execute(sql`SELECT c.coder_id, c.observation_id, o.submitted_by, o.visibility, o.deleted_at
      FROM codings c JOIN observations o ON o.id = c.observation_id WHERE c.id = ${id}::uuid`),
  );
  const r = rows[0];
  if (!r) return null;
  return {
    coderId: r.coder_id,
    observationId: r.observation_id,
    observation: { submittedBy: r.submitted_by, visibility: r.visibility, deletedAt: r.deleted_at ? new Date(r.deleted_at) : null },
  };
}

interface CodingRow {
  id: string;
  observation_id: string;
  message_id: string | null;
  part_index: number | null;
  char_start: number | null;
  char_end: number | null;
  quote: string | null;
  modifiers: Record<string, unknown> | string;
  method: CodingView['method'];
  confidence: number | null;
  rationale: string;
  status: CodingView['status'];
  revision: number;
  created_at: string | Date;
  withdrawn_at: string | Date | null;
  behaviour_id: string;
  behaviour_key: string;
  behaviour_code: string;
  behaviour_name: string;
  behaviour_category: string;
  behaviour_colour: string;
  version_id: string;
  version_number: number;
  ethogram_slug: string;
  coder_id: string;
  coder_name: string;
  withdrawn_by: string | null;
  withdrawn_by_name: string | null;
}

const codingSelect = sql`SELECT c.id, c.observation_id, c.message_id, c.part_index, c.char_start, c.char_end, c.quote, c.modifiers,
    c.method, c.confidence, c.rationale, c.status, c.revision, c.created_at, c.withdrawn_at,
    b.id AS behaviour_id, b.key AS behaviour_key, b.code AS behaviour_code, b.name AS behaviour_name,
    b.category AS behaviour_category, b.colour AS behaviour_colour,
    v.id AS version_id, v.number AS version_number, e.slug AS ethogram_slug,
    c.coder_id, cu.display_name AS coder_name, c.withdrawn_by, wu.display_name AS withdrawn_by_name
  FROM codings c
  JOIN behaviours b ON b.id = c.behaviour_id
  JOIN ethogram_versions v ON v.id = c.ethogram_version_id
  JOIN ethograms e ON e.id = v.ethogram_id
  JOIN users cu ON cu.id = c.coder_id
  LEFT JOIN users wu ON wu.id = c.withdrawn_by`;

function codingRecordOf(r: CodingRow): CodingRecord {
  return {
    id: r.id,
    observationId: r.observation_id,
    messageId: r.message_id,
    partIndex: r.part_index,
    charStart: r.char_start,
    charEnd: r.char_end,
    quote: r.quote,
    modifiers: json(r.modifiers),
    method: r.method,
    confidence: r.confidence === null ? null : Number(r.confidence),
    rationale: r.rationale,
    status: r.status,
    revision: r.revision,
    createdAt: r.created_at,
    withdrawnAt: r.withdrawn_at,
    behaviour: { id: r.behaviour_id, key: r.behaviour_key, code: r.behaviour_code, name: r.behaviour_name, category: r.behaviour_category, colour: r.behaviour_colour },
    ethogramVersion: { id: r.version_id, slug: r.ethogram_slug, number: r.version_number },
    coder: { id: r.coder_id, displayName: r.coder_name },
    withdrawnBy: r.withdrawn_by ? { id: r.withdrawn_by, displayName: r.withdrawn_by_name ?? '' } : null,
  };
}

/** Codings of one observation, oldest first; withdrawn ones only when asked. */
export async function listCodings(ctx: Ctx, observationId: string, opts: { includeWithdrawn?: boolean } = {}): Promise<CodingView[]> {
  const rows = rowsOf<CodingRow>(
    await ctx.db.execute(sql`${codingSelect} WHERE c.observation_id = ${observationId}::uuid
      ${opts.includeWithdrawn ? sql`` : sql`AND c.withdrawn_at IS NULL`}
      ORDER BY c.created_at, c.id`),
  );
  return rows.map((r) => presentCoding(codingRecordOf(r)));
}

/** One coding with its behaviour, version and people, or null. */
export async function getCoding(db: Db, id: string): Promise<CodingView | null> {
  const rows = rowsOf<CodingRow>(await db.execute(sql`${codingSelect} WHERE c.id = ${id}::uuid`));
  return rows[0] ? presentCoding(codingRecordOf(rows[0])) : null;
}

/** Revisions and events of an observation and its codings, newest first, with actor names. */
export async function getObservationHistory(ctx: Ctx, id: string): Promise<ObservationHistoryView> {
  const entities = sql`((x.entity_type = 'observation' AND x.entity_id = ${id})
    OR (x.entity_type = 'coding' AND x.entity_id IN (SELECT c.id::text FROM codings c WHERE c.observation_id = ${id}::uuid)))`;
  const [revisionRows, eventRows] = await Promise.all([
    ctx.db.execute(sql`SELECT x.id, x.entity_type, x.entity_id, x.revision, x.reason, x.snapshot, x.actor_id, u.display_name, x.at
      FROM revisions x LEFT JOIN users u ON u.id = x.actor_id WHERE ${entities} ORDER BY x.at DESC, x.id DESC LIMIT 500`),
    ctx.db.execute(sql`SELECT x.id, x.type, x.entity_type, x.entity_id, x.payload, x.actor_id, u.display_name, x.at
      FROM events x LEFT JOIN users u ON u.id = x.actor_id WHERE ${entities} ORDER BY x.at DESC, x.id DESC LIMIT 500`),
  ]);
  type Base = { id: number | string; entity_type: string; entity_id: string; actor_id: string | null; display_name: string | null; at: string | Date };
  const actorOf = (r: Base) => (r.actor_id ? { id: r.actor_id, displayName: r.display_name ?? '' } : null);
  return {
    revisions: rowsOf<Base & { revision: number; reason: string; snapshot: Record<string, unknown> | string }>(revisionRows).map((r) => ({
      id: Number(r.id),
      entityType: r.entity_type,
      entityId: r.entity_id,
      revision: r.revision,
      reason: r.reason,
      snapshot: json(r.snapshot),
      actor: actorOf(r),
      at: toIso(r.at),
    })),
    events: rowsOf<Base & { type: string; payload: Record<string, unknown> | string }>(eventRows).map((r) => ({
      id: Number(r.id),
      type: r.type,
      entityType: r.entity_type,
      entityId: r.entity_id,
      actor: actorOf(r),
      payload: json(r.payload),
      at: toIso(r.at),
    })),
  };
}

/**
 * Tags in use on observations the actor may see, with counts (most used first, at most 500). Counting them
 * reads every observation's tags (a tenth of a second at 100,000 rows), so the result is cached briefly per
 * database and audience, and dropped whenever this process writes an observation (`observationsChanged`).
 */
export async function listTags(ctx: Ctx): Promise<TagCount[]> {
  const audience = ctx.actor.kind === 'user' ? 'members' : 'public';
  const cached = tagCache.get(ctx.db)?.[audience];
  if (cached && cached.generation === writeGeneration && Date.now() - cached.at < TAG_CACHE_MS) return cached.tags;
  const generation = writeGeneration;
  const rows = rowsOf<{ tag: string; n: number }>(
    await ctx.db.execute(sql`SELECT t.tag, count(*)::int AS n FROM observations o, unnest(o.tags) AS t(tag)
      WHERE ${visibleTo(ctx)} GROUP BY t.tag ORDER BY n DESC, t.tag LIMIT 500`),
  );
  const tags = rows.map((r) => ({ tag: r.tag, count: Number(r.n) }));
  const entry = tagCache.get(ctx.db) ?? {};
  entry[audience] = { at: Date.now(), generation, tags };
  tagCache.set(ctx.db, entry);
  return tags;
}

const TAG_CACHE_MS = 15_000;
const tagCache = new WeakMap<object, Partial<Record<'members' | 'public', { at: number; generation: number; tags: TagCount[] }>>>();
let writeGeneration = 0;

/** Called by every command that writes observations, so cached aggregates (tag counts) are recomputed. */
export function observationsChanged(): void {
  writeGeneration++;
}

/** Tombstoned observations, newest deletion first (the admin trash page). */
export async function listDeletedObservations(ctx: Ctx): Promise<DeletedObservationItem[]> {
  const rows = rowsOf<{
    id: string; title: string; provider: string; model: string; submitted_by: string; submitter_name: string;
    deleted_at: string | Date; deleted_by: string | null; deleter_name: string | null;
  }>(
    await ctx.db.execute(sql`SELECT o.id, o.title, o.provider, o.model, o.submitted_by, su.display_name AS submitter_name,
        o.deleted_at, o.deleted_by, du.display_name AS deleter_name
      FROM observations o JOIN users su ON su.id = o.submitted_by LEFT JOIN users du ON du.id = o.deleted_by
      WHERE o.deleted_at IS NOT NULL ORDER BY o.deleted_at DESC, o.id LIMIT 1000`),
  );
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    provider: r.provider,
    model: r.model,
    submittedBy: { id: r.submitted_by, displayName: r.submitter_name },
    deletedAt: toIso(r.deleted_at),
    deletedBy: r.deleted_by ? { id: r.deleted_by, displayName: r.deleter_name ?? '' } : null,
  }));
}

/**
 * Distinct providers and models of observations the actor may see, for the list page's selects. A loose index
 * scan walks the (provider, model) index from one distinct pair to the next, so the cost follows the number of
 * pairs, not of observations; each pair is kept if one visible observation has it.
 */
export async function listFilterOptions(ctx: Ctx): Promise<FilterOptions> {
  const rows = rowsOf<{ provider: string; model: string }>(
    await ctx.db.execute(sql`WITH RECURSIVE pairs AS (
        (SELECT provider, model FROM observations ORDER BY provider, model LIMIT 1)
        UNION ALL
        SELECT next.provider, next.model FROM pairs, LATERAL (
          SELECT n.provider, n.model FROM observations n WHERE (n.provider, n.model) > (pairs.provider, pairs.model)
          ORDER BY n.provider, n.model LIMIT 1) next)
      SELECT p.provider, p.model FROM pairs p
      WHERE EXISTS (SELECT 1 FROM observations o WHERE o.provider = p.provider AND o.model = p.model AND ${visibleTo(ctx)})
      LIMIT 2000`),
  );
  return {
    providers: [...new Set(rows.map((r) => r.provider))],
    models: [...new Set(rows.map((r) => r.model))].sort((a, b) => a.localeCompare(b)),
  };
}

