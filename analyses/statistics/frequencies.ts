import { wilsonInterval, type RateWithInterval } from './wilson.ts';

/** One group's effort and one behaviour's count in it. */
export interface FrequencyCell extends RateWithInterval { group: string; behaviour: string }
export interface FrequencyGroup { group: string; effort: number }

/**
 * Rates from counts: for each group (a provider, model, model version or month) and behaviour, the observations
 * showing the behaviour over the group's effort (its observations coded at all), with a Wilson 95% interval.
 * Behaviours never seen in a group get a count of 0 there: an absence over real effort is a finding too.
 */
export function frequencyCells(groups: FrequencyGroup[], behaviours: string[], counts: Array<{ group: string; behaviour: string; count: number }>): FrequencyCell[] {
  const byKey = new Map(counts.map((c) => [`${c.group}\u0000${c.behaviour}`, c.count]));
  return groups.flatMap((g) =>
    behaviours.map((b) => ({ group: g.group, behaviour: b, ...wilsonInterval(byKey.get(`${g.group}\u0000${b}`) ?? 0, g.effort) })),
  );
}
