import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Ctx } from '../../core/context.ts';
import { inTransaction, rowsOf } from '../../core/db.ts';
import { conflict, invalid, notFound } from '../../core/errors.ts';
import { recordEvent } from '../../core/history.ts';

export const resolveRecodeInput = z
  .object({
    /** A candidate code of the new version, or `none` when no candidate applies to the coded text. */
    choice: z.string().trim().min(1, 'Choose one of the candidate codes, or "none".').max(32),
    note: z.string().trim().max(2000, 'The note is limited to 2000 characters.').default(''),
  })
  .strict();
export type ResolveRecodeInput = z.infer<typeof resolveRecodeInput>;

export interface ResolvedRecode { itemId: string; decision: 'recoded' | 'none'; chosenCode: string | null; newCodingId: string | null }

interface ItemRow {
  id: string;
  status: string;
  version_id: string;
  coding_id: string;
  observation_id: string;
  from_code: string;
  candidates: string[];
  reason: string;
  version_number: number;
}

/**
 * Decides one recode item. Choosing a candidate adds a new coding under the new version on the same span, with
 * the old coding's modifiers that the new behaviour still takes, coded by the person deciding; the old coding is
 * left as it was (it keeps the version it was made under). `none` records that no candidate applies. An item is
 * decided once: a second decision is a 409 naming who decided it.
 */
export async function resolveRecode(ctx: Ctx, itemId: string, input: ResolveRecodeInput): Promise<ResolvedRecode> {
  const actorId = ctx.actor.kind === 'user' ? ctx.actor.id : null;
  return inTransaction(ctx.db, async (tx) => {
    const item = rowsOf<ItemRow>(
      await tx.execute(sql`SELECT r.id, r.status, r.version_id, r.coding_id, r.observation_id, r.from_code, r.candidates, r.reason, v.number AS version_number
        FROM recode_items r JOIN ethogram_versions v ON v.id = r.version_id WHERE r.id = ${itemId}::uuid FOR UPDATE OF r`),
    )[0];
    if (!item) throw notFound('That recode item');
    if (item.status !== 'open') throw conflict('This coding has already been decided. Reload the queue for the next one.');
    const now = ctx.now();
    const choice = input.choice.toUpperCase() === 'NONE' ? null : input.choice.toUpperCase();
    let newCodingId: string | null = null;
    if (choice !== null) {
      if (!item.candidates.includes(choice)) {
        throw invalid(`${choice} is not a candidate for this coding. Choose one of ${item.candidates.join(', ')}, or "none".`, {
          choice: `Choose one of ${item.candidates.join(', ')}, or "none".`,
        });
      }
      const behaviour = rowsOf<{ id: string; modifier_sets: string[] }>(
        await tx.execute(sql`SELECT id, modifier_sets FROM behaviours WHERE version_id = ${item.version_id}::uuid AND code = ${choice}`),
      )[0];
      if (!behaviour) throw notFound(`The behaviour ${choice}`);
      newCodingId = randomUUID();
      const rationale = `Recoded from ${item.from_code} (${item.reason === 'split' ? 'split' : 'redefined'} in version ${item.version_number}).${input.note ? ` ${input.note}` : ''}`;
      // Same span and quote; modifiers only of sets the new behaviour takes.
      const inserted = await tx.execute(sql`INSERT INTO codings (id, observation_id, ethogram_version_id, behaviour_id, message_id, part_index,
          char_start, char_end, quote, modifiers, coder_id, method, rationale, status, created_at)
        SELECT ${newCodingId}::uuid, c.observation_id, ${item.version_id}::uuid, ${behaviour.id}::uuid, c.message_id, c.part_index,
          c.char_start, c.char_end, c.quote,
          coalesce((SELECT jsonb_object_agg(m.key, m.value) FROM jsonb_each(c.modifiers) m WHERE m.key IN (SELECT jsonb_array_elements_text(${JSON.stringify(behaviour.modifier_sets)}::jsonb))), '{}'::jsonb),
          ${actorId}::uuid, 'manual', ${rationale}, 'accepted', ${now.toISOString()}::timestamptz
        FROM codings c WHERE c.id = ${item.coding_id}::uuid
        RETURNING id`);
      if (rowsOf(inserted).length !== 1) throw notFound('The coding to recode');
    }
    await tx.execute(sql`UPDATE recode_items SET status = 'resolved', decision = ${choice ? 'recoded' : 'none'}, chosen_code = ${choice},
        new_coding_id = ${newCodingId}::uuid, note = ${input.note}, resolved_by = ${actorId}::uuid, resolved_at = ${now.toISOString()}::timestamptz
      WHERE id = ${itemId}::uuid`);
    await recordEvent(tx, {
      type: 'recode.resolved',
      entityType: 'coding',
      entityId: item.coding_id,
      actorId,
      payload: { itemId, from: item.from_code, decision: choice ? 'recoded' : 'none', code: choice, newCodingId, version: item.version_number },
    });
    return { itemId, decision: choice ? 'recoded' : 'none', chosenCode: choice, newCodingId };
  });
}
