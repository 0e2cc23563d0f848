import { sql } from 'drizzle-orm';
import { bigserial, boolean, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../accounts/account.schema.ts';
import { ethogramVersions } from '../ethograms/ethogram.schema.ts';
import { observations } from '../observations/observation.schema.ts';
import type { LiveTarget } from './live-target.ts';

export const liveSessionStatuses = ['open', 'ended', 'filed'] as const;
export type LiveSessionStatus = (typeof liveSessionStatuses)[number];
/** driver: prompts the model (and stops it); observer: codes; viewer: watches and comments. */
export const liveRoles = ['driver', 'observer', 'viewer'] as const;
export type LiveRole = (typeof liveRoles)[number];

/**
 * A live session: one model conversation watched and coded together. Its truth is its event log
 * (`live_events`); the columns here are what the log's writers need under the session's row lock: the next
 * sequence number, whether it still takes events, and the derived state that decides what an event means
 * (turn lengths, open states).
 */
export const liveSessions = pgTable(
  'live_sessions',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    title: text('title').notNull(),
    ethogramVersionId: uuid('ethogram_version_id').notNull().references(() => ethogramVersions.id),
    /** Provider, model, base URL, the name of the key's variable (never the key), system prompt, sampling. */
    target: jsonb('target').$type<LiveTarget>().notNull(),
    /** Observers do not see each other's codes until the session ends. */
    blind: boolean('blind').notNull().default(false),
    status: text('status').$type<LiveSessionStatus>().notNull().default('open'),
    createdBy: uuid('created_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** The last sequence number given out: events are numbered 1, 2, 3... per session, with no gaps. */
    lastSeq: integer('last_seq').notNull().default(0),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    endedBy: uuid('ended_by').references(() => users.id),
    observationId: uuid('observation_id').references(() => observations.id),
  },
  (t) => [index('live_sessions_created_by_idx').on(t.createdBy, t.createdAt.desc())],
);

/** Who takes part, with which role; removal keeps the row (the log still names them). */
export const liveParticipants = pgTable(
  'live_participants',
  {
    sessionId: uuid('session_id').notNull().references(() => liveSessions.id),
    userId: uuid('user_id').notNull().references(() => users.id),
    role: text('role').$type<LiveRole>().notNull(),
    addedBy: uuid('added_by').references(() => users.id),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
    removedAt: timestamp('removed_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.userId] }), index('live_participants_user_idx').on(t.userId)],
);

/** Invitation links: whoever opens one (signed in) joins with its role. Stored hashed, like API tokens. */
export const liveInvites = pgTable(
  'live_invites',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    sessionId: uuid('session_id').notNull().references(() => liveSessions.id),
    role: text('role').$type<LiveRole>().notNull(),
    tokenHash: text('token_hash').notNull(),
    createdBy: uuid('created_by').notNull().references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('live_invites_token_idx').on(t.tokenHash), index('live_invites_session_idx').on(t.sessionId)],
);

/**
 * The append-only log of a session: prompts, tokens, codes, comments, presence, the end. `eventId` is the
 * client's id for client events (a retried event is stored once) and a server-made id otherwise.
 */
export const liveEvents = pgTable(
  'live_events',
  {
    sessionId: uuid('session_id').notNull().references(() => liveSessions.id),
    seq: integer('seq').notNull(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    actorId: uuid('actor_id').references(() => users.id),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.seq] }), uniqueIndex('live_events_event_id_idx').on(t.sessionId, t.eventId)],
);

/**
 * Derived from the log, kept in step with it in the same transaction: each turn's prompt and how much of
 * the answer has arrived (a code's position is checked against it), and whether its answer is still streaming.
 */
export const liveTurns = pgTable(
  'live_turns',
  {
    sessionId: uuid('session_id').notNull().references(() => liveSessions.id),
    turn: integer('turn').notNull(),
    prompt: text('prompt').notNull(),
    answer: text('answer').notNull().default(''),
    /** The answer's length in UTF-16 code units, as clients count offsets (PostgreSQL's length() counts code points). */
    answerLength: integer('answer_length').notNull().default(0),
    /** streaming, complete, stopped, failed, interrupted (the process streaming it went away). */
    status: text('status').notNull().default('streaming'),
    promptedBy: uuid('prompted_by').references(() => users.id),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.turn] })],
);

/** State behaviours an observer has started and not yet stopped: the next press of the hotkey stops them. */
export const liveOpenStates = pgTable(
  'live_open_states',
  {
    sessionId: uuid('session_id').notNull().references(() => liveSessions.id),
    coderId: uuid('coder_id').notNull().references(() => users.id),
    behaviourCode: text('behaviour_code').notNull(),
    startEventId: text('start_event_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.coderId, t.behaviourCode] })],
);

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

/**
 * The socket.io PostgreSQL adapter's table (its default name and shape): messages between server processes
 * travel by NOTIFY, and the few over NOTIFY's 8000-byte limit are parked here for a moment. Created by our
 * migrations so the adapter needs no DDL rights; the adapter deletes rows older than 30 s.
 */
export const socketIoAttachments = pgTable('socket_io_attachments', {
  id: bigserial('id', { mode: 'number' }).unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).defaultNow(),
  payload: bytea('payload'),
});
