import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { settings } from '../core/core.schema.ts';
import type { Db } from '../core/db.ts';
import { purgeExpiredSessions } from '../accounts/sessions.ts';
import { loadStarterEthogram } from '../ethograms/load-starter.ts';
import { ensureStarterRulesClassifier } from '../observations/classify/classifiers/starter-rules-classifier.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

/**
 * Boot-time work for an instance: expired sessions removed, the CSRF secret (configured, or generated once and kept in the database so
 * restarts and several processes agree) and the starter ethogram (loaded once, unless disabled).
 */
export async function prepareInstance(opts: { db: Db; config: Config; logger: Logger; now: () => Date }): Promise<{ secret: string }> {
  let secret = opts.config.secret;
  if (!secret) {
    const generated = randomBytes(32).toString('base64url');
    await opts.db.insert(settings).values({ key: 'secret', value: generated }).onConflictDoNothing();
    const [row] = await opts.db.select().from(settings).where(eq(settings.key, 'secret'));
    secret = String(row!.value);
  }
  await purgeExpiredSessions(opts.db, opts.now());
  if (opts.config.loadStarter) {
    const loaded = await loadStarterEthogram(opts.db, opts.now);
    if (loaded) opts.logger.info(`loaded the starter ethogram (${loaded.behaviours} behaviours)`);
    // The ready "Rule detectors" classifier on the starter ethogram (once there is an admin to own it).
    if (await ensureStarterRulesClassifier(opts.db, opts.now)) opts.logger.info('created the "Rule detectors" classifier');
  }
  return { secret };
}
