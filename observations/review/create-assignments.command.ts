import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction, rowsOf } from '../../core/db.ts';
import { conflict, invalid } from '../../core/errors.ts';
import { recordEvent } from '../../core/history.ts';
import { requireUser } from '../observation-edit.ts';
import type { AssignmentInput } from './assignment.input.ts';
import { getAssignment, type AssignmentView } from './assignment.queries.ts';

export interface AssignResult {
  created: AssignmentView[];
  /** Pairs left out: the coder already holds a live assignment on it, or too few coders were free. */
  skipped: { observationId: string; coderId: string | null; reason: string }[];
}

/**
 * Assigns observations to coders, blind by default: to the named coders (researchers or admins), or to `count`
 * coders per observation picked among researchers with the fewest open assignments (counting the ones this
 * request makes, so the load spreads). A coder already holding a live assignment on an observation is skipped
 * and reported; when nothing at all could be assigned the answer is a 409 saying why. One event per assignment,
 * all in one transaction.
 */
export async function createAssignments(ctx: Ctx, input: AssignmentInput): Promise<AssignResult> {
  const actor = requireUser(ctx, 'assign observations');
  const observationIds = [...new Set(input.observationIds)];
  return inTransaction(ctx.db, async (tx) => {
    const found = rowsOf<{ id: string; title: string }>(
      await tx.execute(sql`SELECT id, title FROM observations WHERE deleted_at IS NULL
        AND id = ANY(ARRAY[${sql.join(observationIds.map((id) => sql`${id}::uuid`), sql`, `)}])`),
    );
    const missing = observationIds.filter((id) => !found.some((o) => o.id === id));
    if (missing.length > 0) {
      throw invalid(`${missing.length === 1 ? 'One observation was' : `${missing.length} observations were`} not found: ${missing.slice(0, 5).join(', ')}.`, {
        observationIds: 'Choose observations that exist and are not deleted.',
      });
    }

    // Serialise concurrent "pick the least busy" requests, so two of them do not both pick the same idle coder.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('coding_assignments.pick'))`);
    const coders = rowsOf<{ id: string; display_name: string; role: string; disabled_at: unknown; open: number }>(
      await tx.execute(sql`SELECT u.id, u.display_name, u.role, u.disabled_at,
          (SELECT count(*)::int FROM coding_assignments a WHERE a.coder_id = u.id AND a.submitted_at IS NULL AND a.withdrawn_at IS NULL) AS open
        FROM users u WHERE ${input.coderIds ? sql`u.id = ANY(ARRAY[${sql.join(input.coderIds.map((id) => sql`${id}::uuid`), sql`, `)}])` : sql`u.role IN ('researcher', 'admin') AND u.disabled_at IS NULL`}`),
    );
    if (input.coderIds) {
      const problems = [...new Set(input.coderIds)].flatMap((id) => {
        const c = coders.find((u) => u.id === id);
        if (!c) return [`no person has the id ${id}`];
        if (c.disabled_at) return [`${c.display_name}'s account is disabled`];
        if (c.role === 'contributor') return [`${c.display_name} is a contributor (only researchers code)`];
        return [];
      });
      if (problems.length > 0) throw invalid(`These coders cannot be assigned: ${problems.join('; ')}.`, { coderIds: problems.join('; ') });
    } else if (coders.length < input.count!) {
      throw invalid(`Only ${coders.length} ${coders.length === 1 ? 'person' : 'people'} can code here (researchers and admins); ask for at most that many.`, { count: `At most ${coders.length}.` });
    }

    const live = rowsOf<{ observation_id: string; coder_id: string }>(
      await tx.execute(sql`SELECT observation_id, coder_id FROM coding_assignments WHERE withdrawn_at IS NULL
        AND observation_id = ANY(ARRAY[${sql.join(observationIds.map((id) => sql`${id}::uuid`), sql`, `)}])`),
    );
    const holds = new Set(live.map((l) => `${l.observation_id}/${l.coder_id}`));
    const load = new Map(coders.map((c) => [c.id, Number(c.open)]));
    const name = new Map(coders.map((c) => [c.id, c.display_name]));
    const result: AssignResult = { created: [], skipped: [] };
    const now = ctx.now();

    for (const observationId of observationIds) {
      const title = found.find((o) => o.id === observationId)!.title;
      let chosen: string[];
      if (input.coderIds) {
        chosen = [];
        for (const coderId of new Set(input.coderIds)) {
          if (holds.has(`${observationId}/${coderId}`)) result.skipped.push({ observationId, coderId, reason: `${name.get(coderId)} is already assigned "${title}".` });
          else chosen.push(coderId);
        }
      } else {
        const free = coders
          .filter((c) => !holds.has(`${observationId}/${c.id}`))
          .sort((a, b) => load.get(a.id)! - load.get(b.id)! || a.display_name.localeCompare(b.display_name) || a.id.localeCompare(b.id));
        chosen = free.slice(0, input.count!).map((c) => c.id);
        if (chosen.length < input.count!) {
          result.skipped.push({ observationId, coderId: null, reason: `Only ${chosen.length} more coder${chosen.length === 1 ? ' was' : 's were'} free for "${title}" (the others are assigned already).` });
        }
      }
      for (const coderId of chosen) {
        const id = randomUUID();
        const inserted = rowsOf<{ id: string }>(
          await tx.execute(sql`INSERT INTO coding_assignments (id, observation_id, coder_id, blind, assigned_by, created_at)
            VALUES (${id}::uuid, ${observationId}::uuid, ${coderId}::uuid, ${input.blind}, ${actor.id}::uuid, ${now.toISOString()}::timestamptz)
            ON CONFLICT (observation_id, coder_id) WHERE withdrawn_at IS NULL DO NOTHING RETURNING id`),
        );
        if (inserted.length === 0) {
          result.skipped.push({ observationId, coderId, reason: `${name.get(coderId)} is already assigned "${title}".` });
          continue;
        }
        holds.add(`${observationId}/${coderId}`);
        load.set(coderId, (load.get(coderId) ?? 0) + 1);
        await recordEvent(tx, {
          type: 'assignment.created',
          entityType: 'assignment',
          entityId: id,
          actorId: actor.id,
          payload: { observationId, coderId, blind: input.blind },
        });
        result.created.push((await getAssignment(tx, id))!);
      }
    }
    if (result.created.length === 0) throw conflict(`Nothing was assigned: ${result.skipped[0]?.reason ?? 'no coder was free.'}`, { skipped: result.skipped });
    return result;
  });
}
