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
import { BLIND_NOTICE, blindObservationIds, hasOpenBlindAssignments, isBlindTo, openBlindAssignment } from './review/blind.queries.ts';

/**
 * Counting every match of a broad search over 100,000 observations costs more than the page itself; past this
 * many the list says "10,000+" instead of an exact figure.
 */
export const COUNT_CAP = 10_000;
/**
 * Searches count fewer ("300+"): a match left after other filters, and every candidate of a phrase query, is
 * checked against its TOASTed search vector (about 10 µs each), so counting 10,000 of them costs far more than
 * the page. 300 is the relevance window (see searchBudget): relevance reads that many matches anyway, so the
 * count adds one more. Counting to 1,000 took two thirds of a broad search's time over 100,000 observations.
 */
export const SEARCH_COUNT_CAP = 300;

/** Who may see what in lists: deleted ones never; anonymous visitors only public ones. */
function visibleTo(ctx: Ctx): SQL {
  return ctx.actor.kind === 'user' ? sql`o.deleted_at IS NULL` : sql`o.deleted_at IS NULL AND o.visibility = 'public'`;
}

/**
 * Codings that say what an observation shows: not withdrawn, not rejected, and not a classifier's proposal still
 * waiting in the review queue (it counts once a person accepts it). A contributor's own suggested codes (proposed
 * with the observation) do count: they are part of what the contributor reported.
 */
const activeCoding = sql`c.withdrawn_at IS NULL AND c.status <> 'rejected' AND NOT (c.status = 'proposed' AND c.classifier_id IS NOT NULL)`;

/** Ids of observations with an active coding of a behaviour matching the condition (on `b`, behaviours). */
function codedWith(behaviourCondition: SQL, blindCoderId?: string): SQL {
  // A coder with open blind assignments must not learn from the filter that others coded those observations.
  const visible = blindCoderId ? sql` AND (c.coder_id = ${blindCoderId}::uuid OR NOT ${openBlindAssignment(sql`c.observation_id`, blindCoderId)})` : sql``;
  return sql`SELECT DISTINCT c.observation_id FROM codings c
    WHERE c.behaviour_id = ANY(ARRAY(SELECT b.id FROM behaviours b WHERE ${behaviourCondition})) AND ${activeCoding}${visible}`;
}

/** The list filters as conditions on `o` (observations), visibility and the full-text match apart. */
interface FilterConditions {
  /** Conditions that can bound a scan of a date index: model and status lead an index ending in the date; from and to are date ranges. */
  walkable: SQL[];
  /** Other conditions on the row's columns. */
  other: SQL[];
  /** Coded-with filters as arrays of ids (for index scans), and the same as hashed sets (for checking rows one by one). */
  codedIds: SQL[];
  codedSet: SQL[];
  /** The coded-with filters' id queries themselves (SELECT DISTINCT observation_id ...). */
  codedQueries: SQL[];
  /** The columns `other` conditions read (after `o.id`), for walks that check them row by row. */
  otherColumns: SQL;
}

function filterConditions(f: ListFilters, blindCoderId?: string): FilterConditions {
  const c: FilterConditions = { walkable: [], other: [], codedIds: [], codedSet: [], codedQueries: [], otherColumns: sql`` };
  if (f.provider) c.other.push(sql`o.provider = ${f.provider}`);
  if (f.model) c.walkable.push(sql`o.model = ${f.model}`);
  if (f.status) c.walkable.push(sql`o.status = ${f.status}::observation_status`);
  if (f.tag) c.other.push(sql`o.tags @> ARRAY[${f.tag}]::text[]`);
  if (f.from) c.walkable.push(sql`o.observed_at >= ${f.from.toISOString()}::timestamptz`);
  if (f.to) c.walkable.push(sql`o.observed_at < ${endOfDay(f.to).toISOString()}::timestamptz`);
  // Observations coded with a behaviour (or one of a category) are collected from the codings first, into an
  // array: the cost then follows the number of codings, instead of walking the date index hoping to meet them.
  // Checking rows one by one, a linear search of that array would cost its length per row: a sublink inside
  // CASE stays a subplan, which PostgreSQL hashes.
  const coded = (behaviourCondition: SQL) => {
    c.codedIds.push(sql`o.id = ANY(ARRAY(${codedWith(behaviourCondition, blindCoderId)}))`);
    c.codedSet.push(sql`CASE WHEN true THEN o.id IN (${codedWith(behaviourCondition, blindCoderId)}) END`);
    c.codedQueries.push(codedWith(behaviourCondition, blindCoderId));
  };
  if (f.behaviour) coded(sql`b.code = ${f.behaviour.toUpperCase()}`);
  if (f.category) coded(sql`b.category = ${f.category}`);
  c.otherColumns = sql`${f.provider ? sql`, o.provider` : sql``}${f.tag ? sql`, o.tags` : sql``}`;
  return c;
}

/** `to` is inclusive: a bare date means up to the end of that day (UTC). */
function endOfDay(d: Date): Date {
  const isMidnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0;
  return isMidnight ? new Date(d.getTime() + 86_400_000) : new Date(d.getTime() + 1);
}

type Sort = NonNullable<ListFilters['sort']>;

/**
 * Sort orders written to match the indexes exactly (observed_at DESC NULLS LAST, id): a forward or backward
 * index scan then yields the page without sorting the table.
 */
function orderBy(sort: Sort, searched: boolean, prefix: SQL): SQL {
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

/** What one list request asks for, resolved: the conditions, the sort, the page and the count cap. */
interface ListPlan {
  visible: SQL;
  /** Signed-in people see every observation that is not deleted; anonymous visitors public ones only. */
  members: boolean;
  filters: FilterConditions;
  /** The filters are provider (and model) only, or coded-with ones only: they have faster exact counts. */
  providerOnly: boolean;
  codedOnly: boolean;
  /** The parsed search (`websearch_to_tsquery`), when searched. */
  query: SQL | null;
  sort: Sort;
  offset: number;
  pageSize: number;
  cap: number;
  relevanceWindow: number;
}

/**
 * Observations the actor may see, filtered, searched (PostgreSQL full text, `websearch_to_tsquery`), sorted and
 * paged. The matches are counted up to the cap, and the page's shape follows the count:
 * - few matches: collect them through the indexes (bitmap scans), then sort them; the cost follows the number
 *   of matches, so rare and empty combinations stay fast whatever the data's correlations;
 * - more: walk a date index and stop when the page is full (matches are dense, so few rows are read). Below
 *   the cap the walk is bounded, and when it gives up (matches sparse among recent rows) the matches are
 *   collected after all.
 * Some common shapes count faster (see fastCount, codedList, searchFirst), and filtered lists count and take
 * their page in one statement (countedPage). Behaviours and snippets are computed for the page's rows only.
 */
export async function listObservations(ctx: Ctx, filters: ListFilters): Promise<ObservationListPage> {
  const blindCoderId = (filters.behaviour || filters.category) && ctx.actor.kind === 'user' && (await hasOpenBlindAssignments(ctx.db, ctx.actor.id)) ? ctx.actor.id : undefined;
  const plan = listPlan(ctx, filters, blindCoderId);
  const { rows, counted } = plan.query ? await searchList(ctx.db, plan, plan.query) : await plainList(ctx.db, plan);
  const totalCapped = counted > plan.cap;
  const total = totalCapped ? plan.cap : counted;
  // A blind coder's list shows no behaviours others coded on the observations they are coding blind.
  const blind = await blindObservationIds(ctx.db, ctx.actor, rows.map((r) => r.id));
  if (blind.size > 0 && ctx.actor.kind === 'user') await ownBehavioursOnly(ctx.db, ctx.actor.id, rows.filter((r) => blind.has(r.id)));
  return {
    data: rows.map(presentListRow),
    page: filters.page,
    pageSize: filters.pageSize,
    total,
    totalCapped,
    totalPages: Math.max(1, Math.ceil(total / filters.pageSize)),
  };
}

/**
 * The conditions on `o` (observations) that select exactly what the list shows the actor for these filters
 * (visibility, every filter, the full-text match), for readers of the whole set rather than a page (exports).
 * `blindCoderId` is set when coded-with filters must ignore others' codings the actor is coding blind.
 */
export async function listedConditions(ctx: Ctx, filters: ListFilters): Promise<{ conditions: SQL[]; blindCoderId: string | undefined }> {
  const blindCoderId = ctx.actor.kind === 'user' && (await hasOpenBlindAssignments(ctx.db, ctx.actor.id)) ? ctx.actor.id : undefined;
  return { conditions: allConditions(listPlan(ctx, filters, blindCoderId)), blindCoderId };
}

function listPlan(ctx: Ctx, filters: ListFilters, blindCoderId?: string): ListPlan {
  const searched = !!filters.q;
  const budget = searched ? searchBudget(filters.q!) : { countCap: COUNT_CAP, relevanceWindow: 0 };
  const given = (['provider', 'model', 'status', 'tag', 'from', 'to', 'behaviour', 'category'] as const).filter((k) => filters[k] !== undefined);
  return {
    visible: visibleTo(ctx),
    members: ctx.actor.kind === 'user',
    filters: filterConditions(filters, blindCoderId),
    providerOnly: given.includes('provider') && given.every((k) => k === 'provider' || k === 'model'),
    codedOnly: given.length > 0 && given.every((k) => k === 'behaviour' || k === 'category'),
    query: searched ? sql`websearch_to_tsquery('english', ${filters.q!})` : null,
    sort: filters.sort === 'relevance' && !searched ? 'observed_desc' : (filters.sort ?? (searched ? 'relevance' : 'observed_desc')),
    offset: (filters.page - 1) * filters.pageSize,
    pageSize: filters.pageSize,
    cap: budget.countCap,
    relevanceWindow: budget.relevanceWindow,
  };
}

/** A page's rows and the count of matches (cap + 1 standing for "more than the cap"). */
type Listed = { rows: ListRow[]; counted: number };

/** Whether a page is empty whatever its matches: none, or the page is past the last one counted. */
const nothingToShow = (p: ListPlan, counted: number) => counted === 0 || (counted <= p.cap && p.offset >= counted);

/** An unsearched list: the coded-with shape in one statement, else a count and a page. */
async function plainList(db: Db, p: ListPlan): Promise<Listed> {
  const coded = await codedList(db, p);
  if (coded) return coded;
  const collected = await countedPage(db, p);
  if (collected) return collected;
  const counted = await countMatches(db, p);
  return { rows: nothingToShow(p, counted) ? [] : await listPage(db, p, counted), counted };
}

/**
 * A list with filters checked row by row (tag, provider beside others, coded-with) whose count reads every match
 * (no fast count applies), counted and paged in one statement: the matches the count reads (up to cap + 1) are
 * kept with their date, and when they are all of them the page is sorted from them, as collectedPage would.
 * Counting and then collecting read the same matches twice, and a walk tried in between gives up when those
 * filters are correlated with dates (a tag used in some months), which made such lists three statements. With
 * more than the cap, the page is listPage's walk. Null when it does not apply: fast counts, and lists filtered
 * only by what leads an index (model, status, dates) or not at all, whose walks seldom give up and whose matches
 * are often more than the cap (keeping cap + 1 of them would cost more than it saves).
 */
async function countedPage(db: Db, p: ListPlan): Promise<Listed | null> {
  const f = p.filters;
  if (fastCount(p) || f.other.length + f.codedIds.length === 0) return null;
  const ord = (prefix: SQL) => orderBy(p.sort, false, prefix);
  const result = rowsOf<ListRow & { matched: number }>(
    await db.execute(sql`WITH matches AS MATERIALIZED (
          SELECT o.id, ${datesFor(p.sort)} FROM observations o WHERE ${and(allConditions(p))} LIMIT ${p.cap + 1}),
        counted AS (SELECT count(*)::int AS n FROM matches),
        page AS (
          SELECT m.id, m.observed_at, m.created_at, NULL::real AS rank FROM matches m
          WHERE (SELECT n FROM counted) <= ${p.cap}
          ORDER BY ${ord(sql`m.`)} LIMIT ${p.pageSize} OFFSET ${p.offset})
      SELECT c.n AS matched, r.* FROM counted c LEFT JOIN LATERAL (${pageRows(p, sql`page`)}) r ON true`),
  );
  const counted = Number(result[0]?.matched ?? 0);
  if (counted > p.cap) return { rows: await listPage(db, p, counted), counted };
  return { rows: result.filter((r) => r.id !== null), counted };
}

/** A search: searchFirst when the words are common, else, with planner settings, a count and a page. */
async function searchList(db: Db, p: ListPlan, query: SQL): Promise<Listed> {
  const shape = searchShape(p);
  const first = await searchFirst(db, p, query, shape);
  if (first.found) return first.found;
  return inTransaction(db, async (tx) => {
    // Full-text matches must come from the GIN index: checking `search @@ q` row by row reads each row's large,
    // TOASTed vector, which the planner does not price in, so it takes a sequential scan, or a walk of some
    // index for the LIMIT, to be as cheap as the bitmap scan (they are up to 20 times slower). The count runs
    // with both disabled, and so does the page when all matches are collected; when there are many, the page
    // walks an index (checking the match on few rows), so the count enables index scans again for it. JIT is
    // off: a disabled scan that must still be planned (behaviours by category) costs enough to trigger it, and
    // compiling takes 100-250 ms. All settings are local: they end with the transaction.
    await tx.execute(sql`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true), set_config('jit', 'off', true)`);
    const counted = Number(
      rowsOf<{ n: number }>(
        await tx.execute(sql`SELECT count(*)::int AS n, set_config('enable_indexscan', CASE WHEN count(*) > ${p.cap} THEN 'on' ELSE 'off' END, true) AS hint
          FROM (SELECT 1 FROM observations o WHERE ${and(allConditions(p))} LIMIT ${p.cap + 1}) s`),
      )[0]?.n ?? 0,
    );
    return { rows: nothingToShow(p, counted) ? [] : await searchPage(tx, p, query, shape, counted, first.probe), counted };
  });
}

const and = (conditions: SQL[]) => sql.join(conditions, sql` AND `);

/** Every condition of a list: visibility, filters (coded ones as id arrays) and the full-text match. */
function allConditions(p: ListPlan): SQL[] {
  const f = p.filters;
  return [p.visible, ...f.walkable, ...f.other, ...f.codedIds, ...(p.query ? [sql`o.search @@ ${p.query}`] : [])];
}

/** Conditions checked row by row during a walk of a date index bounded by the `walkable` ones. */
function rowChecks(p: ListPlan): SQL {
  return hasRowChecks(p) ? and([...p.filters.other, ...p.filters.codedSet]) : sql`true`;
}

const hasRowChecks = (p: ListPlan) => p.filters.other.length + p.filters.codedSet.length > 0;

/** Matches carry the one date they are sorted by, so collecting them can stay within that date's index. */
function datesFor(sort: Sort): SQL {
  return sort === 'created_desc' ? sql`NULL::timestamptz AS observed_at, o.created_at` : sql`o.observed_at, NULL::timestamptz AS created_at`;
}

/**
 * The page's rows with their columns, behaviours and snippets, from `page` (a subquery or CTE name yielding id,
 * observed_at, created_at and rank), after the optional CTEs in `withs`; `extra` adds a column to every row.
 */
function pageRows(p: ListPlan, page: SQL, withs?: SQL, extra?: SQL): SQL {
  return sql`${withs ? sql`WITH ${withs}` : sql``}
    SELECT ${extra ? sql`${extra}, ` : sql``}o.id, o.title, left(o.surprise, 400) AS surprise, o.status, o.visibility, o.provider, o.model,
      o.model_version, o.observed_at, o.created_at, o.submitted_by, u.display_name, o.tags, p.rank,
      ${behavioursOf(sql`o.id`)} AS behaviours, ${p.query ? headlineOf(p.query) : sql`NULL::text`} AS headline
    FROM ${page} p JOIN observations o ON o.id = p.id JOIN users u ON u.id = o.submitted_by
    ORDER BY ${orderBy(p.sort, !!p.query, sql`p.`)}`;
}

/** With no more matches than this, a page is always sorted from all of them (collecting them costs little). */
const FEW_MATCHES = 1_000;
/** Rows a bounded walk reads per row it needs, at least; past that it gives up. */
const WALK_FACTOR = 8;
const WALK_MIN = 2_000;

/**
 * An unsearched list's page, `counted` matches known:
 * - more than the cap: a walk of the sort's index (matches are dense);
 * - more than FEW_MATCHES, for a page among the first quarter of them: a walk bounded to WALK_FACTOR times
 *   the rows needed, led by the filters that lead an index ending in the date (model, status, dates) and
 *   checking the others row by row (coded-with ones against a hashed set of ids); when it comes back short of
 *   the rows the count promises, it gave up;
 * - otherwise, or when the walk gave up: the matches collected through the indexes and sorted.
 */
async function listPage(db: Db, p: ListPlan, counted: number): Promise<ListRow[]> {
  const { sort, pageSize, offset } = p;
  const f = p.filters;
  const ord = (prefix: SQL) => orderBy(sort, false, prefix);
  const run = async (page: SQL) => rowsOf<ListRow>(await db.execute(pageRows(p, sql`(${page})`)));
  if (counted > p.cap) {
    return run(sql`SELECT o.id, o.observed_at, o.created_at, NULL::real AS rank FROM observations o
      WHERE ${and([p.visible, ...f.walkable, ...f.other, ...f.codedSet])}
      ORDER BY ${ord(sql`o.`)} LIMIT ${pageSize} OFFSET ${offset}`);
  }
  if (counted > FEW_MATCHES && (offset + pageSize) * 4 <= counted) {
    const bound = Math.max(WALK_MIN, (offset + pageSize) * WALK_FACTOR);
    // Only the columns checked are read: coded-with filters alone walk the date index without the table.
    const rows = await run(sql`SELECT o.id, o.observed_at, o.created_at, NULL::real AS rank
      FROM (SELECT o.id, ${datesFor(sort)}${f.otherColumns} FROM observations o WHERE ${and([p.visible, ...f.walkable])}
            ORDER BY ${ord(sql`o.`)} LIMIT ${bound}) o
      WHERE ${rowChecks(p)}
      ORDER BY ${ord(sql`o.`)} LIMIT ${pageSize} OFFSET ${offset}`);
    if (rows.length >= Math.min(pageSize, counted - offset)) return rows;
  }
  return collectedPage(db, p);
}

/** An unsearched list's page from all its matches, collected through the indexes (bitmap scans) and sorted. */
async function collectedPage(db: Db, p: ListPlan): Promise<ListRow[]> {
  const ord = (prefix: SQL) => orderBy(p.sort, false, prefix);
  return rowsOf<ListRow>(
    await db.execute(
      pageRows(
        p,
        sql`(SELECT m.id, m.observed_at, m.created_at, NULL::real AS rank
          FROM (SELECT o.id, ${datesFor(p.sort)} FROM observations o WHERE ${and(allConditions(p))} OFFSET 0) m
          ORDER BY ${ord(sql`m.`)} LIMIT ${p.pageSize} OFFSET ${p.offset})`,
      ),
    ),
  );
}

/** At most this many tombstones are subtracted in a fast count (see fastCount); with more, counts take the usual way. */
const TOMBSTONES_SUBTRACTED = 1_000;

/** The capped count of an unsearched list: the fast one when it applies, else the matches (up to cap + 1). */
async function countMatches(db: Db, p: ListPlan): Promise<number> {
  const fast = fastCount(p);
  if (fast) {
    const n = rowsOf<{ n: number | null }>(await db.execute(fast))[0]?.n;
    if (n !== null && n !== undefined) return Number(n);
  }
  const rows = rowsOf<{ n: number }>(
    await db.execute(sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM observations o WHERE ${and(allConditions(p))} LIMIT ${p.cap + 1}) s`),
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * A faster exact count (capped) of a list of signed-in people filtered by provider (and model) only, whose usual
 * count (collecting matches that are not deleted) reads a row per match; null when it does not apply. Every
 * match is counted, deleted or not, by an index-only scan of (provider, model), and the deleted ones
 * (tombstones, few, with their own partial index) subtracted. The statement yields n = null when there are
 * more than TOMBSTONES_SUBTRACTED tombstones.
 */
function fastCount(p: ListPlan): SQL | null {
  if (!p.members || !p.providerOnly) return null;
  const matching = and([...p.filters.walkable, ...p.filters.other]);
  return sql`SELECT CASE WHEN t.tombstones <= ${TOMBSTONES_SUBTRACTED}
      THEN (SELECT count(*)::int FROM (SELECT 1 FROM observations o WHERE ${matching} LIMIT ${p.cap + 1 + TOMBSTONES_SUBTRACTED}) s) - t.dead END AS n
    FROM (SELECT count(*)::int AS tombstones, (count(*) FILTER (WHERE ${matching}))::int AS dead FROM ${tombstonesOf(sql`o.id, o.provider, o.model`)} o) t`;
}

/** At most TOMBSTONES_SUBTRACTED + 1 deleted observations (their own partial index serves them). */
function tombstonesOf(columns: SQL): SQL {
  return sql`(SELECT ${columns} FROM observations o WHERE o.deleted_at IS NOT NULL LIMIT ${TOMBSTONES_SUBTRACTED + 1})`;
}

/**
 * A list of signed-in people filtered by coded-with filters only, in one statement, or null when it does not
 * apply. The count is that of the distinct observations of the active codings less the deleted ones (the
 * usual way, with more than TOMBSTONES_SUBTRACTED tombstones). Coded observations are usually dense among
 * recent ones: when there are more than FEW_MATCHES, the page is a walk of the sort's index (index-only),
 * bounded, checking each id against the coded ones (hashed), as listPage would; when there are fewer, or the
 * walk finds fewer rows than the count promises (it gave up), the page is collected.
 */
async function codedList(db: Db, p: ListPlan): Promise<Listed | null> {
  if (!p.members || !p.codedOnly) return null;
  const ord = (prefix: SQL) => orderBy(p.sort, false, prefix);
  const bound = Math.max(WALK_MIN, (p.offset + p.pageSize) * WALK_FACTOR);
  const result = rowsOf<ListRow & { matched: number | null }>(
    await db.execute(sql`WITH coded AS MATERIALIZED (${sql.join(p.filters.codedQueries, sql` INTERSECT `)}),
        counted AS (
          SELECT CASE WHEN t.tombstones <= ${TOMBSTONES_SUBTRACTED}
            THEN (SELECT count(*)::int FROM coded) - (SELECT count(*)::int FROM ${tombstonesOf(sql`o.id`)} d WHERE d.id IN (SELECT observation_id FROM coded)) END AS n
          FROM (SELECT count(*)::int AS tombstones FROM ${tombstonesOf(sql`o.id`)} o) t),
        page AS (
          SELECT o.id, o.observed_at, o.created_at, NULL::real AS rank
          FROM (SELECT o.id, ${datesFor(p.sort)} FROM observations o
                WHERE (SELECT n FROM counted) > ${FEW_MATCHES} AND (SELECT n FROM counted) >= ${(p.offset + p.pageSize) * 4} AND ${p.visible}
                ORDER BY ${ord(sql`o.`)} LIMIT ${bound}) o
          WHERE CASE WHEN true THEN o.id IN (SELECT observation_id FROM coded) END
          ORDER BY ${ord(sql`o.`)} LIMIT ${p.pageSize} OFFSET ${p.offset})
      SELECT c.n AS matched, r.* FROM counted c LEFT JOIN LATERAL (${pageRows(p, sql`page`)}) r ON true`),
  );
  const matched = result[0]?.matched;
  if (matched === null || matched === undefined) return null;
  const counted = Number(matched);
  if (nothingToShow(p, counted)) return { rows: [], counted };
  const rows = result.filter((r) => r.id !== null);
  return { rows: rows.length >= Math.min(p.pageSize, counted - p.offset) ? rows : await collectedPage(db, p), counted };
}

/** How a search takes its matches: in `order`, the first `need` of them (relevance ranks those). */
interface SearchShape {
  relevance: boolean;
  order: Sort;
  need: number;
}

function searchShape(p: ListPlan): SearchShape {
  const relevance = p.sort === 'relevance';
  return {
    relevance,
    order: relevance ? 'observed_desc' : p.sort,
    need: relevance ? Math.max(p.relevanceWindow, p.offset + p.pageSize) : p.offset + p.pageSize,
  };
}

/**
 * A search's page from the CTE `matched` (its first `need` matches, in order, with their vectors' TOAST
 * pointers): ranked, or as they come.
 */
function searchPageOf(p: ListPlan, query: SQL, s: SearchShape): SQL {
  return s.relevance
    ? sql`(SELECT m.id, m.observed_at, m.created_at, ts_rank(m.search, ${query}) AS rank FROM matched m
        ORDER BY rank DESC, m.observed_at DESC NULLS LAST, m.id LIMIT ${p.pageSize} OFFSET ${p.offset})`
    : sql`(SELECT m.id, m.observed_at, m.created_at, NULL::real AS rank FROM matched m
        ORDER BY ${orderBy(s.order, false, sql`m.`)} LIMIT ${p.pageSize} OFFSET ${p.offset})`;
}

/** A search's page rows from `matched`, defined by `ctes`; `extra` adds a column to every row. */
async function searchRows(db: Db, p: ListPlan, query: SQL, s: SearchShape, ctes: SQL, extra?: SQL) {
  return rowsOf<ListRow & { walked?: number }>(await db.execute(pageRows(p, searchPageOf(p, query, s), ctes, extra)));
}

/**
 * A walk of a date index in the search's order, bounded to `bound` rows, checking the full-text match (which
 * reads the row's TOASTed search vector) only on rows that passed every other condition: the first `limit`
 * matches. The filters that lead an index ending in the date (model, status, dates) bound the walk; the others
 * are checked row by row.
 */
function searchWalk(p: ListPlan, query: SQL, s: SearchShape, bound: number, limit: number, gate: SQL = sql`true`): SQL {
  const ord = (prefix: SQL) => orderBy(s.order, false, prefix);
  return sql`SELECT o.id, o.observed_at, o.created_at, o.search
    FROM (SELECT o.id, o.observed_at, o.created_at, o.search${p.filters.otherColumns} FROM observations o
          WHERE ${gate} AND ${and([p.visible, ...p.filters.walkable])} ORDER BY ${ord(sql`o.`)} LIMIT ${bound}) o
    WHERE CASE WHEN ${rowChecks(p)} THEN o.search @@ ${query} ELSE false END
    ORDER BY ${ord(sql`o.`)} LIMIT ${limit}`;
}

/**
 * Rows of the walk a probe reads; how many of them must match for searchFirst to walk on (the walk is bounded
 * to the rows that density promises for the matches it needs); and how many must match the words alone for
 * them to count as common. Without filters checked row by row, every row walked is checked against its
 * vector, so the walk must find matches denser to beat the full-text index.
 */
const PROBE_ROWS = 64;
const walkOnHits = (p: ListPlan) => (hasRowChecks(p) ? 16 : 40);
const DENSE_HITS = 56;

/**
 * What a probe of the search's walk finds among its first PROBE_ROWS rows: how many match (`hits`), how many
 * match the full-text query alone, whatever the filters checked row by row (`wordHits`), and whether the query
 * checks word positions (`phrase`: quoted words, or a hyphenated word), which the full-text index cannot
 * answer alone: each of its candidates is then checked against its TOASTed vector.
 */
interface Probe {
  hits: number;
  wordHits: number;
  phrase: boolean;
}

/**
 * The probe, with two more columns for searchFirst: `checks`, how many of the rows pass the filters checked
 * row by row, and `estimate`, the candidates of those filters that share suggests (from the table's size
 * estimate in the catalog).
 */
function probeStatement(p: ListPlan, query: SQL, s: SearchShape): SQL {
  const checked = hasRowChecks(p);
  return sql`SELECT (count(*) FILTER (WHERE CASE WHEN ${rowChecks(p)} THEN o.search @@ ${query} ELSE false END))::int AS hits,
      ${checked ? sql`(count(*) FILTER (WHERE o.search @@ ${query}))::int` : sql`NULL::int`} AS word_hits,
      (count(*) FILTER (WHERE ${rowChecks(p)}))::int AS checks,
      ((count(*) FILTER (WHERE ${rowChecks(p)}))::float8 / ${PROBE_ROWS}
        * (SELECT greatest(c.reltuples, 0) FROM pg_class c WHERE c.oid = 'observations'::regclass))::float8 AS estimate,
      (${query})::text ~ '<[0-9-]+>' AS phrase
    FROM (SELECT o.id, o.search${p.filters.otherColumns} FROM observations o WHERE ${and([p.visible, ...p.filters.walkable])}
          ORDER BY ${orderBy(s.order, false, sql`o.`)} LIMIT ${PROBE_ROWS}) o`;
}

/** At most this many candidates of a search's filters are collected to be checked in order (see searchFirst). */
const CANDIDATES_MAX = 10_000;

/**
 * The first statement of every search, on its own (no planner settings needed): a probe of the first rows of
 * the search's walk, then, when the words are common, the count and the page's matches without the full-text
 * index (counting common words through it costs more than finding cap + 1 matches one by one):
 * - matches dense enough among the walk's first rows (walkOnHits): the walk goes on, bounded to twice the
 *   rows that density promises for the matches it needs;
 * - else, the words dense but not the filters checked row by row (provider, tag, coded-with), and those
 *   filters' candidates likely few: they are collected through their indexes (at most CANDIDATES_MAX), sorted,
 *   and checked in that order until cap + 1 match (every candidate checked: the count is exact).
 * `found` is null when neither applies or the walk did not find enough (the matches thinned out, or there are
 * not that many): the search then takes the usual way, knowing the probe.
 */
async function searchFirst(db: Db, p: ListPlan, query: SQL, s: SearchShape): Promise<{ found: Listed | null; probe: Probe }> {
  const f = p.filters;
  const limit = Math.max(p.cap + 1, s.need);
  const ord = (prefix: SQL) => orderBy(s.order, false, prefix);
  const checked = hasRowChecks(p);
  const walkOn = walkOnHits(p);
  const dense = sql`(SELECT hits FROM probe) >= ${walkOn}`;
  const candidates = checked
    ? sql`candidates AS MATERIALIZED (
          SELECT o.id, o.observed_at, o.created_at, o.search FROM observations o
          WHERE NOT ${dense} AND (SELECT word_hits FROM probe) >= ${DENSE_HITS} AND (SELECT estimate FROM probe) <= ${CANDIDATES_MAX}
            AND ${and([p.visible, ...f.walkable, ...f.other, ...f.codedIds])}
          LIMIT ${CANDIDATES_MAX + 1}),
        checked AS MATERIALIZED (
          SELECT c.id, c.observed_at, c.created_at, c.search
          FROM (SELECT * FROM candidates c WHERE (SELECT count(*) FROM candidates) <= ${CANDIDATES_MAX} ORDER BY ${ord(sql`c.`)} OFFSET 0) c
          WHERE c.search @@ ${query} LIMIT ${limit}),`
    : sql`candidates AS (SELECT NULL::uuid AS id WHERE false),
        checked AS (SELECT NULL::uuid AS id, NULL::timestamptz AS observed_at, NULL::timestamptz AS created_at, NULL::tsvector AS search WHERE false),`;
  const result = rowsOf<ListRow & { hits: number; word_hits: number | null; estimate: number; phrase: boolean; walked: number; candidates: number; checked: number }>(
    await db.execute(sql`WITH probe AS MATERIALIZED (${probeStatement(p, query, s)}),
        walked AS MATERIALIZED (${searchWalk(p, query, s, Math.ceil((2 * limit * PROBE_ROWS) / walkOn), limit, dense)}),
        ${candidates}
        matched AS (SELECT * FROM ((SELECT * FROM walked) UNION ALL (SELECT * FROM checked)) w ORDER BY ${ord(sql`w.`)} LIMIT ${s.need}),
        page AS ${searchPageOf(p, query, s)}
      SELECT pr.hits, pr.word_hits, pr.estimate, pr.phrase, (SELECT count(*) FROM walked)::int AS walked,
        (SELECT count(*) FROM candidates)::int AS candidates, (SELECT count(*) FROM checked)::int AS checked, r.*
      FROM probe pr LEFT JOIN LATERAL (${pageRows(p, sql`page`)}) r ON true`),
  );
  const first = result[0];
  const hits = Number(first?.hits ?? 0);
  const probe: Probe = { hits, wordHits: first?.word_hits === null || first?.word_hits === undefined ? hits : Number(first.word_hits), phrase: first?.phrase ?? true };
  const rows = result.filter((r) => r.id !== null);
  if (first && Number(first.walked) >= limit) return { found: { rows, counted: p.cap + 1 }, probe };
  const collected = Number(first?.candidates ?? 0);
  if (checked && hits < walkOn && probe.wordHits >= DENSE_HITS && Number(first!.estimate) <= CANDIDATES_MAX && collected <= CANDIDATES_MAX) {
    const matches = Number(first!.checked);
    const counted = matches > p.cap ? p.cap + 1 : matches;
    return { found: { rows: nothingToShow(p, counted) ? [] : rows, counted }, probe };
  }
  return { found: null, probe };
}

/**
 * A search's page, `counted` matches known (and `hits` of the probe, see probeStatement):
 * - up to the cap: all matches, collected through the indexes, sorted;
 * - more: a bounded walk (WALK_FACTOR times the rows needed, see searchWalk), unless the probe says it would
 *   not find enough. When it comes back short (matches sparse among recent rows: filters correlated with
 *   dates), the candidates of the other filters are collected through their indexes, sorted, and checked in
 *   that order until enough match; without other filters, all matches come from the full-text index.
 */
async function searchPage(db: Db, p: ListPlan, query: SQL, s: SearchShape, counted: number, probe: Probe): Promise<ListRow[]> {
  const f = p.filters;
  const ord = (prefix: SQL) => orderBy(s.order, false, prefix);
  const run = (matched: SQL, extra?: SQL) => searchRows(db, p, query, s, sql`matched AS MATERIALIZED (${matched})`, extra);
  if (counted <= p.cap) {
    return run(sql`SELECT m.id, m.observed_at, m.created_at, m.search
      FROM (SELECT o.id, o.observed_at, o.created_at, o.search FROM observations o WHERE ${and(allConditions(p))} OFFSET 0) m
      ORDER BY ${ord(sql`m.`)} LIMIT ${s.need}`);
  }
  const filtered = f.walkable.length + f.other.length + f.codedIds.length > 0;
  if (!filtered && probe.phrase) {
    // No better way for a phrase without filters than the walk, unbounded: the full-text index would hand
    // over every observation containing the words, each to check against its vector.
    return run(sql`SELECT o.id, o.observed_at, o.created_at, o.search FROM observations o WHERE ${p.visible} AND o.search @@ ${query}
      ORDER BY ${ord(sql`o.`)} LIMIT ${s.need}`);
  }
  const bound = Math.max(WALK_MIN, s.need * WALK_FACTOR);
  if (probe.hits > 0 && (s.need * PROBE_ROWS) / probe.hits <= bound) {
    const walked = await run(searchWalk(p, query, s, bound, s.need), sql`(SELECT count(*) FROM matched)::int AS walked`);
    if (walked.length > 0 && Number(walked[0]!.walked) >= s.need) return walked;
  }
  // The candidates are sorted before the match is checked (OFFSET 0 keeps the check out of the sorted
  // subquery), so the check stops at the `need`th match. Without filters, visibility is written so that no
  // index can serve it, leaving the full-text index as the only way to collect the matches.
  return run(
    filtered
      ? sql`SELECT c.id, c.observed_at, c.created_at, c.search
          FROM (SELECT x.* FROM (SELECT o.id, o.observed_at, o.created_at, o.search FROM observations o
                                 WHERE ${and([p.visible, ...f.walkable, ...f.other, ...f.codedIds])} OFFSET 0) x
                ORDER BY ${ord(sql`x.`)} OFFSET 0) c
          WHERE c.search @@ ${query} LIMIT ${s.need}`
      : sql`SELECT a.id, a.observed_at, a.created_at, a.search
          FROM (SELECT o.id, o.observed_at, o.created_at, o.search FROM observations o
                WHERE coalesce(${p.visible}, false) AND o.search @@ ${query} OFFSET 0) a
          ORDER BY ${ord(sql`a.`)} LIMIT ${s.need}`,
  );
}

/** Replaces the rows' behaviours with those of the coder's own active codings (rows they code blind). */
async function ownBehavioursOnly(db: Db, coderId: string, rows: ListRow[]): Promise<void> {
  for (const row of rows) {
    const found = rowsOf<{ behaviours: ListRow['behaviours'] }>(
      await db.execute(sql`SELECT ${behavioursOf(sql`${row.id}::uuid`, sql`AND c.coder_id = ${coderId}::uuid`)} AS behaviours`),
    );
    row.behaviours = found[0]?.behaviours ?? [];
  }
}

/** Distinct behaviours of an observation's active codings, as a JSON array in code order. */
function behavioursOf(observationId: SQL, extra: SQL = sql``): SQL {
  return sql`(SELECT coalesce(json_agg(json_build_object('code', x.code, 'name', x.name, 'category', x.category, 'colour', x.colour) ORDER BY x.code), '[]'::json)
    FROM (SELECT DISTINCT b.code, b.name, b.category, b.colour FROM codings c JOIN behaviours b ON b.id = c.behaviour_id
          WHERE c.observation_id = ${observationId} AND ${activeCoding} ${extra}) x)`;
}

/**
 * A search snippet of `o`. ts_headline returns the document's own text: the markers are control characters
 * stripped from the document first, and the presenter turns the result into plain-text segments (never markup).
 * The snippet comes from the title and what was surprising when they match (cheap), else from the transcript's
 * text around the first mention of each searched word (search_snippet_source).
 */
function headlineOf(query: SQL): SQL {
  const headlineOptions = `StartSel=${snippetMarkers.start}, StopSel=${snippetMarkers.stop}, MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`;
  const stripMarkers = (text: SQL) => sql`translate(${text}, E'\\x02\\x03', '')`;
  const transcriptText = sql`coalesce((
      SELECT left(string_agg(t.value #>> '{}', E'\n'), ${SNIPPET_SOURCE_CHARS})
      FROM jsonb_path_query(o.transcript, '$.messages[*].parts[*].text') AS t(value)), o.surprise)`;
  return sql`CASE WHEN to_tsvector('english', o.title || ' ' || o.surprise) @@ ${query}
    THEN ts_headline('english', ${stripMarkers(sql`o.title || E'\n' || o.surprise`)}, ${query}, ${headlineOptions})
    ELSE ts_headline('english', ${stripMarkers(sql`search_snippet_source(${transcriptText}, ${query}, ${SNIPPET_LEAD}::int, ${SNIPPET_TAIL}::int)`)}, ${query}, ${headlineOptions})
    END`;
}

/** Characters of transcript text a search snippet is found in. */
const SNIPPET_SOURCE_CHARS = 5_000;
/**
 * A transcript snippet is made from the text around each searched word's first mention, from SNIPPET_LEAD
 * characters before it to SNIPPET_TAIL after it (a fragment is at most 35 words): see search_snippet_source in
 * migration 0013: ts_headline takes three to six times less time on a window or two than on 5,000 characters.
 */
const SNIPPET_LEAD = 150;
const SNIPPET_TAIL = 450;

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
  const [loaded, codings, blind] = await Promise.all([
    loadObservationRow(ctx.db, id),
    listCodings(ctx, id, { includeWithdrawn: true }),
    isBlindTo(ctx.db, ctx.actor, id),
  ]);
  if (!loaded) return null;
  const view = presentObservation(loaded.record, loaded.submitter, codings);
  return blind ? { ...view, codingsHidden: BLIND_NOTICE } : view;
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
  // A coder with an open blind assignment on the observation sees only their own codings of it (coding.seeOthers).
  const own = ctx.actor.kind === 'user' ? sql`AND (c.coder_id = ${ctx.actor.id}::uuid OR NOT ${openBlindAssignment(sql`c.observation_id`, ctx.actor.id)})` : sql``;
  const rows = rowsOf<CodingRow>(
    await ctx.db.execute(sql`${codingSelect} WHERE c.observation_id = ${observationId}::uuid
      ${opts.includeWithdrawn ? sql`` : sql`AND c.withdrawn_at IS NULL`} ${own}
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
  // A blind coder's history shows only their own codings' revisions and events (coding.seeOthers).
  const own = ctx.actor.kind === 'user' ? sql`AND (c.coder_id = ${ctx.actor.id}::uuid OR NOT ${openBlindAssignment(sql`c.observation_id`, ctx.actor.id)})` : sql``;
  const entities = sql`((x.entity_type = 'observation' AND x.entity_id = ${id})
    OR (x.entity_type = 'coding' AND x.entity_id IN (SELECT c.id::text FROM codings c WHERE c.observation_id = ${id}::uuid ${own})))`;
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

