import type { PersonView } from '../observation.presenter.ts';
import type { Transcript } from '../transcript.schema.ts';
import { storableHeaders } from './capture.input.ts';
import type { CaptureApi, CaptureEndReason, CaptureOutcome, CaptureSource, CaptureUsage } from './capture.schema.ts';

/**
 * The JSON shapes of the field log, shared by the API and the pages. Never a credential: stored headers were
 * stripped when recorded and are stripped again here, and the provider key appears only as a short fingerprint of
 * its sha256 (enough to tell keys apart, never the key). Dates are ISO strings.
 */

/** Milliseconds from sending the request: to the first response byte, to the first content token, to the end. */
export interface CaptureTimings { firstByteMs: number | null; firstTokenMs: number | null; durationMs: number | null }

/** One row of the field log: everything but the bodies. */
export interface CaptureListItem {
  id: string;
  source: CaptureSource;
  upstream: string;
  api: CaptureApi;
  method: string;
  path: string;
  model: string | null;
  streamed: boolean;
  outcome: CaptureOutcome;
  endReason: CaptureEndReason;
  httpStatus: number | null;
  error: string | null;
  startedAt: string;
  timings: CaptureTimings;
  usage: CaptureUsage | null;
  flag: string | null;
  /** The observation this capture was promoted to, and where to read it. */
  observationId: string | null;
  observationHref: string | null;
  hasTranscript: boolean;
  capturedBy: PersonView;
}

/** A whole capture: the raw exchange as it crossed, what was rebuilt from it, and its transcript. */
export interface CaptureView extends CaptureListItem {
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseHeaders: Record<string, string>;
  /** JSON text, or for streams the raw SSE text. */
  responseBody: string;
  rebuilt: Record<string, unknown> | null;
  transcript: Transcript | null;
  /** The first 12 hex digits of the provider key's sha256, to tell keys apart; null when no key was sent. */
  keyFingerprint: string | null;
  createdAt: string;
}

/** A page of the field log, newest first; pass `nextCursor` back as `cursor` for the next (older) page. */
export interface CaptureListPage { data: CaptureListItem[]; nextCursor: string | null }

/** The row fields a list item is made from (the queries select these). */
export interface CaptureSummaryRecord {
  id: string;
  source: CaptureSource;
  upstream: string;
  api: CaptureApi;
  method: string;
  path: string;
  model: string | null;
  streamed: boolean;
  outcome: CaptureOutcome;
  endReason: CaptureEndReason;
  httpStatus: number | null;
  error: string | null;
  startedAt: Date;
  firstByteMs: number | null;
  firstTokenMs: number | null;
  durationMs: number | null;
  usage: CaptureUsage | null;
  flag: string | null;
  observationId: string | null;
  hasTranscript: boolean;
  capturedBy: PersonView;
}

export interface CaptureRecord extends CaptureSummaryRecord {
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseHeaders: Record<string, string>;
  responseBody: string;
  rebuilt: Record<string, unknown> | null;
  transcript: Transcript | null;
  keyHash: string | null;
  createdAt: Date;
}

const millis = (v: number | null): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

export function presentCaptureListItem(r: CaptureSummaryRecord): CaptureListItem {
  return {
    id: r.id,
    source: r.source,
    upstream: r.upstream,
    api: r.api,
    method: r.method,
    path: r.path,
    model: r.model,
    streamed: r.streamed,
    outcome: r.outcome,
    endReason: r.endReason,
    httpStatus: r.httpStatus,
    error: r.error,
    startedAt: new Date(r.startedAt).toISOString(),
    timings: { firstByteMs: millis(r.firstByteMs), firstTokenMs: millis(r.firstTokenMs), durationMs: millis(r.durationMs) },
    usage: r.usage,
    flag: r.flag,
    observationId: r.observationId,
    observationHref: r.observationId ? `/observations/${r.observationId}` : null,
    hasTranscript: r.hasTranscript,
    capturedBy: r.capturedBy,
  };
}

export function presentCapture(r: CaptureRecord): CaptureView {
  return {
    ...presentCaptureListItem(r),
    requestHeaders: storableHeaders(r.requestHeaders ?? {}),
    requestBody: r.requestBody,
    responseHeaders: storableHeaders(r.responseHeaders ?? {}),
    responseBody: r.responseBody,
    rebuilt: r.rebuilt,
    transcript: r.transcript,
    keyFingerprint: r.keyHash ? r.keyHash.slice(0, 12) : null,
    createdAt: new Date(r.createdAt).toISOString(),
  };
}
