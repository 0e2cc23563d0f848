import type { Provenance, ObservationStatus, Visibility } from './observation.schema.ts';
import type { Transcript } from './transcript.schema.ts';

/**
 * The JSON shapes of observations and codings, shared by the API and the pages. Dates are ISO strings so the
 * same object can be sent as JSON or rendered; the raw payload itself is only served by its own endpoint.
 */

/** A person as others see them: never the email. */
export interface PersonView { id: string; displayName: string }

export interface CodingSpanView { messageId: string; partIndex: number; start: number; end: number; quote: string }

export interface CodingView {
  id: string;
  observationId: string;
  behaviour: { id: string; key: string; code: string; name: string; category: string; colour: string };
  ethogramVersion: { id: string; slug: string; number: number };
  /** Null when the code applies to the whole observation. */
  span: CodingSpanView | null;
  modifiers: Record<string, unknown>;
  coder: PersonView;
  method: 'manual' | 'llm_judge' | 'classifier' | 'rule' | 'live';
  confidence: number | null;
  rationale: string;
  status: 'proposed' | 'accepted' | 'rejected';
  revision: number;
  createdAt: string;
  withdrawnAt: string | null;
  withdrawnBy: PersonView | null;
}

export interface ObservationView {
  id: string;
  title: string;
  surprise: string;
  status: ObservationStatus;
  duplicateOf: string | null;
  visibility: Visibility;
  provider: string;
  model: string;
  modelVersion: string | null;
  provenance: Provenance;
  observedAt: string;
  createdAt: string;
  updatedAt: string;
  revision: number;
  submittedBy: PersonView;
  rawSha256: string;
  transcript: Transcript;
  evidenceLinks: string[];
  tags: string[];
  /** Active and withdrawn codings, oldest first (withdrawn ones carry `withdrawnAt`). */
  codings: CodingView[];
  /** Set only on a deleted observation (admins see those). */
  deletedAt: string | null;
  /** Set when others' codings are hidden from the actor (an open blind assignment): the notice to show. */
  codingsHidden?: string;
  /** Notes from reading the transcript (e.g. "read as plain text"); present on the result of record/update only. */
  warnings?: string[];
}

/**
 * A search snippet as segments, so nothing from the document is ever trusted as markup: render each segment
 * escaped, wrapping the ones with `match: true` in `<mark>`.
 */
export type SnippetSegment = { text: string; match: boolean };

/** One row of the observation list: enough for a results page, without the transcript. */
export interface ObservationListItem {
  id: string;
  title: string;
  /** The first ~280 characters of "what was surprising". */
  surpriseExcerpt: string;
  status: ObservationStatus;
  visibility: Visibility;
  provider: string;
  model: string;
  modelVersion: string | null;
  observedAt: string;
  createdAt: string;
  submittedBy: PersonView;
  tags: string[];
  /** Distinct behaviours of the observation's active codings (code order). */
  behaviours: { code: string; name: string; category: string; colour: string }[];
  /** Only when the list was searched (`q`); null otherwise. */
  snippet: SnippetSegment[] | null;
  /** ts_rank of the search, when searched. */
  rank: number | null;
}

export interface ObservationListPage {
  data: ObservationListItem[];
  page: number;
  pageSize: number;
  /**
   * Exact up to the count cap; when `totalCapped`, at least this many: show "10,000+" (lists), "300+"
   * (searches) or "200+" (phrase searches). Pages past the cap still return matches.
   */
  total: number;
  totalCapped: boolean;
  totalPages: number;
}

/** Whether a list page has one after it: a capped count ("300+") has more pages than it counted, so there a full page leads on. */
export function hasNextPage(result: Pick<ObservationListPage, 'page' | 'pageSize' | 'totalPages' | 'totalCapped' | 'data'>): boolean {
  return result.page < result.totalPages || (result.totalCapped && result.data.length === result.pageSize);
}

export interface HistoryEventView {
  id: number;
  type: string;
  entityType: string;
  entityId: string;
  actor: PersonView | null;
  payload: Record<string, unknown>;
  at: string;
}

export interface HistoryRevisionView {
  id: number;
  entityType: string;
  entityId: string;
  /** The revision number the snapshot had (the state before the change). */
  revision: number;
  reason: string;
  snapshot: Record<string, unknown>;
  actor: PersonView | null;
  at: string;
}

export interface ObservationHistoryView {
  /** Revisions of the observation and of its codings, newest first. */
  revisions: HistoryRevisionView[];
  /** Events about the observation and its codings, newest first. */
  events: HistoryEventView[];
}

export interface DeletedObservationItem {
  id: string;
  title: string;
  provider: string;
  model: string;
  submittedBy: PersonView;
  deletedAt: string;
  deletedBy: PersonView | null;
}

export interface TagCount { tag: string; count: number }

export interface FilterOptions {
  providers: string[];
  models: string[];
}

/** What the observation row looks like to the presenter (a Drizzle row or what a command just inserted). */
export interface ObservationRecord {
  id: string;
  title: string;
  surprise: string;
  status: ObservationStatus;
  duplicateOf: string | null;
  visibility: Visibility;
  provider: string;
  model: string;
  modelVersion: string | null;
  provenance: Provenance;
  observedAt: Date;
  createdAt: Date;
  updatedAt: Date;
  revision: number;
  submittedBy: string;
  rawSha256: string;
  transcript: Transcript;
  evidenceLinks: string[];
  tags: string[];
  deletedAt: Date | null;
}

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());
const isoOrNull = (d: Date | string | null | undefined) => (d ? iso(d) : null);

/** An observation as JSON, with its codings (already presented) and the submitter's public name. */
export function presentObservation(
  row: ObservationRecord,
  submitter: PersonView,
  codings: CodingView[],
  warnings?: string[],
): ObservationView {
  return {
    id: row.id,
    title: row.title,
    surprise: row.surprise,
    status: row.status,
    duplicateOf: row.duplicateOf,
    visibility: row.visibility,
    provider: row.provider,
    model: row.model,
    modelVersion: row.modelVersion,
    provenance: row.provenance,
    observedAt: iso(row.observedAt),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    revision: row.revision,
    submittedBy: submitter,
    rawSha256: row.rawSha256,
    transcript: row.transcript,
    evidenceLinks: row.evidenceLinks,
    tags: row.tags,
    codings,
    deletedAt: isoOrNull(row.deletedAt),
    ...(warnings && warnings.length > 0 ? { warnings } : {}),
  };
}

/** The columns a coding presenter needs: the coding row plus its joined behaviour, version and people. */
export interface CodingRecord {
  id: string;
  observationId: string;
  messageId: string | null;
  partIndex: number | null;
  charStart: number | null;
  charEnd: number | null;
  quote: string | null;
  modifiers: Record<string, unknown>;
  method: CodingView['method'];
  confidence: number | null;
  rationale: string;
  status: CodingView['status'];
  revision: number;
  createdAt: Date | string;
  withdrawnAt: Date | string | null;
  behaviour: CodingView['behaviour'];
  ethogramVersion: CodingView['ethogramVersion'];
  coder: PersonView;
  withdrawnBy: PersonView | null;
}

export function presentCoding(c: CodingRecord): CodingView {
  const hasSpan = c.messageId !== null && c.partIndex !== null && c.charStart !== null && c.charEnd !== null;
  return {
    id: c.id,
    observationId: c.observationId,
    behaviour: c.behaviour,
    ethogramVersion: c.ethogramVersion,
    span: hasSpan ? { messageId: c.messageId!, partIndex: c.partIndex!, start: c.charStart!, end: c.charEnd!, quote: c.quote ?? '' } : null,
    modifiers: c.modifiers,
    coder: c.coder,
    method: c.method,
    confidence: c.confidence,
    rationale: c.rationale,
    status: c.status,
    revision: c.revision,
    createdAt: iso(c.createdAt),
    withdrawnAt: isoOrNull(c.withdrawnAt),
    withdrawnBy: c.withdrawnBy,
  };
}

const SNIPPET_START = '\u0002';
const SNIPPET_STOP = '\u0003';
/** The StartSel/StopSel markers handed to ts_headline: control characters that cannot be typed into a form. */
export const snippetMarkers = { start: SNIPPET_START, stop: SNIPPET_STOP } as const;

/**
 * Splits ts_headline output (marked with `snippetMarkers`) into plain-text segments. Any marker characters that
 * were in the document itself are dropped first by the query, so only ts_headline's own markers remain.
 */
export function snippetSegments(headline: string): SnippetSegment[] {
  const segments: SnippetSegment[] = [];
  let rest = headline;
  while (rest.length > 0) {
    const open = rest.indexOf(SNIPPET_START);
    if (open < 0) {
      segments.push({ text: rest, match: false });
      break;
    }
    if (open > 0) segments.push({ text: rest.slice(0, open), match: false });
    const close = rest.indexOf(SNIPPET_STOP, open + 1);
    const end = close < 0 ? rest.length : close;
    const text = rest.slice(open + 1, end);
    if (text) segments.push({ text, match: true });
    rest = close < 0 ? '' : rest.slice(close + 1);
  }
  return mergeAdjacent(segments);
}

function mergeAdjacent(segments: SnippetSegment[]): SnippetSegment[] {
  const out: SnippetSegment[] = [];
  for (const s of segments) {
    const last = out.at(-1);
    if (last && last.match === s.match) last.text += s.text;
    else out.push({ ...s });
  }
  return out;
}

/** The first characters of a text, cut at a word boundary where one is near. */
export function excerpt(text: string, max = 280): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return (space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd() + '…';
}
