import { loadConfig, type Config } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import type { Db } from '../../core/db.ts';

/**
 * Opens the configured database (migrated) for a shell task, runs it, and closes the database. A task that keeps
 * several statements going at once (an import) asks for a larger PostgreSQL pool than the default two.
 */
export async function withDatabase<T>(env: Record<string, string | undefined>, work: (db: Db, config: Config) => Promise<T>, options: { poolSize?: number } = {}): Promise<T> {
  const config = loadConfig(env);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: options.poolSize ?? 2 });
  try {
    await database.migrate();
    return await work(database.db, config);
  } finally {
    await database.close();
  }
}
