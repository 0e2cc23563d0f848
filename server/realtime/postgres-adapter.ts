import { createAdapter } from '@socket.io/postgres-adapter';
import pg from 'pg';

/** What createApp installs on socket.io so several server processes share rooms, and how to release it. */
export interface RealtimeAdapter {
  adapter: ReturnType<typeof createAdapter>;
  close(): Promise<void>;
}

/**
 * The socket.io PostgreSQL adapter on its own small pool: it holds one connection for LISTEN and publishes
 * with NOTIFY, so an emit to a room reaches that room's sockets in every process serving the same database
 * (and `fetchSockets`, `socketsLeave` and server-side emits work across them too).
 */
export function postgresRealtimeAdapter(databaseUrl: string, onError: (error: Error) => void): RealtimeAdapter {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', onError);
  return {
    adapter: createAdapter(pool, { errorHandler: onError, heartbeatInterval: 2000, heartbeatTimeout: 6000 }),
    close: () => pool.end(),
  };
}
