import { desc, eq } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { inTransaction } from '../../core/db.ts';
import { invalid, notFound } from '../../core/errors.ts';
import { recordEvent } from '../../core/history.ts';
import { createDraft } from '../../ethograms/create-draft.command.ts';
import { actorIdOf } from '../../ethograms/draft-edit.ts';
import type { BehaviourInput } from '../../ethograms/ethogram.input.ts';
import { ethogramVersions } from '../../ethograms/ethogram.schema.ts';
import { findEthogramBySlug } from '../../ethograms/ethogram.queries.ts';
import { upsertBehaviour } from '../../ethograms/upsert-behaviour.command.ts';
import type { BehaviourRow, EthogramRow, VersionRow } from '../../ethograms/version-document.ts';
import { DEFINITION_PLACEHOLDER } from './behaviour-suggestion.ts';

/** Observation ids kept in the event that records what prompted the behaviour. */
export const PROMPTING_OBSERVATIONS_KEPT = 200;

export interface DraftedBehaviour {
  ethogram: EthogramRow;
  draft: VersionRow;
  behaviour: BehaviourRow;
  /** True when the draft was opened for this behaviour (none was open). */
  openedDraft: boolean;
}

/**
 * Adds a behaviour suggested by a cluster of observations to an ethogram's open draft, opening one from the
 * latest version when there is none (createDraft), through the same command as the behaviour form
 * (upsertBehaviour, mode `create`, so a code the draft already has is a 409 naming it). One transaction: when the
 * behaviour is refused, no draft is left open either. The cluster's observations are recorded in a
 * `behaviour.suggested` event (ids, most central first, at most PROMPTING_OBSERVATIONS_KEPT), so the record
 * says what prompted the behaviour without any schema change. A definition still holding the suggestion's
 * placeholder is refused: the researcher must write the operational definition.
 */
export async function draftBehaviourFromCluster(
  ctx: Ctx,
  input: { ethogramSlug: string; behaviour: BehaviourInput & { code: string }; observationIds: readonly string[] },
): Promise<DraftedBehaviour> {
  if (input.behaviour.definition.includes(DEFINITION_PLACEHOLDER)) {
    throw invalid('The definition is still the suggested placeholder: write what a coder can observe.', {
      definition: `Rewrite the definition in your own words and remove "${DEFINITION_PLACEHOLDER}".`,
    });
  }
  return inTransaction(ctx.db, async (tx) => {
    const txCtx: Ctx = { ...ctx, db: tx };
    const ethogram = await findEthogramBySlug(tx, input.ethogramSlug);
    if (!ethogram) throw notFound(`The ethogram "${input.ethogramSlug}"`);
    const [newest] = await tx.select().from(ethogramVersions).where(eq(ethogramVersions.ethogramId, ethogram.id)).orderBy(desc(ethogramVersions.number)).limit(1);
    const openedDraft = newest?.status !== 'draft';
    const draft = openedDraft ? await createDraft(txCtx, ethogram.id) : newest!;
    const { behaviour } = await upsertBehaviour(txCtx, draft.id, input.behaviour.code, input.behaviour, { mode: 'create' });
    await recordEvent(tx, {
      type: 'behaviour.suggested',
      entityType: 'behaviour',
      entityId: behaviour.id,
      actorId: actorIdOf(ctx.actor),
      payload: {
        slug: ethogram.slug,
        version: draft.number,
        code: behaviour.code,
        clusterSize: input.observationIds.length,
        observations: input.observationIds.slice(0, PROMPTING_OBSERVATIONS_KEPT),
      },
    });
    return { ethogram, draft, behaviour, openedDraft };
  });
}
