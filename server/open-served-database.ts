import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import type { Logger } from './logger.ts';
import { prepareInstance } from './prepare-instance.ts';

/**
 * The server's database, ready to serve: opened, migrated, and the instance prepared (secret, starter ethogram).
 *
 * On a first start the embedded database is created here: PGlite's initdb, every migration and the starter
 * ethogram run in the PGlite worker's WebAssembly memory, which grows to hold them and never shrinks. The server
 * kept it for its whole life: about 900 MB of RSS at rest after a first start, against about 470-500 MB after a
 * restart on the same folder. So once the folder is created and prepared, that database is closed (its worker
 * and memory go) and the folder reopened before anything is served: a first start rests at about 515 MB, and
 * takes about 1.5 s longer (8.4 s against 6.6 s to answer on a slow 2-core machine). Later starts are unchanged.
 */
export async function openServedDatabase(opts: { config: Config; logger: Logger; now: () => Date }): Promise<{ database: Database; secret: string }> {
  const { config } = opts;
  const open = () => openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize, pgliteInProcess: !config.pgliteWorker });
  let database = await open();
  try {
    await database.migrate();
    const { secret } = await prepareInstance({ db: database.db, config, logger: opts.logger, now: opts.now });
    if (database.created) {
      await database.close();
      database = await open();
    }
    return { database, secret };
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}
