import { sql } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { observationsChanged } from './observation.queries.ts';
import { keepHistory, lockObservation, requireUser } from './observation-edit.ts';
import { normaliseTags, textArraySql } from './observation-text.ts';

/**
 * Removes one tag from an observation and returns its tags afterwards. Removing a tag it does not carry changes
 * nothing, so a repeated DELETE answers the same.
 */
export async function removeTag(ctx: Ctx, id: string, tag: string): Promise<string[]> {
  const actor = requireUser(ctx, 'tag observations');
  const [normalised] = normaliseTags([tag]);
  const result = await inTransaction(ctx.db, async (tx) => {
    const { record: before } = await lockObservation(tx, id);
    if (!normalised || !before.tags.includes(normalised)) return before.tags;
    const after = before.tags.filter((t) => t !== normalised);
    const now = ctx.now();
    await tx.execute(sql`UPDATE observations SET tags = ${textArraySql(after)}, revision = ${before.revision + 1},
        updated_at = ${now.toISOString()}::timestamptz WHERE id = ${id}::uuid`);
    await keepHistory(tx, actor, before, { reason: 'untag', event: 'observation.untagged', payload: { removed: normalised, revision: before.revision + 1 } });
    return after;
  });
  observationsChanged();
  return result;
}
