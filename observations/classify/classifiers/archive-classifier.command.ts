import { eq } from 'drizzle-orm';
import type { Ctx } from '../../../core/context.ts';
import { inTransaction } from '../../../core/db.ts';
import { notFound } from '../../../core/errors.ts';
import { recordEvent, recordRevision } from '../../../core/history.ts';
import { classifiers } from '../classify.schema.ts';
import { actorUserId, classifierSnapshot } from './classifier-history.ts';
import type { ClassifierRow } from './classifier.queries.ts';

/**
 * Archives a classifier: it is no longer offered for new jobs or trained, while the codings it proposed, its
 * trainings and its figures stay (they are the record). Archiving an archived classifier changes nothing.
 */
export async function archiveClassifier(ctx: Ctx, id: string): Promise<ClassifierRow> {
  const userId = actorUserId(ctx.actor);
  return inTransaction(ctx.db, async (tx) => {
    const [current] = await tx.select().from(classifiers).where(eq(classifiers.id, id)).for('update');
    if (!current) throw notFound('That classifier');
    if (current.archivedAt) return current;
    await recordRevision(tx, { entityType: 'classifier', entityId: id, revision: current.revision, snapshot: classifierSnapshot(current), actorId: userId, reason: 'classifier archived' });
    const now = ctx.now();
    const [row] = await tx.update(classifiers).set({ archivedAt: now, updatedAt: now, revision: current.revision + 1 }).where(eq(classifiers.id, id)).returning();
    await recordEvent(tx, { type: 'classifier.archived', entityType: 'classifier', entityId: id, actorId: userId, payload: { name: current.name } });
    return row!;
  });
}
