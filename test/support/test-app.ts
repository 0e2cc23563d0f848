import type { AddressInfo } from 'node:net';
import { createApp, type App } from '../../server/app.ts';
import type { AppDeps } from '../../server/app-deps.ts';
import { testConfig, type Config } from '../../server/config.ts';
import type { Database } from '../../server/db/client.ts';
import { createLogger } from '../../server/logger.ts';
import { prepareInstance } from '../../server/prepare-instance.ts';
import { startSearchIndexer, type SearchIndexer } from '../../observations/search-indexer.ts';
import { createTestDatabase } from './test-db.ts';

export interface TestApp {
  url: string;
  app: App;
  deps: AppDeps;
  database: Database;
  /** Moves the app's clock (session expiry tests). */
  clock: { offsetMs: number };
  /** Waits until every transcript is in the full-text index (it is added in the background, as in production). */
  drainSearchIndex(): Promise<number>;
  close(): Promise<void>;
}

/** A real app on a real database, listening on a free localhost port. */
export async function startTestApp(
  options: { config?: Partial<Config>; loadStarter?: boolean; judgeEnv?: Record<string, string>; searchIndexerIdleMs?: number } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = testConfig({ loadStarter: options.loadStarter ?? true, ...options.config });
  const clock = { offsetMs: 0 };
  const now = () => new Date(Date.now() + clock.offsetMs);
  const logger = createLogger(process.env.TEST_LOG === '1' ? 'debug' : 'error', (line) => {
    if (process.env.TEST_LOG === '1' || line.includes(' error ')) process.stderr.write(line + '\n');
  });
  const { secret } = await prepareInstance({ db: database.db, config, logger, now });
  const deps: AppDeps = { config, db: database.db, dbKind: database.kind, now, logger, secret, judgeEnv: options.judgeEnv ?? {} };
  const app = createApp(deps);
  const indexer: SearchIndexer = startSearchIndexer(database.db, { idleMs: options.searchIndexerIdleMs ?? 50 });
  await new Promise<void>((resolve) => app.http.listen(0, '127.0.0.1', resolve));
  const { port } = app.http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    deps,
    database,
    clock,
    drainSearchIndex: () => indexer.drain(),
    async close() {
      await app.close();
      await indexer.stop();
      await database.close();
    },
  };
}
