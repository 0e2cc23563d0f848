import { and, eq } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { notFound } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { behaviours } from './ethogram.schema.ts';
import { actorIdOf, lockDraft, recordDraftEdit } from './draft-edit.ts';

/**
 * Removes a behaviour from a draft. Its last state is kept as a revision (the tombstone), so the removal can
 * be read back and undone by hand. Groups or replacements that still name it are reported on publish.
 */
export async function deleteBehaviour(ctx: Ctx, versionId: string, code: string, expectedRevision?: number): Promise<void> {
  await inTransaction(ctx.db, async (tx) => {
    const version = await lockDraft(tx, versionId, expectedRevision);
    const [existing] = await tx.select().from(behaviours).where(and(eq(behaviours.versionId, versionId), eq(behaviours.code, code)));
    if (!existing) throw notFound(`The behaviour ${code}`);
    await recordDraftEdit(tx, ctx, version, `behaviour ${code} deleted`, existing);
    await tx.delete(behaviours).where(eq(behaviours.id, existing.id));
    await recordEvent(tx, {
      type: 'behaviour.deleted',
      entityType: 'behaviour',
      entityId: existing.id,
      actorId: actorIdOf(ctx.actor),
      payload: { version: version.number, code },
    });
  });
}
