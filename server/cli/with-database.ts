import { loadConfig, type Config } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import type { Db } from '../../core/db.ts';

export interface ShellDatabaseOptions {
  /** PostgreSQL pool size (default 2): a task that keeps several statements going at once (an import) asks for more. */
  poolSize?: number;
  /**
   * Run PGlite in a worker thread, as the server does, for a long task whose own JavaScript work (parsing an import,
   * building an export, running jobs) then overlaps the database's. Short tasks open it in this thread: about 0.7 s
   * sooner and no worker to stop (1.2 s against 1.9 s to open and migrate a data folder here).
   */
  pgliteWorker?: boolean;
}

/** Opens the configured database (migrated) for a shell task, runs it, and closes the database. */
export async function withDatabase<T>(env: Record<string, string | undefined>, work: (db: Db, config: Config) => Promise<T>, options: ShellDatabaseOptions = {}): Promise<T> {
  const config = loadConfig(env);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: options.poolSize ?? 2, pgliteInProcess: !options.pgliteWorker });
  try {
    await database.migrate();
    return await work(database.db, config);
  } finally {
    await database.close();
  }
}
