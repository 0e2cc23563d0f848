import { z } from 'zod';

/**
 * The contract of a live session's events, shared by the server, the browser client and the tests.
 *
 * Clients send `live:event` with one of `clientEventSchema`'s shapes; each carries a client-made `id` (a retry
 * with the same id is stored once and acknowledged with the first result). The server checks who may send it
 * (core/policy.ts), applies it under the session's lock, stores it in the log, acknowledges
 * `{ ok: true, seq }`, then broadcasts the stored event (`LiveEventView`) to the room.
 *
 * Positions: `turn` counts the conversation's prompts from 0; `offset` is a character offset (UTF-16 code
 * units, as JavaScript strings count) into that turn's answer as it had arrived when the observer pressed the
 * key. A span is `[start, end)` in one turn's answer.
 */

export const MAX_PROMPT_CHARS = 20_000;
export const MAX_COMMENT_CHARS = 2_000;
export const MAX_RATIONALE_CHARS = 2_000;
/** More than any answer a session streams; a position past the answer so far is refused anyway. */
const MAX_OFFSET = 10_000_000;

const eventId = z
  .string()
  .min(8, 'id must be a client-made unique id of 8 to 64 characters (a UUID, say)')
  .max(64, 'id must be a client-made unique id of 8 to 64 characters (a UUID, say)')
  .regex(/^[A-Za-z0-9_-]+$/, 'id may hold letters, digits, "-" and "_" only');
const turn = z.int('turn must be a whole number').min(0, 'turn counts from 0').max(10_000);
const offset = z.int('offset must be a whole number').min(0, 'offset cannot be negative').max(MAX_OFFSET);
const position = z.object({ turn, offset }).strict();
const modifiers = z
  .record(z.string().max(60), z.string().max(60))
  .refine((m) => Object.keys(m).length <= 10, 'at most 10 modifiers')
  .default({});

/** A session id, in the database's spelling (lower case), so one session is one room and one writer queue. */
const sessionId = z
  .string()
  .uuid('sessionId must be the session\'s id')
  .transform((id) => id.toLowerCase());
const base = { sessionId, id: eventId };

export const promptEventSchema = z.object({ ...base, type: z.literal('prompt'), text: z.string().trim().min(1, 'write a prompt').max(MAX_PROMPT_CHARS, `a prompt is at most ${MAX_PROMPT_CHARS} characters`) }).strict();
export const stopEventSchema = z.object({ ...base, type: z.literal('stop') }).strict();
/**
 * A behaviour's hotkey (or its button): a point for an event behaviour; for a state behaviour the first press
 * starts it and the next stops it. With `span`, the selected text is coded instead of a point.
 */
export const codeEventSchema = z
  .object({
    ...base,
    type: z.literal('code'),
    behaviourCode: z.string().min(1).max(40),
    at: position,
    span: z.object({ turn, start: offset, end: offset }).strict().refine((s) => s.end > s.start, 'a span ends after it starts').optional(),
    modifiers,
    rationale: z.string().max(MAX_RATIONALE_CHARS).default(''),
  })
  .strict();
/** Withdraws one of the sender's own codes (the last one, in the client's undo). */
export const undoEventSchema = z.object({ ...base, type: z.literal('undo'), target: eventId }).strict();
export const commentEventSchema = z.object({ ...base, type: z.literal('comment'), text: z.string().trim().min(1, 'write a comment').max(MAX_COMMENT_CHARS, `a comment is at most ${MAX_COMMENT_CHARS} characters`) }).strict();
/** Ends the session: open states are closed (and the log says so), nobody codes or prompts after. */
export const endEventSchema = z.object({ ...base, type: z.literal('end') }).strict();

export const clientEventSchema = z.discriminatedUnion('type', [promptEventSchema, stopEventSchema, codeEventSchema, undoEventSchema, commentEventSchema, endEventSchema]);
export type ClientEvent = z.infer<typeof clientEventSchema>;
export type ClientEventType = ClientEvent['type'];

/** Volatile: where a participant's cursor or selection is; never stored, dropped when stale. */
export const cursorSchema = z
  .object({
    sessionId,
    at: position.nullable(),
    selection: z.object({ turn, start: offset, end: offset }).strict().nullable().default(null),
  })
  .strict();
export type Cursor = z.infer<typeof cursorSchema>;

export const joinSchema = z.object({ sessionId, sinceSeq: z.int().min(0).default(0) }).strict();

/** Stored payloads, by event type (the log's `type` column). */
export interface StoredPayloads {
  'session.opened': { title: string; blind: boolean; ethogramVersionId: string; target: string };
  'participant.added': { userId: string; role: string; displayName: string };
  'participant.removed': { userId: string; displayName: string };
  'presence.joined': { userId: string; displayName: string; role: string };
  'presence.left': { userId: string; displayName: string };
  prompt: { turn: number; text: string };
  'answer.started': { turn: number; model: string };
  /** Answer text as it streamed, in order: `offset` is where `text` starts in the turn's answer. */
  tokens: { turn: number; offset: number; text: string };
  'answer.ended': {
    turn: number;
    status: 'complete' | 'stopped' | 'failed' | 'interrupted';
    length: number;
    finishReason: string | null;
    modelVersion: string | null;
    usage: { inputTokens: number | null; outputTokens: number | null } | null;
    error: { reason: string; message: string } | null;
  };
  stop: { turn: number };
  /**
   * A code. `kind`: `point` (an event behaviour), `state_start` / `state_stop` (a state behaviour's presses;
   * a stop names its start), `span` (selected text). `autoClosed`: the session closed a state left open at the end.
   */
  code: {
    kind: 'point' | 'state_start' | 'state_stop' | 'span';
    behaviourCode: string;
    behaviourId: string;
    at: { turn: number; offset: number };
    span: { turn: number; start: number; end: number; quote: string } | null;
    modifiers: Record<string, string>;
    rationale: string;
    startEventId: string | null;
    autoClosed: boolean;
  };
  undo: { target: string };
  comment: { text: string };
  'session.ended': { closedStates: Array<{ coderId: string; behaviourCode: string; startEventId: string; stopEventId: string }> };
  adjudicated: { decisions: Array<{ eventId: string; decision: 'accept' | 'reject' }> };
  'session.filed': { observationId: string };
}
export type StoredEventType = keyof StoredPayloads;

/** An event as stored and as clients receive it (`live:event`, and in the join/catch-up answer). */
export interface LiveEventView<T extends StoredEventType = StoredEventType> {
  seq: number;
  id: string;
  type: T;
  actorId: string | null;
  payload: StoredPayloads[T];
  at: string;
}

/** What a participant sees of a session when they join (the `live:join` ack). */
export interface LiveSessionView {
  id: string;
  title: string;
  status: 'open' | 'ended' | 'filed';
  blind: boolean;
  target: string;
  ethogramVersionId: string;
  behaviours: Array<{ code: string; name: string; kind: 'event' | 'state'; hotkey: string | null; colour: string; category: string; modifierSets: string[] }>;
  modifierSets: Array<{ key: string; name: string; values: string[] }>;
  participants: Array<{ userId: string; displayName: string; role: 'driver' | 'observer' | 'viewer' }>;
  /** `role` is null for an admin looking in without being a participant (they watch, and send nothing). */
  me: { userId: string; role: 'driver' | 'observer' | 'viewer' | null; owner: boolean };
  lastSeq: number;
  observationId: string | null;
}

/** Who is connected now (`live:presence`), from every server process's sockets. */
export interface PresenceView {
  sessionId: string;
  present: Array<{ userId: string; displayName: string; role: string }>;
}

/**
 * Model text as it reaches the server, before it is stored (`live:preview`): sent to the room at once, so people
 * watch the answer at the model's pace rather than the database's. Not part of the log and carrying no `seq`: the
 * stored `tokens` event with the same text at the same offset follows once committed, and a client whose
 * previews had a gap (joined mid-answer, reconnected) waits for it. `offset` counts UTF-16 units into the turn's
 * answer, as stored events do.
 */
export interface TokenPreview {
  sessionId: string;
  turn: number;
  offset: number;
  text: string;
}

/** Socket event names, one place. */
export const LIVE_SOCKET = {
  join: 'live:join',
  leave: 'live:leave',
  event: 'live:event',
  preview: 'live:preview',
  cursor: 'live:cursor',
  presence: 'live:presence',
  removed: 'live:removed',
  error: 'live:error',
} as const;
