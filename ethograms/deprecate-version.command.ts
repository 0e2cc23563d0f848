import { eq } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { forgetDefaultVersion } from './default-version.ts';
import { conflict, notFound } from '../core/errors.ts';
import { recordEvent, recordRevision } from '../core/history.ts';
import { ethogramVersions } from './ethogram.schema.ts';
import { actorIdOf, versionSnapshot } from './draft-edit.ts';
import type { VersionRow } from './version-document.ts';

/**
 * Marks a published version as deprecated: still readable, and codings made against it keep their
 * definitions, but new work should use a newer version. Its content stays frozen; only the status changes.
 */
export async function deprecateVersion(ctx: Ctx, versionId: string): Promise<VersionRow> {
  const result = await inTransaction(ctx.db, async (tx) => {
    const [version] = await tx.select().from(ethogramVersions).where(eq(ethogramVersions.id, versionId)).for('update');
    if (!version) throw notFound('That ethogram version');
    if (version.status === 'draft') throw conflict(`Version ${version.number} is a draft: discard it instead of deprecating it.`);
    if (version.status === 'deprecated') throw conflict(`Version ${version.number} is already deprecated.`);
    const actorId = actorIdOf(ctx.actor);
    await recordRevision(tx, { entityType: 'ethogram_version', entityId: versionId, revision: version.revision, snapshot: versionSnapshot(version), actorId, reason: 'deprecated' });
    const [deprecated] = await tx
      .update(ethogramVersions)
      .set({ status: 'deprecated', revision: version.revision + 1 })
      .where(eq(ethogramVersions.id, versionId))
      .returning();
    await recordEvent(tx, { type: 'ethogram_version.deprecated', entityType: 'ethogram_version', entityId: versionId, actorId, payload: { version: version.number } });
    return deprecated!;
  });
  // Which version is the default may have changed: drop the cached answer now, after commit.
  forgetDefaultVersion();
  return result;
}
