import type { AddressInfo } from 'node:net';
import { createApp, type App } from '../../server/app.ts';
import type { AppDeps } from '../../server/app-deps.ts';
import { testConfig, type Config } from '../../server/config.ts';
import type { Database } from '../../server/db/client.ts';
import { createLogger } from '../../server/logger.ts';
import { prepareInstance } from '../../server/prepare-instance.ts';
import { createTestDatabase } from './test-db.ts';

export interface TestApp {
  url: string;
  app: App;
  deps: AppDeps;
  database: Database;
  /** Moves the app's clock (session expiry tests). */
  clock: { offsetMs: number };
  close(): Promise<void>;
}

/** A real app on a real database, listening on a free localhost port. */
export async function startTestApp(options: { config?: Partial<Config>; loadStarter?: boolean } = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = testConfig({ loadStarter: options.loadStarter ?? true, ...options.config });
  const clock = { offsetMs: 0 };
  const now = () => new Date(Date.now() + clock.offsetMs);
  const logger = createLogger(process.env.TEST_LOG === '1' ? 'debug' : 'error', (line) => {
    if (process.env.TEST_LOG === '1' || line.includes(' error ')) process.stderr.write(line + '\n');
  });
  const { secret } = await prepareInstance({ db: database.db, config, logger, now });
  const deps: AppDeps = { config, db: database.db, dbKind: database.kind, now, logger, secret };
  const app = createApp(deps);
  await new Promise<void>((resolve) => app.http.listen(0, '127.0.0.1', resolve));
  const { port } = app.http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    deps,
    database,
    clock,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
