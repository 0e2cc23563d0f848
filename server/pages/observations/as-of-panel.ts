import type { Actor } from '../../../accounts/actor.ts';
import type { Db } from '../../../core/db.ts';
import { can } from '../../../core/policy.ts';
import { codingsAsOf } from '../../../ethograms/evolution/as-of.queries.ts';
import { findEthogramBySlug, listEthogramVersions } from '../../../ethograms/ethogram.queries.ts';
import type { ObservationView } from '../../../observations/observation.presenter.ts';

/**
 * "Codings as of version": for each ethogram the observation's codings use that has more than one version, a
 * choice of version, and (when `asOf` = `slug@N` names one) the codings read through that version's migrations.
 * Null when there is nothing to choose between.
 */
export async function asOfPanel(db: Db, actor: Actor, observation: ObservationView, asOf: unknown) {
  const slugs = [...new Set(observation.codings.filter((c) => !c.withdrawnAt).map((c) => c.ethogramVersion.slug))];
  const choices: { value: string; label: string; selected: boolean }[] = [];
  let chosen: { slug: string; number: number; ethogramId: string } | null = null;
  const wanted = typeof asOf === 'string' ? /^([a-z0-9-]+)@(\d+)$/.exec(asOf) : null;
  for (const slug of slugs) {
    const ethogram = await findEthogramBySlug(db, slug);
    if (!ethogram) continue;
    const versions = (await listEthogramVersions(db, ethogram.id)).filter((v) => v.status !== 'draft' && can(actor, 'ethogram.read', v));
    if (versions.length < 2) continue;
    for (const v of versions) {
      const value = `${slug}@${v.number}`;
      const selected = !!wanted && wanted[1] === slug && Number(wanted[2]) === v.number;
      if (selected) chosen = { slug, number: v.number, ethogramId: ethogram.id };
      choices.push({ value, label: `${ethogram.name} v${v.number}${v.status === 'deprecated' ? ' (deprecated)' : ''}`, selected });
    }
  }
  if (choices.length === 0) return null;
  if (!chosen) return { choices, chosen: null, rows: [] };
  const rows = (await codingsAsOf(db, observation.id, chosen.ethogramId, chosen.number)) ?? [];
  const byId = new Map(observation.codings.map((c) => [c.id, c]));
  return {
    choices,
    chosen: { slug: chosen.slug, number: chosen.number },
    rows: rows.map((r) => {
      const coding = byId.get(r.codingId);
      return { ...r, quote: coding?.span?.quote ?? null, coder: coding?.coder.displayName ?? '', unchanged: r.status === 'same' };
    }),
  };
}
