import { sql } from 'drizzle-orm';
import { boolean, customType, index, integer, jsonb, pgTable, real, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../../accounts/account.schema.ts';
import { observations } from '../observation.schema.ts';
import type { Transcript } from '../transcript.schema.ts';

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** How a capture reached the field log: through the recording proxy, or sent by the SDK helper `observe()`. */
export const captureSources = ['proxy', 'sdk'] as const;
export type CaptureSource = (typeof captureSources)[number];

/** Which API the exchange speaks (any OpenAI-compatible local server speaks `openai`). */
export const captureApis = ['openai', 'anthropic'] as const;
export type CaptureApi = (typeof captureApis)[number];

/**
 * How the exchange ended: `complete` (the upstream answered in full), `partial` (a stream cut short: the client
 * went away, the upstream stalled or broke off), `error` (the upstream answered an error, in the status or in
 * band, or could not be reached).
 */
export const captureOutcomes = ['complete', 'partial', 'error'] as const;
export type CaptureOutcome = (typeof captureOutcomes)[number];

/**
 * Why it ended: `done` (normal end), `client_abort` (the caller disconnected before the end), `timeout` (the
 * upstream did not answer or stalled past the limit), `upstream_error` (an error status, or an in-band `error`
 * event in a 200 stream), `network_error` (the upstream could not be reached or the connection broke).
 */
export const captureEndReasons = ['done', 'client_abort', 'timeout', 'upstream_error', 'network_error'] as const;
export type CaptureEndReason = (typeof captureEndReasons)[number];

/** Token counts as the upstream reported them; a count it did not report is absent (unknown), never 0. */
export interface CaptureUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
  totalTokens?: number;
}

/**
 * One model call recorded in the field log: the raw request and response exactly as they crossed (the raw SSE
 * text for streams), the message rebuilt from them (thinking and signatures kept), the normalised transcript,
 * timings and usage. Provider keys are never stored: only `keyHash` (sha256 of the key, for attribution), and
 * the stored headers have `Authorization`, `x-api-key` and their kin removed. A capture is promoted to an
 * observation by a person; `observationId` then links the two.
 */
export const captures = pgTable(
  'captures',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    source: text('source').$type<CaptureSource>().notNull(),
    /** The configured upstream's name (`openai`, `anthropic`, `ollama`, ...) or, for the SDK, the client's base URL host. */
    upstream: text('upstream').notNull(),
    api: text('api').$type<CaptureApi>().notNull(),
    method: text('method').notNull(),
    /** The API path called, from the API's root (`/v1/chat/completions`, `/v1/messages`). */
    path: text('path').notNull(),
    /** The model asked for (request) or reported (response), when either says. */
    model: text('model'),
    streamed: boolean('streamed').notNull().default(false),
    outcome: text('outcome').$type<CaptureOutcome>().notNull(),
    endReason: text('end_reason').$type<CaptureEndReason>().notNull(),
    /** The upstream's HTTP status; null when it never answered. */
    httpStatus: integer('http_status'),
    /** What went wrong, in words, for `partial` and `error` outcomes. */
    error: text('error'),
    requestHeaders: jsonb('request_headers').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    requestBody: text('request_body').notNull(),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    /** The response body as it arrived: JSON text, or for streams the raw SSE text (what arrived, if cut short). */
    responseBody: text('response_body').notNull(),
    /** The final response object rebuilt from the stream (or the parsed JSON response), thinking and signatures kept. */
    rebuilt: jsonb('rebuilt').$type<Record<string, unknown>>(),
    /** The exchange as a normalised transcript, when the request and response could be read as messages. */
    transcript: jsonb('transcript').$type<Transcript>(),
    usage: jsonb('usage').$type<CaptureUsage>(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    /** Milliseconds from sending the request upstream to the first response byte. */
    firstByteMs: real('first_byte_ms'),
    /** Milliseconds to the first content token of a stream (null for non-streamed calls or no token). */
    firstTokenMs: real('first_token_ms'),
    durationMs: real('duration_ms'),
    /** sha256 (hex) of the provider key the caller sent, so calls can be attributed without keeping the key. */
    keyHash: text('key_hash'),
    /** A note the caller attached as the call was made (`X-Menagerie-Flag`): marks the capture for review. */
    flag: text('flag'),
    capturedBy: uuid('captured_by').notNull().references(() => users.id),
    /** The observation this capture was promoted to. */
    observationId: uuid('observation_id').references(() => observations.id),
    search: tsvector('search').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('captures_started_idx').on(t.startedAt.desc(), t.id),
    index('captures_captured_by_idx').on(t.capturedBy, t.startedAt.desc()),
    index('captures_model_idx').on(t.model, t.startedAt.desc()),
    index('captures_upstream_idx').on(t.upstream, t.startedAt.desc()),
    index('captures_flagged_idx').on(t.startedAt.desc()).where(sql`flag IS NOT NULL`),
    index('captures_search_idx').using('gin', t.search),
  ],
);
