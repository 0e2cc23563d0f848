import { eq } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction, type Db } from '../core/db.ts';
import { forgetDefaultVersion } from './default-version.ts';
import { invalid } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import type { Migration } from './ethogram-document.schema.ts';
import { behaviours, ethograms, ethogramVersions } from './ethogram.schema.ts';
import { actorIdOf, lockDraft, recordDraftEdit } from './draft-edit.ts';
import { describeChange } from './evolution/diff.ts';
import { draftChanges, enqueueRecodes } from './evolution/version-changes.ts';
import { documentProblems, versionDocument, type VersionRow } from './version-document.ts';

export interface PublishedVersion extends VersionRow {
  /** Codings the version's splits and redefinitions put in the recode queue. */
  queuedForRecode: number;
}

/**
 * Publishes a draft once it passes every rule of the document format as a whole, and once every change that
 * affects existing codings has a migration (ethograms/evolution/): a coded behaviour removed without a merge,
 * split or retirement, or redefined without a decision, is refused with each such change listed. From then on
 * the version is immutable. Splits and recoding redefinitions queue their codings for people to decide, in the
 * same transaction. Earlier published versions stay published (codings pinned to them stay valid).
 */
export async function publishVersion(ctx: Ctx, versionId: string, expectedRevision?: number): Promise<PublishedVersion> {
  const result = await inTransaction(ctx.db, async (tx) => {
    const version = await lockDraft(tx, versionId, expectedRevision);
    return publishLockedDraft(tx, ctx, version);
  });
  // Which version is the default may have changed: drop the cached answer now, after commit.
  forgetDefaultVersion();
  return result;
}

/** The publishing step itself, for a draft already locked in `tx` (imports that publish at once use it too). */
export async function publishLockedDraft(tx: Db, ctx: Ctx, version: VersionRow): Promise<PublishedVersion> {
  const [ethogram] = await tx.select().from(ethograms).where(eq(ethograms.id, version.ethogramId));
  const rows = await tx.select().from(behaviours).where(eq(behaviours.versionId, version.id));
  const problems = documentProblems(versionDocument(ethogram!, version, rows));
  if (problems.length > 0) {
    const list = problems.slice(0, 5).map((p) => `${p.code ? `${p.code} ` : ''}${p.path}: ${p.message}`).join('; ');
    throw invalid(
      `Version ${version.number} cannot be published yet (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`,
      Object.fromEntries(problems.map((p) => [p.path, p.message])),
    );
  }
  const migrations = version.migrations as Migration[];
  const changes = await draftChanges(tx, version.ethogramId, rows, migrations);
  if (changes.diff.problems.length > 0) {
    throw invalid(
      `Version ${version.number} declares migrations that do not fit: ${changes.diff.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      Object.fromEntries(changes.diff.problems.map((p) => [p.path, p.message])),
    );
  }
  if (changes.breaking.length > 0) {
    throw invalid(
      `Version ${version.number} cannot be published: ${changes.breaking.length} change${changes.breaking.length === 1 ? '' : 's'} would reinterpret existing codings without a migration. ` +
        changes.breaking.map((b) => b.message).join('; ') +
        '. Declare a migration for each on the version\'s changes page.',
      Object.fromEntries(changes.breaking.map((b) => [`migrations.${b.code}`, b.message])),
    );
  }
  await recordDraftEdit(tx, ctx, version, 'published');
  const [published] = await tx
    .update(ethogramVersions)
    .set({ status: 'published', publishedAt: ctx.now(), baseVersionId: changes.base?.versionId ?? null })
    .where(eq(ethogramVersions.id, version.id))
    .returning();
  const queuedForRecode = await enqueueRecodes(tx, changes, version.ethogramId, version.id, ctx.now());
  await recordEvent(tx, {
    type: 'ethogram_version.published',
    entityType: 'ethogram_version',
    entityId: version.id,
    actorId: actorIdOf(ctx.actor),
    payload: {
      slug: ethogram!.slug,
      version: version.number,
      behaviours: rows.length,
      ...(changes.base ? { from: changes.base.number, changes: changes.diff.changes.map(describeChange), migrations, queuedForRecode } : {}),
    },
  });
  return { ...published!, queuedForRecode };
}
