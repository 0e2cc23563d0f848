import { desc, eq } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { conflict, notFound } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { behaviours, ethograms, ethogramVersions } from './ethogram.schema.ts';
import { actorIdOf } from './draft-edit.ts';
import type { VersionRow } from './version-document.ts';

/**
 * Opens the next version of an ethogram as a draft, copied from its newest version (lists and behaviours,
 * with the same stable keys). One draft at a time: a second is a conflict naming the open one. The ethogram's
 * row is locked so that two people asking at once cannot both open one.
 */
export async function createDraft(ctx: Ctx, ethogramId: string): Promise<VersionRow> {
  return inTransaction(ctx.db, async (tx) => {
    const [ethogram] = await tx.select().from(ethograms).where(eq(ethograms.id, ethogramId)).for('update');
    if (!ethogram) throw notFound('That ethogram');
    const versions = await tx.select().from(ethogramVersions).where(eq(ethogramVersions.ethogramId, ethogramId)).orderBy(desc(ethogramVersions.number));
    const open = versions.find((v) => v.status === 'draft');
    if (open) {
      throw conflict(`"${ethogram.slug}" already has a draft: version ${open.number}. Edit that one, or publish or discard it first.`, { draft: open.number });
    }
    const latest = versions[0];
    if (!latest) throw notFound('A version of that ethogram');
    const actorId = actorIdOf(ctx.actor);
    const [draft] = await tx
      .insert(ethogramVersions)
      .values({
        ethogramId,
        number: latest.number + 1,
        status: 'draft',
        notes: '',
        categories: latest.categories,
        modifierSets: latest.modifierSets,
        exclusiveGroups: latest.exclusiveGroups,
        baseVersionId: latest.id,
        migrations: [],
        createdBy: actorId,
        createdAt: ctx.now(),
      })
      .returning();
    const copied = await tx.select().from(behaviours).where(eq(behaviours.versionId, latest.id));
    if (copied.length > 0) {
      await tx.insert(behaviours).values(copied.map(({ id: _id, versionId: _versionId, ...rest }) => ({ ...rest, versionId: draft!.id })));
    }
    await recordEvent(tx, {
      type: 'ethogram_version.draft_created',
      entityType: 'ethogram_version',
      entityId: draft!.id,
      actorId,
      payload: { slug: ethogram.slug, version: draft!.number, from: latest.number },
    });
    return draft!;
  });
}
