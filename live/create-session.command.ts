import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Ctx } from '../core/context.ts';
import { inTransaction, rowsOf } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { recordEvent } from '../core/history.ts';
import { authorize } from '../core/policy.ts';
import { parseOrThrow } from '../core/validation.ts';
import { describeTarget, liveTargetSchema } from './live-target.ts';
import type { StoredPayloads } from './live-events.ts';

export const createSessionSchema = z
  .object({
    title: z.string().trim().min(1, 'give the session a title').max(200, 'a title is at most 200 characters'),
    ethogramVersionId: z.string().uuid('choose a published ethogram version'),
    target: liveTargetSchema,
    blind: z.boolean().default(false),
  })
  .strict();
export type CreateSessionInput = z.input<typeof createSessionSchema>;

/**
 * Opens a live session: the owner joins as its driver, and the log starts with `session.opened` (what is
 * watched, against which ethogram, blind or not). Only a published ethogram version can be coded against: a
 * draft could change under the codes.
 */
export async function createLiveSession(ctx: Ctx, input: unknown): Promise<{ id: string }> {
  authorize(ctx.actor, 'live.create');
  const actor = ctx.actor as Extract<Ctx['actor'], { kind: 'user' }>;
  const data = parseOrThrow(createSessionSchema, input, 'The session');
  return inTransaction(ctx.db, async (tx) => {
    const version = rowsOf<{ status: string }>(await tx.execute(sql`SELECT status FROM ethogram_versions WHERE id = ${data.ethogramVersionId}::uuid`))[0];
    if (!version || version.status !== 'published') {
      throw new AppError('validation_failed', 'The session needs a published ethogram version.', { fields: { ethogramVersionId: version ? `this version is ${version.status}: publish it first` : 'no such ethogram version' } });
    }
    const at = ctx.now().toISOString();
    const id = rowsOf<{ id: string }>(
      await tx.execute(sql`INSERT INTO live_sessions (title, ethogram_version_id, target, blind, created_by, created_at, last_seq)
        VALUES (${data.title}, ${data.ethogramVersionId}::uuid, ${JSON.stringify(data.target)}::jsonb, ${data.blind}, ${actor.id}::uuid, ${at}::timestamptz, 2)
        RETURNING id`),
    )[0]!.id;
    await tx.execute(sql`INSERT INTO live_participants (session_id, user_id, role, added_by, added_at) VALUES (${id}::uuid, ${actor.id}::uuid, 'driver', ${actor.id}::uuid, ${at}::timestamptz)`);
    const opened: StoredPayloads['session.opened'] = { title: data.title, blind: data.blind, ethogramVersionId: data.ethogramVersionId, target: describeTarget(data.target) };
    const added: StoredPayloads['participant.added'] = { userId: actor.id, role: 'driver', displayName: actor.displayName };
    await tx.execute(sql`INSERT INTO live_events (session_id, seq, event_id, type, actor_id, payload, at) VALUES
      (${id}::uuid, 1, ${`${id}-opened`}, 'session.opened', ${actor.id}::uuid, ${JSON.stringify(opened)}::jsonb, ${at}::timestamptz),
      (${id}::uuid, 2, ${`${id}-owner`}, 'participant.added', ${actor.id}::uuid, ${JSON.stringify(added)}::jsonb, ${at}::timestamptz)`);
    await recordEvent(tx, { type: 'live.opened', entityType: 'live_session', entityId: id, actorId: actor.id, payload: { title: data.title } });
    return { id };
  });
}
