import { eq, sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction, rowsOf } from '../../core/db.ts';
import { invalid, notFound } from '../../core/errors.ts';
import { findBehaviourByCode, findVersion } from '../../ethograms/behaviour.queries.ts';
import type { BehaviourRow } from '../../ethograms/default-version.ts';
import { behaviours } from '../../ethograms/ethogram.schema.ts';
import { checkModifiers, checkSpan } from '../create-coding.command.ts';
import { requireUser } from '../observation-edit.ts';
import type { Transcript } from '../transcript.schema.ts';
import { reviewedView, type ReviewedCodingView } from './accept-coding.command.ts';
import type { EditInput } from './review.input.ts';
import { keepDecision, lockProposal, markObservationCoded } from './review-decision.ts';

/**
 * Corrects a proposal and accepts it: another behaviour of the same ethogram version, another span (or the
 * whole observation), other modifiers. The original proposal is kept as the revision (so classifier agreement
 * still compares what was proposed), the method and provenance stay (the coding still came from a classifier),
 * and the event lists what changed. When the behaviour changes and no modifiers are sent, the modifiers the new
 * behaviour does not take are dropped.
 */
export async function editCoding(ctx: Ctx, codingId: string, input: EditInput): Promise<ReviewedCodingView> {
  const actor = requireUser(ctx, 'review codings');
  return inTransaction(ctx.db, async (tx) => {
    const row = await lockProposal(tx, codingId);
    const found = await findVersion(tx, row.ethogram_version_id);
    if (!found) throw notFound('The ethogram version of that coding');
    const versionLabel = `${found.slug} v${found.version.number}`;

    let behaviour: BehaviourRow | undefined;
    if (input.code !== undefined) {
      const code = input.code.trim().toUpperCase();
      behaviour = await findBehaviourByCode(tx, row.ethogram_version_id, code);
      if (!behaviour) {
        throw invalid(`"${input.code}" is not a behaviour code in ${versionLabel}, the version this proposal was made against.`, {
          code: `Choose a behaviour of ${versionLabel}; the codes are listed at /ethograms/${found.slug}.`,
        });
      }
    } else {
      [behaviour] = await tx.select().from(behaviours).where(eq(behaviours.id, row.behaviour_id));
      if (!behaviour) throw notFound('The behaviour of that coding');
    }

    let span: ReturnType<typeof checkSpan> | null | undefined;
    if (input.span === null) span = null;
    else if (input.span !== undefined) {
      const observation = rowsOf<{ transcript: Transcript | string }>(await tx.execute(sql`SELECT transcript FROM observations WHERE id = ${row.observation_id}::uuid`))[0];
      if (!observation) throw notFound('That observation');
      span = checkSpan(parseJson(observation.transcript), input.span);
    }

    const previousModifiers = parseJson<Record<string, unknown>>(row.modifiers as Record<string, unknown> | string) ?? {};
    const taken = new Set(behaviour.modifierSets);
    const wanted = input.modifiers ?? (input.code !== undefined ? Object.fromEntries(Object.entries(previousModifiers).filter(([k]) => taken.has(k))) : previousModifiers);
    const modifiers = checkModifiers(found.version.modifierSets, behaviour, wanted);

    const now = ctx.now();
    const changed: string[] = [];
    if (behaviour.id !== row.behaviour_id) changed.push('behaviour');
    if (span !== undefined) changed.push('span');
    if (JSON.stringify(modifiers) !== JSON.stringify(previousModifiers)) changed.push('modifiers');
    await keepDecision(tx, actor, row, {
      reason: 'review-edit',
      event: 'coding.edited',
      payload: { changed, code: behaviour.code, previousBehaviourId: row.behaviour_id, ...(span !== undefined ? { span: span && { ...span, quote: undefined } } : {}) },
    });
    const spanSet =
      span === undefined
        ? sql``
        : sql`, message_id = ${span?.messageId ?? null}, part_index = ${span?.partIndex ?? null}, char_start = ${span?.start ?? null},
            char_end = ${span?.end ?? null}, quote = ${span?.quote ?? null}`;
    await tx.execute(sql`UPDATE codings SET behaviour_id = ${behaviour.id}::uuid, modifiers = ${JSON.stringify(modifiers)}::jsonb ${spanSet}
        ${input.rationale !== undefined ? sql`, rationale = ${input.rationale}` : sql``},
        status = 'accepted', reviewed_by = ${actor.id}::uuid, reviewed_at = ${now.toISOString()}::timestamptz, revision = revision + 1
      WHERE id = ${row.id}::uuid`);
    await markObservationCoded(tx, row.observation_id, now);
    return reviewedView(tx, row.id, { id: actor.id, displayName: actor.displayName }, now);
  });
}

function parseJson<T>(v: T | string): T {
  return typeof v === 'string' ? (JSON.parse(v) as T) : v;
}
