import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { users } from '../../../accounts/account.schema.ts';
import { settings } from '../../../core/core.schema.ts';
import { inTransaction, type Db } from '../../../core/db.ts';
import { recordEvent } from '../../../core/history.ts';
import { ethograms, ethogramVersions } from '../../../ethograms/ethogram.schema.ts';
import { classifiers } from '../classify.schema.ts';
import { versionCodes } from './classifier.queries.ts';
import { parseClassifierSettings } from './classifier-settings.ts';

/** The settings key remembering that the starter rules classifier was made (so archiving it is final). */
const MARKER = 'starter_rules_classifier';
const LOCK = 7303;
export const STARTER_RULES_NAME = 'Rule detectors';

/**
 * Makes the ready "Rule detectors" classifier (every detector, the registry's default mapping) pinned to the
 * starter ethogram's published version, once per instance, so rules work out of the box. A classifier needs a
 * person as its creator: the one given, else the first admin; on a fresh instance with no account yet nothing is
 * made, and the next call (the next boot, or a researcher opening the classifiers) makes it. Once made it is
 * never made again, even if archived. Returns the new classifier's id, or null.
 */
export async function ensureStarterRulesClassifier(db: Db, now: () => Date, userId?: string): Promise<string | null> {
  const [marked] = await db.select({ key: settings.key }).from(settings).where(eq(settings.key, MARKER));
  if (marked) return null;
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK})`);
    const [again] = await tx.select({ key: settings.key }).from(settings).where(eq(settings.key, MARKER));
    if (again) return null;
    const [version] = await tx
      .select({ id: ethogramVersions.id })
      .from(ethogramVersions)
      .innerJoin(ethograms, eq(ethograms.id, ethogramVersions.ethogramId))
      .where(and(eq(ethograms.slug, 'llm-starter'), eq(ethogramVersions.status, 'published')))
      .orderBy(desc(ethogramVersions.number))
      .limit(1);
    if (!version) return null;
    const creator = userId ?? (await firstAdmin(tx));
    if (!creator) return null;
    const at = now();
    const [row] = await tx
      .insert(classifiers)
      .values({
        kind: 'rules',
        name: STARTER_RULES_NAME,
        ethogramVersionId: version.id,
        settings: parseClassifierSettings('rules', {}, await versionCodes(tx, version.id)),
        createdBy: creator,
        createdAt: at,
        updatedAt: at,
      })
      .returning({ id: classifiers.id });
    await tx.insert(settings).values({ key: MARKER, value: row!.id });
    await recordEvent(tx, { type: 'classifier.created', entityType: 'classifier', entityId: row!.id, actorId: creator, payload: { kind: 'rules', name: STARTER_RULES_NAME, starter: true } });
    return row!.id;
  });
}

async function firstAdmin(db: Db): Promise<string | undefined> {
  const [admin] = await db.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).orderBy(asc(users.createdAt)).limit(1);
  return admin?.id;
}
