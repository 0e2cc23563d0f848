import { setFlagsFromString } from 'node:v8';
import { startSearchIndexer } from '../observations/search-indexer.ts';
import { createApp } from './app.ts';
import { judgeEnvironment, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openServedDatabase } from './open-served-database.ts';
import { postgresRealtimeAdapter } from './realtime/postgres-adapter.ts';

/**
 * Boots the server: config -> database (migrated, instance set up) -> app and search indexer -> listen.
 * The only reader of process.env.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  boundHeapGrowth(env.NODE_OPTIONS);
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel);
  const now = () => new Date();
  const { database, secret } = await openServedDatabase({ config, logger, now });
  // Several processes on one PostgreSQL server share socket.io rooms (live sessions) through it; PGlite is one process.
  const realtimeAdapter =
    database.kind === 'postgres' && config.databaseUrl && config.realtimeAdapter === 'postgres'
      ? postgresRealtimeAdapter(config.databaseUrl, (error) => logger.error('realtime adapter', { error: String(error) }))
      : undefined;
  const app = createApp({ config, db: database.db, dbKind: database.kind, now, logger, secret, judgeEnv: judgeEnvironment(env), realtimeAdapter });
  const indexer = startSearchIndexer(database.db, { onError: (err) => logger.error('search indexer', { error: String(err) }) });
  await new Promise<void>((resolve) => app.http.listen(config.port, config.host, resolve));
  const where = database.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL server';
  logger.info(`Menagerie listening on http://localhost:${config.port} (${where})`);
  const stop = async () => {
    logger.info('shutting down');
    await app.close();
    await realtimeAdapter?.close();
    await indexer.stop();
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * Lets V8's old generation grow to twice what survived the last full collection before the next one, instead of
 * up to four times (its default while collections are cheap, as they are here: about 40 MB live). Requests' data
 * outlives a young-generation collection or two under load and is promoted, so a burst of ingestion used to take
 * the server's RSS from about 210 to 270-330 MB before the old generation was collected; with this, about 230 MB,
 * at the same rate (bench/ingestion.bench.ts). V8 reads the flag at every full collection, so it applies when set
 * here; `NODE_OPTIONS=--heap-growing-percent=N` overrides it.
 */
function boundHeapGrowth(nodeOptions: string | undefined): void {
  if (process.execArgv.some((a) => a.startsWith('--heap-growing-percent')) || nodeOptions?.includes('--heap-growing-percent')) return;
  setFlagsFromString('--heap-growing-percent=100');
}
