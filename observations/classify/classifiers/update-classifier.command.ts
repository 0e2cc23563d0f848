import { eq } from 'drizzle-orm';
import type { Ctx } from '../../../core/context.ts';
import { inTransaction } from '../../../core/db.ts';
import { conflict, notFound } from '../../../core/errors.ts';
import { recordEvent, recordRevision } from '../../../core/history.ts';
import { classifiers } from '../classify.schema.ts';
import { actorUserId, classifierSnapshot } from './classifier-history.ts';
import type { UpdateClassifierInput } from './classifier.input.ts';
import { pinnableVersion, type ClassifierRow } from './classifier.queries.ts';
import { parseClassifierSettings } from './classifier-settings.ts';

/**
 * Edits a classifier's name, pinned version or settings (the kind stays). Settings sent replace the old ones and
 * are validated again, as are the old ones when only the version changes (a rules mapping must name codes of the
 * new version). Re-pinning an offline classifier drops its current training: it learned another version's codes.
 * The previous state is kept as a revision; archived classifiers cannot be edited; an editor who saw an older
 * revision gets a conflict rather than overwriting a change they never saw.
 */
export async function updateClassifier(ctx: Ctx, id: string, input: UpdateClassifierInput): Promise<ClassifierRow> {
  const userId = actorUserId(ctx.actor);
  return inTransaction(ctx.db, async (tx) => {
    const [current] = await tx.select().from(classifiers).where(eq(classifiers.id, id)).for('update');
    if (!current) throw notFound('That classifier');
    if (current.archivedAt) throw conflict(`"${current.name}" is archived; archived classifiers keep their codings and figures but are not edited.`);
    if (input.revision !== undefined && input.revision !== current.revision) {
      throw conflict(
        `This classifier has changed since you loaded it (you saw revision ${input.revision}; it is now at ${current.revision}). Reload it and make your change again.`,
        { revision: current.revision },
      );
    }
    const versionId = input.ethogramVersionId ?? current.ethogramVersionId;
    const repinned = versionId !== current.ethogramVersionId;
    const changed: Partial<ClassifierRow> = {};
    if (input.name !== undefined && input.name !== current.name) changed.name = input.name;
    if (input.settings !== undefined || repinned) {
      const { codes } = await pinnableVersion(tx, versionId);
      const settings = parseClassifierSettings(current.kind, input.settings ?? current.settings, codes);
      if (JSON.stringify(settings) !== JSON.stringify(current.settings)) changed.settings = settings;
    }
    if (repinned) {
      changed.ethogramVersionId = versionId;
      if (current.kind === 'offline') changed.currentTrainingId = null;
    }
    if (Object.keys(changed).length === 0) return current;
    await recordRevision(tx, { entityType: 'classifier', entityId: id, revision: current.revision, snapshot: classifierSnapshot(current), actorId: userId, reason: 'classifier updated' });
    const [row] = await tx
      .update(classifiers)
      .set({ ...changed, revision: current.revision + 1, updatedAt: ctx.now() })
      .where(eq(classifiers.id, id))
      .returning();
    await recordEvent(tx, { type: 'classifier.updated', entityType: 'classifier', entityId: id, actorId: userId, payload: { fields: Object.keys(changed) } });
    return row!;
  });
}
