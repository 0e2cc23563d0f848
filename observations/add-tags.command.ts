import { sql } from 'drizzle-orm';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { invalid } from '../core/errors.ts';
import { observationsChanged } from './observation.queries.ts';
import { keepHistory, lockObservation, requireUser } from './observation-edit.ts';
import { normaliseTags, textArraySql } from './observation-text.ts';

/** Most tags one observation carries, as on submission. */
export const MAX_TAGS = 30;

/**
 * Adds tags (normalised, de-duplicated) to an observation and returns its tags afterwards. Adding tags it
 * already has changes nothing (no revision, no event).
 */
export async function addTags(ctx: Ctx, id: string, tags: string[]): Promise<string[]> {
  const actor = requireUser(ctx, 'tag observations');
  const wanted = normaliseTags(tags);
  const result = await inTransaction(ctx.db, async (tx) => {
    const { record: before } = await lockObservation(tx, id);
    const added = wanted.filter((t) => !before.tags.includes(t));
    if (added.length === 0) return before.tags;
    const after = [...before.tags, ...added];
    if (after.length > MAX_TAGS) {
      throw invalid(`An observation has at most ${MAX_TAGS} tags; this one has ${before.tags.length}. Remove some first.`, {
        tags: `At most ${MAX_TAGS} tags per observation.`,
      });
    }
    const now = ctx.now();
    await tx.execute(sql`UPDATE observations SET tags = ${textArraySql(after)}, revision = ${before.revision + 1},
        updated_at = ${now.toISOString()}::timestamptz WHERE id = ${id}::uuid`);
    await keepHistory(tx, actor, before, { reason: 'tag', event: 'observation.tagged', payload: { added, revision: before.revision + 1 } });
    return after;
  });
  observationsChanged();
  return result;
}
