import pg from 'pg';

export interface NotificationListener {
  /** Resolves once the first LISTEN is in place, or the first attempt failed (callers poll regardless). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Called with each notification's payload, and with `undefined` after a reconnection (notifications sent meanwhile are lost). */
  onNotify: (payload: string | undefined) => void;
  onError: (error: Error) => void;
  /** First wait before reconnecting, in ms (doubles up to 30 s; default 1000). */
  retryMs?: number;
}

/**
 * A dedicated connection to a PostgreSQL server (outside any pool: a LISTEN lives as long as its session) that
 * LISTENs on `channel`. When the connection breaks (a server restart, a network cut) it reconnects, waiting
 * `retryMs` and then twice as long each time up to 30 s, and calls `onNotify(undefined)` once it is back.
 */
export function listenForNotifications(databaseUrl: string, channel: string, options: ListenOptions): NotificationListener {
  const firstRetry = options.retryMs ?? 1000;
  let client: pg.Client | null = null;
  let closed = false;
  let retry = firstRetry;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const reconnectLater = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect(true);
    }, retry);
    timer.unref();
    retry = Math.min(retry * 2, 30_000);
  };

  const connect = async (again: boolean) => {
    const c = new pg.Client({ connectionString: databaseUrl });
    client = c;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      if (client === c) client = null;
      c.removeAllListeners('notification');
      void c.end().catch(() => {});
      if (closed) return;
      options.onError(error);
      reconnectLater();
    };
    c.on('error', fail);
    c.on('end', () => fail(new Error(`the connection listening on ${channel} ended`)));
    c.on('notification', (n) => {
      if (n.channel === channel) options.onNotify(n.payload || undefined);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${c.escapeIdentifier(channel)}`);
      if (closed) {
        await c.end().catch(() => {});
        return;
      }
      retry = firstRetry;
      if (again) options.onNotify(undefined);
    } catch (error) {
      fail(error as Error);
    } finally {
      markReady();
    }
  };

  void connect(false);
  return {
    ready,
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners('notification');
        await c.end().catch(() => {});
      }
    },
  };
}
