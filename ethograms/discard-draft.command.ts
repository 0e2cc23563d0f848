import { eq } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { conflict } from '../core/errors.ts';
import { recordEvent, recordRevision } from '../core/history.ts';
import { behaviours, ethograms, ethogramVersions } from './ethogram.schema.ts';
import { actorIdOf, lockDraft } from './draft-edit.ts';
import { versionDocument } from './version-document.ts';

/**
 * Throws a draft away so that a new one can be opened. The whole draft (as a document) is kept as a revision:
 * the tombstone. An ethogram's only version cannot be discarded, since new drafts are copied from the latest.
 */
export async function discardDraft(ctx: Ctx, versionId: string, expectedRevision?: number): Promise<void> {
  await inTransaction(ctx.db, async (tx) => {
    const version = await lockDraft(tx, versionId, expectedRevision);
    const siblings = await tx.select({ id: ethogramVersions.id }).from(ethogramVersions).where(eq(ethogramVersions.ethogramId, version.ethogramId));
    if (siblings.length === 1) {
      throw conflict(`Version ${version.number} is this ethogram's only version, so it cannot be discarded. Edit it instead.`);
    }
    const [ethogram] = await tx.select().from(ethograms).where(eq(ethograms.id, version.ethogramId));
    const rows = await tx.select().from(behaviours).where(eq(behaviours.versionId, versionId));
    const actorId = actorIdOf(ctx.actor);
    await recordRevision(tx, {
      entityType: 'ethogram_version',
      entityId: versionId,
      revision: version.revision,
      snapshot: { ...versionDocument(ethogram!, version, rows), discarded: true },
      actorId,
      reason: 'draft discarded',
    });
    await tx.delete(behaviours).where(eq(behaviours.versionId, versionId));
    await tx.delete(ethogramVersions).where(eq(ethogramVersions.id, versionId));
    await recordEvent(tx, { type: 'ethogram_version.discarded', entityType: 'ethogram_version', entityId: versionId, actorId, payload: { slug: ethogram!.slug, version: version.number } });
  });
}
