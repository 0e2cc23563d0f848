import { eq } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { forgetDefaultVersion } from './default-version.ts';
import { invalid } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { behaviours, ethograms, ethogramVersions } from './ethogram.schema.ts';
import { actorIdOf, lockDraft, recordDraftEdit } from './draft-edit.ts';
import { documentProblems, versionDocument, type VersionRow } from './version-document.ts';

/**
 * Publishes a draft once it passes every rule of the document format as a whole; from then on it is
 * immutable. Earlier published versions stay published (codings pinned to them stay valid) until a
 * researcher deprecates them.
 */
export async function publishVersion(ctx: Ctx, versionId: string, expectedRevision?: number): Promise<VersionRow> {
  const result = await inTransaction(ctx.db, async (tx) => {
    const version = await lockDraft(tx, versionId, expectedRevision);
    const [ethogram] = await tx.select().from(ethograms).where(eq(ethograms.id, version.ethogramId));
    const rows = await tx.select().from(behaviours).where(eq(behaviours.versionId, versionId));
    const problems = documentProblems(versionDocument(ethogram!, version, rows));
    if (problems.length > 0) {
      const list = problems.slice(0, 5).map((p) => `${p.code ? `${p.code} ` : ''}${p.path}: ${p.message}`).join('; ');
      throw invalid(
        `Version ${version.number} cannot be published yet (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${list}`,
        Object.fromEntries(problems.map((p) => [p.path, p.message])),
      );
    }
    await recordDraftEdit(tx, ctx, version, 'published');
    const [published] = await tx
      .update(ethogramVersions)
      .set({ status: 'published', publishedAt: ctx.now() })
      .where(eq(ethogramVersions.id, versionId))
      .returning();
    await recordEvent(tx, {
      type: 'ethogram_version.published',
      entityType: 'ethogram_version',
      entityId: versionId,
      actorId: actorIdOf(ctx.actor),
      payload: { slug: ethogram!.slug, version: version.number, behaviours: rows.length },
    });
    return published!;
  });
  // Which version is the default may have changed: drop the cached answer now, after commit.
  forgetDefaultVersion();
  return result;
}
