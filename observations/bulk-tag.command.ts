import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Ctx } from '../core/context.ts';
import { inTransaction } from '../core/db.ts';
import { invalid } from '../core/errors.ts';
import { MAX_TAGS } from './add-tags.command.ts';
import { tagSchema } from './observation.input.ts';
import { observationsChanged } from './observation.queries.ts';
import { keepHistory, lockObservation, requireUser } from './observation-edit.ts';
import { normaliseTags, textArraySql } from './observation-text.ts';

/** Most observations one bulk tagging touches (a list page holds at most 100). */
export const MAX_BULK_OBSERVATIONS = 500;

/** Tagging many observations at once: which ones, the tags to add and the tags to remove. */
export const bulkTagSchema = z
  .object({
    ids: z
      .array(z.uuid('Each id must be an observation id.'), { error: 'ids must be a list of observation ids.' })
      .min(1, 'Select at least one observation.')
      .max(MAX_BULK_OBSERVATIONS, `At most ${MAX_BULK_OBSERVATIONS} observations at once.`),
    add: z.array(tagSchema).max(30, 'At most 30 tags at once.').default([]),
    remove: z.array(tagSchema).max(30, 'At most 30 tags at once.').default([]),
  })
  .strict()
  .refine((b) => b.add.length + b.remove.length > 0, { message: 'Name at least one tag to add or remove.', path: ['add'] });
export type BulkTagInput = z.infer<typeof bulkTagSchema>;

export interface BulkTagResult {
  /** Observations whose tags changed (each kept a revision and got an event). */
  changed: string[];
  /** Observations that already had (or lacked) the tags: untouched. */
  unchanged: string[];
}

/**
 * Adds and removes tags on many observations in ONE transaction: all change or none (an observation that would
 * pass the tag limit stops the whole batch with a message naming it). Each changed observation keeps a revision
 * and gets an `observation.tagged` event, as when tagged one by one. The route authorizes every observation first.
 */
export async function bulkTag(ctx: Ctx, input: BulkTagInput): Promise<BulkTagResult> {
  const actor = requireUser(ctx, 'tag observations');
  const add = normaliseTags(input.add);
  const remove = normaliseTags(input.remove).filter((t) => !add.includes(t));
  const ids = [...new Set(input.ids)].sort(); // a fixed lock order, so two bulk edits cannot deadlock
  const result = await inTransaction(ctx.db, async (tx) => {
    const changed: string[] = [];
    const unchanged: string[] = [];
    const now = ctx.now();
    for (const id of ids) {
      const { record: before } = await lockObservation(tx, id);
      const kept = before.tags.filter((t) => !remove.includes(t));
      const after = [...kept, ...add.filter((t) => !kept.includes(t))];
      const added = after.filter((t) => !before.tags.includes(t));
      const removed = before.tags.filter((t) => !after.includes(t));
      if (added.length === 0 && removed.length === 0) {
        unchanged.push(id);
        continue;
      }
      if (after.length > MAX_TAGS) {
        throw invalid(`"${before.title}" would have ${after.length} tags; an observation has at most ${MAX_TAGS}. Nothing was changed.`, {
          add: `At most ${MAX_TAGS} tags per observation.`,
        });
      }
      await tx.execute(sql`UPDATE observations SET tags = ${textArraySql(after)}, revision = ${before.revision + 1},
          updated_at = ${now.toISOString()}::timestamptz WHERE id = ${id}::uuid`);
      await keepHistory(tx, actor, before, { reason: 'bulk tag', event: 'observation.tagged', payload: { added, removed, bulk: true, revision: before.revision + 1 } });
      changed.push(id);
    }
    return { changed, unchanged };
  });
  observationsChanged();
  return result;
}
