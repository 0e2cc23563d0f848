import type { Db } from '../core/db.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { RealtimeAdapter } from './realtime/postgres-adapter.ts';

/** Everything createApp needs, passed in: no globals, no environment reads. */
export interface AppDeps {
  config: Config;
  db: Db;
  dbKind: 'pglite' | 'postgres';
  now: () => Date;
  logger: Logger;
  /** Secret for CSRF tokens (configured, or generated once and stored in the database). */
  secret: string;
  /**
   * The judge key variables of the server's environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, MENAGERIE_JUDGE_*),
   * read once by the entry point (see `judgeEnvironment`): judge settings name a variable, the key stays here.
   * Never logged or rendered. Absent: no keys (local judges only).
   */
  judgeEnv?: Readonly<Record<string, string | undefined>>;
  /**
   * Shares socket.io rooms with the other server processes on the same PostgreSQL server (live sessions served
   * by several processes). Absent: rooms live in this process (PGlite, or a single server).
   */
  realtimeAdapter?: RealtimeAdapter;
}
