import type { Db } from '../core/db.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

/** Everything createApp needs, passed in: no globals, no environment reads. */
export interface AppDeps {
  config: Config;
  db: Db;
  dbKind: 'pglite' | 'postgres';
  now: () => Date;
  logger: Logger;
  /** Secret for CSRF tokens (configured, or generated once and stored in the database). */
  secret: string;
}
