import type { Socket } from 'socket.io-client';
import type { ClientEvent, Cursor, LIVE_SOCKET as LiveSocketNames, LiveEventView, LiveSessionView, PresenceView, TokenPreview } from '../../live/live-events.ts';
import { Outbox } from './outbox.ts';

/**
 * The socket event names of the contract (live/live-events.ts), checked against it by type: importing the
 * module's values would bundle its zod schemas (and zod's locales) into the page's script for four strings.
 */
const LIVE_SOCKET = {
  join: 'live:join',
  event: 'live:event',
  preview: 'live:preview',
  cursor: 'live:cursor',
  presence: 'live:presence',
  removed: 'live:removed',
} as const satisfies Partial<typeof LiveSocketNames>;

/** Served by the app from the socket.io package; loaded only on the room page. */
const SOCKET_CLIENT_URL = '/assets/socket.io.js';
/** How long an event may wait for its acknowledgement before it is sent again (same id: stored once). */
const ACK_TIMEOUT_MS = 15_000;

type AckError = { id: string; message: string; details?: { fields?: Record<string, string> } };
type EventAck = { ok?: true; seq?: number | null; duplicate?: boolean; error?: AckError };
type JoinAck = { ok?: true; session?: LiveSessionView; events?: LiveEventView[]; error?: AckError };

/** A remote participant's cursor as the server relays it. */
export type RemoteCursor = Cursor & { userId: string; displayName: string; sentAt: number };

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'removed' | 'failed';

export interface ConnectionHandlers {
  /** The join's answer (first time and after each reconnection): the session now and the log after `sinceSeq`. */
  joined(view: LiveSessionView, events: LiveEventView[]): void;
  event(event: LiveEventView): void;
  /** Model text not stored yet (only while joined: before the join's catch-up it could not be placed). */
  preview(preview: TokenPreview): void;
  presence(view: PresenceView): void;
  cursor(cursor: RemoteCursor): void;
  removed(message: string): void;
  /** The connection's state or the outbox changed: redraw the status line. */
  state(state: ConnectionState): void;
  /** An event was acknowledged (stored, or found stored already). */
  acked(event: ClientEvent, seq: number | null): void;
  /** An event was refused, for good: the person should read why. */
  refused(event: ClientEvent | null, message: string): void;
}

/**
 * The room's socket: joins the session (asking for the log after the last seq it has, so a reconnection
 * catches up), keeps each event in the outbox until the server acknowledges it and resends what is left, with
 * the same ids, after every reconnection. Broadcasts that arrive before the join's answer wait for it, so the
 * catch-up is applied first.
 */
export class LiveConnection {
  private readonly sessionId: string;
  private readonly sinceSeq: () => number;
  private readonly on: ConnectionHandlers;
  readonly outbox: Outbox;
  private socket: Socket | null = null;
  private joined = false;
  private waiting: LiveEventView[] = [];
  private readonly inFlight = new Set<string>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private current: ConnectionState = 'connecting';
  private stopped = false;

  constructor(
    sessionId: string,
    userId: string,
    sinceSeq: () => number,
    on: ConnectionHandlers,
  ) {
    this.sessionId = sessionId;
    this.sinceSeq = sinceSeq;
    this.on = on;
    this.outbox = new Outbox(`menagerie.live.outbox.${sessionId}.${userId}`);
  }

  get state(): ConnectionState {
    return this.current;
  }

  async start(): Promise<void> {
    this.setState('connecting');
    let io: typeof import('socket.io-client').io;
    try {
      ({ io } = (await import(/* dynamic: served apart from the bundle */ SOCKET_CLIENT_URL)) as typeof import('socket.io-client'));
    } catch {
      this.setState('failed');
      this.on.refused(null, 'The live connection could not be loaded: reload the page.');
      return;
    }
    const socket = io({ transports: ['websocket', 'polling'] });
    this.socket = socket;
    socket.on('connect', () => this.join());
    socket.on('disconnect', () => {
      this.joined = false;
      this.inFlight.clear();
      // socket.io would replay emits queued while offline before our join on reconnecting (and the server
      // refuses events from a socket that has not joined): the outbox resends them after the join instead.
      socket.sendBuffer = [];
      if (!this.stopped) this.setState('reconnecting');
    });
    socket.on('connect_error', () => {
      if (!this.stopped) this.setState(this.current === 'connecting' ? 'connecting' : 'reconnecting');
    });
    socket.on(LIVE_SOCKET.event, (event: LiveEventView) => {
      if (this.joined) this.on.event(event);
      else this.waiting.push(event);
    });
    socket.on(LIVE_SOCKET.preview, (preview: TokenPreview) => {
      if (this.joined && preview.sessionId === this.sessionId) this.on.preview(preview);
    });
    socket.on(LIVE_SOCKET.presence, (view: PresenceView) => {
      if (view.sessionId === this.sessionId) this.on.presence(view);
    });
    socket.on(LIVE_SOCKET.cursor, (cursor: RemoteCursor) => {
      if (cursor.sessionId === this.sessionId) this.on.cursor(cursor);
    });
    socket.on(LIVE_SOCKET.removed, (payload: { sessionId?: string; message?: string }) => {
      if (payload.sessionId !== this.sessionId) return;
      this.stop('removed');
      this.on.removed(payload.message ?? 'You were removed from this session.');
    });
  }

  /**
   * Keeps the event in the outbox and sends it when connected. The server validates it (with the contract's zod
   * schema) and says why in the acknowledgement when it refuses it; this checks only what a person can mistype.
   */
  send(event: ClientEvent): { ok: true } | { ok: false; message: string } {
    if ((event.type === 'prompt' || event.type === 'comment') && !event.text.trim()) return { ok: false, message: `Write a ${event.type} first.` };
    this.outbox.add(event);
    this.on.state(this.current);
    this.flush();
    return { ok: true };
  }

  /** Volatile: dropped rather than queued when the connection is down. */
  cursor(cursor: Omit<Cursor, 'sessionId'>): void {
    if (this.joined && this.socket?.connected) this.socket.volatile.emit(LIVE_SOCKET.cursor, { sessionId: this.sessionId, ...cursor });
  }

  stop(state: ConnectionState): void {
    this.stopped = true;
    this.setState(state);
    this.socket?.disconnect();
  }

  private setState(state: ConnectionState): void {
    this.current = state;
    this.on.state(state);
  }

  /**
   * Asks for the whole log again (a blind session that has just ended: the others' codes, hidden until now,
   * become visible). Events already applied are skipped by seq.
   */
  resync(): void {
    if (this.joined && this.socket?.connected) this.join(0);
  }

  private join(sinceSeq = this.sinceSeq()): void {
    const socket = this.socket!;
    socket.timeout(ACK_TIMEOUT_MS).emit(LIVE_SOCKET.join, { sessionId: this.sessionId, sinceSeq }, (err: Error | null, ack: JoinAck) => {
      if (err) {
        // No answer in time: try again on this connection (joining twice is harmless).
        if (socket.connected) this.join(sinceSeq);
        return;
      }
      if (!ack.ok || !ack.session) {
        const error = ack.error ?? { id: 'internal', message: 'Could not join the session.' };
        if (['unauthenticated', 'forbidden', 'not_found', 'validation_failed'].includes(error.id)) this.stop('failed');
        this.on.refused(null, error.message);
        return;
      }
      this.on.joined(ack.session, ack.events ?? []);
      this.joined = true;
      const waiting = this.waiting;
      this.waiting = [];
      for (const e of waiting) this.on.event(e);
      this.setState('connected');
      this.flush();
    });
  }

  /** Sends every outbox event not already on its way, in order. */
  private flush(): void {
    const socket = this.socket;
    if (!socket?.connected || !this.joined || this.stopped) return;
    for (const event of this.outbox.list()) {
      if (this.inFlight.has(event.id)) continue;
      this.inFlight.add(event.id);
      socket.timeout(ACK_TIMEOUT_MS).emit(LIVE_SOCKET.event, event, (err: Error | null, ack: EventAck) => this.settle(socket, event, err, ack));
    }
  }

  private settle(socket: Socket, event: ClientEvent, err: Error | null, ack: EventAck): void {
    if (socket !== this.socket) return;
    this.inFlight.delete(event.id);
    if (err) {
      // Timed out or disconnected: the event stays in the outbox and goes again (after the next join, if offline).
      this.retrySoon(1000);
      return;
    }
    if (ack.ok) {
      this.outbox.remove(event.id);
      this.on.acked(event, ack.seq ?? null);
      this.on.state(this.current);
      return;
    }
    const error = ack.error ?? { id: 'internal', message: 'The server did not say why.' };
    if (error.id === 'rate_limited') {
      this.retrySoon(1000);
      return;
    }
    if (error.id === 'forbidden' && /join the session/i.test(error.message)) {
      // The socket lost its room (a server restart between our join and this event): join again, then resend.
      this.joined = false;
      this.join();
      return;
    }
    this.outbox.remove(event.id);
    this.on.state(this.current);
    this.on.refused(event, error.message);
  }

  private retrySoon(ms: number): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flush();
    }, ms);
  }
}
