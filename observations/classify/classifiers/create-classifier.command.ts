import type { Ctx } from '../../../core/context.ts';
import { inTransaction } from '../../../core/db.ts';
import { recordEvent } from '../../../core/history.ts';
import { classifiers } from '../classify.schema.ts';
import { actorUserId } from './classifier-history.ts';
import type { CreateClassifierInput } from './classifier.input.ts';
import { pinnableVersion, type ClassifierRow } from './classifier.queries.ts';
import { parseClassifierSettings } from './classifier-settings.ts';

/**
 * Configures a classifier pinned to a published ethogram version, with its kind's settings validated (a judge's
 * settings name the key's environment variable, never a key; a rules mapping names codes of that version).
 * The row and its event commit together.
 */
export async function createClassifier(ctx: Ctx, input: CreateClassifierInput): Promise<ClassifierRow> {
  const userId = actorUserId(ctx.actor);
  return inTransaction(ctx.db, async (tx) => {
    const { version, codes } = await pinnableVersion(tx, input.ethogramVersionId);
    const settings = parseClassifierSettings(input.kind, input.settings, codes);
    const now = ctx.now();
    const [row] = await tx
      .insert(classifiers)
      .values({ kind: input.kind, name: input.name, ethogramVersionId: version.id, settings, createdBy: userId, createdAt: now, updatedAt: now })
      .returning();
    await recordEvent(tx, {
      type: 'classifier.created',
      entityType: 'classifier',
      entityId: row!.id,
      actorId: userId,
      payload: { kind: input.kind, name: input.name, ethogramVersionId: version.id },
    });
    return row!;
  });
}
