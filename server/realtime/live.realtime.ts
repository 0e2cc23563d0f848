import type { Server as SocketServer, Socket } from 'socket.io';
import type { UserActor } from '../../accounts/actor.ts';
import { AppError } from '../../core/errors.ts';
import { modelSdks } from '../../core/model-sdks.ts';
import { can } from '../../core/policy.ts';
import { fieldErrors } from '../../core/validation.ts';
import { clientEventSchema, cursorSchema, joinSchema, LIVE_SOCKET, type LiveEventView, type LiveSessionView, type PresenceView, type TokenPreview } from '../../live/live-events.ts';
import { LiveRuntime } from '../../live/live-runtime.ts';
import { findLiveSession, isPrivateWhileBlind, listParticipants, readLog, sessionRef } from '../../live/live-session.queries.ts';
import { describeTarget } from '../../live/live-target.ts';
import { presentSessionEthogram } from '../../live/session-ethogram.ts';
import type { AppDeps } from '../app-deps.ts';
import { errorPayload } from './socket-errors.ts';
import { TokenBucket } from './token-bucket.ts';

declare module 'socket.io' {
  interface SocketData {
    /** The live sessions this socket has joined, with the role it joined as. */
    live?: Record<string, string>;
  }
}

export const sessionRoom = (sessionId: string) => `live:${sessionId}`;
/** The session whose room this is (its participants' own rooms are not), or null. */
const sessionOfRoom = (room: string) => /^live:([0-9a-f-]{36})$/.exec(room)?.[1] ?? null;
/** How often, with several processes, presence is re-gathered from all of them (see attachLiveRealtime). */
const PRESENCE_REFRESH_MS = 5000;
/** Each participant's own room in a session: their blind codes, and their removal, go there. */
export const participantRoom = (sessionId: string, userId: string) => `live:${sessionId}:u:${userId}`;

/** What HTTP routes reach live sessions through: the socket server, the runtime, presence and removals. */
export interface LiveHub {
  io: SocketServer;
  runtime: LiveRuntime;
  refreshPresence(sessionId: string): Promise<void>;
  /** Takes a removed participant's sockets out of the session in every process, telling each one why. */
  removeParticipant(sessionId: string, userId: string): Promise<void>;
}

const hubs = new WeakMap<AppDeps, LiveHub>();

/** The live runtime and socket server createApp built for these deps (HTTP routes publish through them). */
export function liveHubOf(deps: AppDeps): LiveHub {
  const hub = hubs.get(deps);
  if (!hub) throw new Error('Live sessions are attached by createApp before routes run.');
  return hub;
}

/** Sent between server processes (through the adapter) to stop an answer whichever process streams it. */
const STOP_ACROSS = 'live:stop-answer';
/** Sent between server processes with each batch of committed events, for each to deliver to its own sockets. */
const RELAY_ACROSS = 'live:relay-events';
/** Sent between server processes with the model text previewed lately, for each to deliver to its own sockets. */
const PREVIEW_ACROSS = 'live:relay-previews';
/** How often previews are relayed to the other processes (see sendPreview). */
const PREVIEW_RELAY_MS = 10;
/** Sent between server processes when a participant is removed, for each to take its own sockets out. */
const REMOVE_ACROSS = 'live:remove-participant';

/**
 * The socket side of live sessions (contract: live/live-events.ts and live/README.md):
 * - `live:join` `{ sessionId, sinceSeq }`: the same policy as HTTP (`live.join`) decides; the ack carries the
 *   session, the log after `sinceSeq` as this person may see it, and who is here. The socket joins the room
 *   first and reads the log second, so nothing committed in between is missed (clients drop repeats by seq).
 * - `live:event` ClientEvent: validated (zod), rate-limited per socket, stored through the runtime (role checked
 *   under the session's lock), acked `{ ok: true, seq, duplicate }`, broadcast as `live:event` LiveEventView.
 * - `live:preview` TokenPreview: the model's text as it arrives, before it is stored (the stored event follows).
 * - `live:cursor`: volatile, to the others in the room; never stored.
 * - `live:presence` PresenceView after anyone joins or leaves; `live:removed` to a removed participant.
 */
export function attachLiveRealtime(io: SocketServer, deps: AppDeps): LiveRuntime {
  const blindOpen = new Map<string, boolean>();
  const runtime = new LiveRuntime({
    db: deps.db,
    now: deps.now,
    env: deps.judgeEnv ?? {},
    publish: (sessionId, events) => publish(sessionId, events),
    preview: (sessionId, preview) => sendPreview({ sessionId, ...preview }),
    // Only a shared adapter has other processes to tell (the in-memory one refuses server-side emits).
    broadcastStop: (sessionId) => {
      if (deps.realtimeAdapter) io.serverSideEmit(STOP_ACROSS, sessionId);
    },
    onError: (message, detail) => deps.logger.error(message, detail),
  });
  // A removed participant's sockets are told, then leave, in one step in the process that holds them. (Telling them
  // with a broadcast and then calling socketsLeave through the adapter is two messages, which the adapter may
  // deliver to another process in either order: the leave first, and the notice never reaches them.)
  const removeLocal = (sessionId: string, userId: string): boolean => {
    const own = participantRoom(sessionId, userId);
    const ids = [...(io.of('/').adapter.rooms.get(own) ?? [])];
    for (const id of ids) {
      const socket = io.of('/').sockets.get(id);
      if (!socket) continue;
      socket.emit(LIVE_SOCKET.removed, { sessionId, message: 'You were removed from this session by its owner.' });
      if (socket.data.live) delete socket.data.live[sessionId];
      void socket.leave(sessionRoom(sessionId));
      void socket.leave(own);
    }
    return ids.length > 0;
  };
  io.on(REMOVE_ACROSS, (sessionId: unknown, userId: unknown) => {
    if (typeof sessionId !== 'string' || typeof userId !== 'string') return;
    if (removeLocal(sessionId, userId)) void presence(sessionId).catch(() => undefined);
  });
  hubs.set(deps, {
    io,
    runtime,
    refreshPresence: (sessionId) => presence(sessionId),
    removeParticipant: async (sessionId, userId) => {
      removeLocal(sessionId, userId);
      // The other processes refresh presence once their sockets are out; this one refreshes for its own.
      if (deps.realtimeAdapter) io.serverSideEmit(REMOVE_ACROSS, sessionId, userId);
      await presence(sessionId).catch(() => undefined);
    },
  });
  io.on(STOP_ACROSS, (sessionId: unknown) => {
    if (typeof sessionId === 'string') runtime.stopLocal(sessionId);
  });

  // Each process delivers to its own sockets. This process's clients get a committed event at once; the other
  // processes get the batch in one server-side message (one NOTIFY through the adapter, not one per event, and no
  // process's local delivery waits for the database round trip the adapter's own broadcasts make first).
  const deliver = (sessionId: string, events: LiveEventView[]) => {
    for (const event of events) {
      if (event.type === 'session.ended') blindOpen.set(sessionId, false);
      const hidden = blindOpen.get(sessionId) === true && isPrivateWhileBlind(event) && event.actorId;
      io.local.to(hidden ? participantRoom(sessionId, event.actorId!) : sessionRoom(sessionId)).emit(LIVE_SOCKET.event, event);
    }
  };
  // What this process committed during the current turn of the event loop, for the other processes: one
  // server-side message per turn for every session (the shared token write commits many sessions at once).
  let relay: Array<[string, LiveEventView[]]> = [];
  const flushRelay = () => {
    const batches = relay;
    relay = [];
    io.serverSideEmit(RELAY_ACROSS, batches);
  };
  const publish = (sessionId: string, events: LiveEventView[]) => {
    if (events.length === 0) return;
    deliver(sessionId, events);
    if (!deps.realtimeAdapter) return;
    if (relay.length === 0) setImmediate(flushRelay);
    relay.push([sessionId, events]);
  };
  // Model text is never private (blind coding hides codes, not the answer), so previews go to the whole room.
  // The other processes get them every PREVIEW_RELAY_MS in one message (each message is a NOTIFY, and a model
  // sends its tokens one event-loop turn apart), and only once another process has been heard from: a preview
  // missed is not lost (the stored event carries the same text), so a peer not known yet just sees it later.
  let previewRelay: TokenPreview[] = [];
  const flushPreviews = async () => {
    const previews = previewRelay;
    previewRelay = [];
    if ((await io.of('/').adapter.serverCount()) > 1) io.serverSideEmit(PREVIEW_ACROSS, previews);
  };
  const deliverPreview = (preview: TokenPreview) => io.local.to(sessionRoom(preview.sessionId)).emit(LIVE_SOCKET.preview, preview);
  const sendPreview = (preview: TokenPreview) => {
    deliverPreview(preview);
    if (!deps.realtimeAdapter) return;
    if (previewRelay.length === 0) setTimeout(() => void flushPreviews().catch(() => undefined), PREVIEW_RELAY_MS);
    previewRelay.push(preview);
  };
  io.on(PREVIEW_ACROSS, (previews: unknown) => {
    if (Array.isArray(previews)) for (const preview of previews as TokenPreview[]) deliverPreview(preview);
  });
  // Another process's session: whether it is blind (and still open) is learnt on first sight, once; batches that
  // arrive meanwhile wait for it in arrival order.
  const learning = new Map<string, Promise<void>>();
  const deliverRelayed = (sessionId: string, events: LiveEventView[]) => {
    if (blindOpen.has(sessionId)) return deliver(sessionId, events);
    let learnt = learning.get(sessionId);
    if (!learnt) {
      learnt = findLiveSession(deps.db, sessionId)
        .then((s) => {
          if (s) blindOpen.set(sessionId, s.blind && s.status === 'open');
        })
        .catch(() => undefined)
        .finally(() => learning.delete(sessionId));
      learning.set(sessionId, learnt);
    }
    void learnt.then(() => deliver(sessionId, events));
  };
  io.on(RELAY_ACROSS, (batches: unknown) => {
    if (!Array.isArray(batches)) return;
    for (const batch of batches) {
      if (!Array.isArray(batch) || typeof batch[0] !== 'string' || !Array.isArray(batch[1])) continue;
      deliverRelayed(batch[0], batch[1] as LiveEventView[]);
    }
  });

  // What this process last told each session's room about who is here (to send a re-gathered view only when it differs).
  const lastPresence = new Map<string, string>();
  const presence = async (sessionId: string, onlyIfChanged = false) => {
    const sockets = await io.in(sessionRoom(sessionId)).fetchSockets();
    const present = new Map<string, PresenceView['present'][number]>();
    for (const s of sockets) {
      const actor = s.data.actor;
      const role = s.data.live?.[sessionId];
      if (actor?.kind === 'user' && role) present.set(actor.id, { userId: actor.id, displayName: actor.displayName, role });
    }
    const view: PresenceView = { sessionId, present: [...present.values()].sort((x, y) => x.userId.localeCompare(y.userId)) };
    const seen = JSON.stringify(view.present);
    if (onlyIfChanged && lastPresence.get(sessionId) === seen) return;
    lastPresence.set(sessionId, seen);
    io.to(sessionRoom(sessionId)).emit(LIVE_SOCKET.presence, view);
  };
  // With several processes, presence is also re-gathered every few seconds for the sessions this process has people
  // in: a process that started moments ago may not have heard of the others when someone joined, and one that died
  // cannot say its people left. Whatever was shown is corrected within PRESENCE_REFRESH_MS either way.
  if (deps.realtimeAdapter) {
    const timer = setInterval(() => {
      const rooms = io.of('/').adapter.rooms;
      for (const sessionId of lastPresence.keys()) if (!rooms.has(sessionRoom(sessionId))) lastPresence.delete(sessionId);
      for (const room of rooms.keys()) {
        const sessionId = sessionOfRoom(room);
        if (sessionId) void presence(sessionId, true).catch(() => undefined);
      }
    }, PRESENCE_REFRESH_MS);
    timer.unref();
    runtime.atClose(() => clearInterval(timer));
  }

  io.on('connection', (socket) => {
    const bucket = new TokenBucket(deps.config.liveEventsPerSecond, deps.config.liveEventBurst);
    const fail = (ack: unknown, error: unknown) => {
      if (typeof ack === 'function') ack(errorPayload(error, deps.logger));
    };

    socket.on(LIVE_SOCKET.join, async (payload: unknown, ack: unknown) => {
      try {
        const actor = requireUser(socket);
        const parsed = joinSchema.safeParse(payload);
        if (!parsed.success) throw new AppError('validation_failed', 'Join with { sessionId, sinceSeq }.', { fields: fieldErrors(parsed.error) });
        const session = await findLiveSession(deps.db, parsed.data.sessionId);
        if (!session) throw new AppError('not_found', 'That live session was not found.');
        const ref = await sessionRef(deps.db, session, actor);
        if (!can(actor, 'live.join', ref)) throw new AppError('forbidden', 'You are not a participant of this session: ask its owner for an invitation link.');
        blindOpen.set(session.id, session.blind && session.status === 'open');
        const role = ref.role;
        // An admin looking in without a role is shown as such in presence; the log refuses anything they send.
        socket.data.live = { ...socket.data.live, [session.id]: role ?? 'admin (visiting)' };
        await socket.join([sessionRoom(session.id), participantRoom(session.id, actor.id)]);
        const [events, participants, ethogram] = await Promise.all([
          readLog(deps.db, session, actor.id, parsed.data.sinceSeq),
          listParticipants(deps.db, session.id),
          runtime.ethograms.get(session.ethogramVersionId),
        ]);
        const view: LiveSessionView = {
          id: session.id,
          title: session.title,
          status: session.status,
          blind: session.blind,
          target: describeTarget(session.target),
          ethogramVersionId: session.ethogramVersionId,
          ...presentSessionEthogram(ethogram),
          participants: participants.filter((p) => !p.removedAt).map((p) => ({ userId: p.userId, displayName: p.displayName, role: p.role })),
          me: { userId: actor.id, role, owner: actor.id === session.createdBy },
          lastSeq: Math.max(session.lastSeq, events[events.length - 1]?.seq ?? 0),
          observationId: session.observationId,
        };
        if (typeof ack === 'function') ack({ ok: true, session: view, events });
        void presence(session.id).catch(() => undefined);
        // Someone may soon prompt: load the model SDKs now (once) rather than stall the first prompt's answer.
        if (session.status === 'open') void modelSdks().catch(() => undefined);
      } catch (error) {
        fail(ack, error);
      }
    });

    socket.on(LIVE_SOCKET.leave, async (payload: unknown) => {
      const sessionId = (payload as { sessionId?: unknown } | null)?.sessionId;
      if (typeof sessionId !== 'string' || !socket.data.live?.[sessionId]) return;
      delete socket.data.live[sessionId];
      await socket.leave(sessionRoom(sessionId));
      await socket.leave(participantRoom(sessionId, (socket.data.actor as UserActor).id));
      void presence(sessionId).catch(() => undefined);
    });

    socket.on(LIVE_SOCKET.event, async (payload: unknown, ack: unknown) => {
      try {
        const actor = requireUser(socket);
        if (!bucket.take()) {
          throw new AppError('rate_limited', `Too many events: at most ${deps.config.liveEventsPerSecond} a second (bursts of ${deps.config.liveEventBurst}). Wait a moment; nothing after this was stored.`);
        }
        const parsed = clientEventSchema.safeParse(payload);
        if (!parsed.success) {
          const fields = fieldErrors(parsed.error);
          throw new AppError('validation_failed', `The event is not valid: ${Object.entries(fields).slice(0, 3).map(([k, v]) => `${k}: ${v}`).join('; ')}`, { fields });
        }
        if (!socket.rooms.has(sessionRoom(parsed.data.sessionId))) throw new AppError('forbidden', 'Join the session before sending events to it.');
        const appended = await runtime.submit(actor, parsed.data);
        if (typeof ack === 'function') ack({ ok: true, seq: appended.seq, duplicate: appended.duplicate });
      } catch (error) {
        fail(ack, error);
      }
    });

    socket.on(LIVE_SOCKET.cursor, (payload: unknown) => {
      if (socket.data.actor?.kind !== 'user' || !bucket.take()) return;
      const parsed = cursorSchema.safeParse(payload);
      if (!parsed.success || !socket.rooms.has(sessionRoom(parsed.data.sessionId))) return;
      const actor = socket.data.actor;
      socket.volatile.to(sessionRoom(parsed.data.sessionId)).emit(LIVE_SOCKET.cursor, { ...parsed.data, userId: actor.id, displayName: actor.displayName, sentAt: Date.now() });
    });

    socket.on('disconnect', () => {
      for (const sessionId of Object.keys(socket.data.live ?? {})) void presence(sessionId).catch(() => undefined);
    });
  });

  return runtime;
}

/**
 * After a participant change commits: the removed person's sockets (in every process) leave the session and are
 * told so; anyone whose role changed gets it on their next join. Then everyone sees the new presence.
 */
export async function applyParticipantChange(hub: LiveHub, sessionId: string, change: { userId: string; role: string | null }): Promise<void> {
  if (change.role !== null) return;
  await hub.removeParticipant(sessionId, change.userId);
}

function requireUser(socket: Socket): UserActor {
  const actor = socket.data.actor;
  if (actor?.kind !== 'user') throw new AppError('unauthenticated', 'Sign in to take part in live sessions.');
  return actor;
}
