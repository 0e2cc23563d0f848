import type { Label } from './agreement-statistics.ts';
import type { AgreementData, CodingRow } from './agreement.queries.ts';

export const PRESENT = 'present';
export const ABSENT = 'absent';
export type Presence = typeof PRESENT | typeof ABSENT;

/** Reliability data for one behaviour: `ratings[unit][coder]` over the report's coders, null where missing. */
export interface BehaviourRatings { behaviourId: string; units: string[]; ratings: Array<Array<Label | null>> }

/**
 * Which human coders rated which observations. A coder rated an observation when they submitted an assignment
 * for it, or made an accepted coding of it under this version while holding no open (unsubmitted) assignment for
 * it: an open assignment is work in progress, so that coder is missing there, not "absent". Every other coder is
 * missing on that observation.
 */
export function ratedObservations(data: AgreementData, coderIds: readonly string[]): Map<string, Set<string>> {
  const wanted = new Set(coderIds);
  const open = new Set<string>();
  const rated = new Map<string, Set<string>>();
  const mark = (observationId: string, coderId: string) => {
    let set = rated.get(observationId);
    if (!set) rated.set(observationId, (set = new Set()));
    set.add(coderId);
  };
  for (const a of data.assignments) {
    if (!wanted.has(a.coderId)) continue;
    if (a.submitted) mark(a.observationId, a.coderId);
    else open.add(`${a.observationId} ${a.coderId}`);
  }
  for (const c of data.codings) {
    if (c.coderId === null || !wanted.has(c.coderId) || open.has(`${c.observationId} ${c.coderId}`)) continue;
    mark(c.observationId, c.coderId);
  }
  return rated;
}

/**
 * Observation-level presence: for each behaviour, one unit per observation rated by at least one coder; a coder's
 * rating is "present" when they coded the behaviour anywhere in the observation (whole or span), "absent" when they
 * rated the observation without coding it, missing (null) when they did not rate the observation.
 */
export function observationPresence(data: AgreementData, coderIds: readonly string[], rated: Map<string, Set<string>>): BehaviourRatings[] {
  const units = [...rated.keys()].sort();
  // Numeric keys rather than strings: this runs over every (behaviour, observation, coder) of the report.
  const unitIndex = new Map(units.map((o, i) => [o, i]));
  const coderIndex = new Map(coderIds.map((c, i) => [c, i]));
  const behaviourIndex = new Map(data.behaviours.map((b, i) => [b.id, i]));
  const U = units.length;
  const C = coderIds.length;
  const coded = new Set<number>();
  for (const c of data.codings) {
    if (c.coderId === null) continue;
    const b = behaviourIndex.get(c.behaviourId);
    const u = unitIndex.get(c.observationId);
    const k = coderIndex.get(c.coderId);
    if (b !== undefined && u !== undefined && k !== undefined) coded.add((b * U + u) * C + k);
  }
  const raters = units.map((o) => {
    const set = rated.get(o)!;
    return coderIds.map((id) => set.has(id));
  });
  return data.behaviours.map((b, bi) => ({
    behaviourId: b.id,
    units,
    ratings: raters.map((row, u) => row.map((didRate, k) => (!didRate ? null : coded.has((bi * U + u) * C + k) ? PRESENT : ABSENT))),
  }));
}

/** Two spans agree when they overlap by at least this share of the shorter one. */
export const SPAN_OVERLAP_SHARE = 0.5;

/** True when two spans of the same message part overlap by at least half of the shorter one. */
export function spansAgree(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  const overlap = Math.min(a.end, b.end) - Math.max(a.start, b.start);
  const shorter = Math.min(a.end - a.start, b.end - b.start);
  return overlap > 0 && overlap >= SPAN_OVERLAP_SHARE * shorter;
}

/**
 * Span-level units: for each behaviour and message part, the people's spans of that behaviour are joined into
 * units, two spans falling in one unit when they agree (overlap by at least half of the shorter; transitively, so a
 * unit is a union of agreeing spans). In a unit a coder is "present" when one of their spans is in it, "absent" when
 * they rated the observation but marked no span there, missing when they did not rate the observation. Codings of
 * the whole observation (no span) take no part. Units no one marked are not counted, so this level measures
 * whether people mark the same stretches, not how often they agree that nothing is there.
 * With `machine`, that classifier's spans join the unitizing too and its rating is the last column of each row
 * ("present" when one of its spans is in the unit, "absent" when it rated the observation, else missing).
 */
export function spanUnits(
  data: AgreementData,
  coderIds: readonly string[],
  rated: Map<string, Set<string>>,
  machine?: { classifierId: string; covered: Set<string> },
): BehaviourRatings[] {
  type Span = { by: string; charStart: number; charEnd: number };
  const MACHINE = '\u0000machine';
  const out = new Map<string, BehaviourRatings>(data.behaviours.map((b) => [b.id, { behaviourId: b.id, units: [], ratings: [] }]));
  // Keyed by behaviour, observation, message and part; unit order does not matter to any figure, so no sorting.
  const byBehaviourPart = new Map<string, { behaviourId: string; observationId: string; where: string; spans: Span[] }>();
  for (const c of data.codings) {
    if (c.charStart === null || c.charEnd === null || c.messageId === null || !out.has(c.behaviourId)) continue;
    let by: string;
    if (c.coderId !== null && rated.get(c.observationId)?.has(c.coderId)) by = c.coderId;
    else if (machine && c.classifierId === machine.classifierId) by = MACHINE;
    else continue;
    const where = `${c.observationId}/${c.messageId}/${c.partIndex ?? 0}`;
    const key = `${c.behaviourId}/${where}`;
    let group = byBehaviourPart.get(key);
    if (!group) byBehaviourPart.set(key, (group = { behaviourId: c.behaviourId, observationId: c.observationId, where, spans: [] }));
    group.spans.push({ by, charStart: c.charStart, charEnd: c.charEnd });
  }
  const coderIndex = new Map(coderIds.map((id, i) => [id, i]));
  const noRaters = new Set<string>();
  for (const { behaviourId, observationId, where, spans } of byBehaviourPart.values()) {
    const target = out.get(behaviourId)!;
    spans.sort((a, b) => a.charStart - b.charStart || a.charEnd - b.charEnd);
    const parent = spans.map((_, i) => i);
    const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length && spans[j]!.charStart < spans[i]!.charEnd; j++) {
        if (spansAgree({ start: spans[i]!.charStart, end: spans[i]!.charEnd }, { start: spans[j]!.charStart, end: spans[j]!.charEnd })) parent[find(j)] = find(i);
      }
    }
    const groups = new Map<number, Span[]>();
    spans.forEach((s, i) => {
      const root = find(i);
      const g = groups.get(root);
      if (g) g.push(s);
      else groups.set(root, [s]);
    });
    const raters = rated.get(observationId) ?? noRaters;
    for (const group of groups.values()) {
      const marked = new Set(group.map((s) => s.by));
      let start = Infinity;
      let end = -Infinity;
      for (const s of group) {
        start = Math.min(start, s.charStart);
        end = Math.max(end, s.charEnd);
      }
      target.units.push(`${where}/${start}-${end}`);
      const row: Array<Label | null> = coderIds.map(() => null);
      for (const coder of raters) {
        const i = coderIndex.get(coder);
        if (i !== undefined) row[i] = marked.has(coder) ? PRESENT : ABSENT;
      }
      if (machine) row.push(marked.has(MACHINE) ? PRESENT : machine.covered.has(observationId) ? ABSENT : null);
      target.ratings.push(row);
    }
  }
  return data.behaviours.map((b) => out.get(b.id)!);
}

/**
 * The human reference for comparing classifiers, per behaviour and observation: the majority of the people who
 * rated the observation ("present" when more than half coded the behaviour, "absent" when more than half did not);
 * a tie has no reference (null), nor has an observation no one rated.
 */
export function humanReference(ratings: ReadonlyArray<Label | null>): Presence | null {
  let present = 0;
  let absent = 0;
  for (const r of ratings) {
    if (r === PRESENT) present++;
    else if (r === ABSENT) absent++;
  }
  if (present > absent) return PRESENT;
  if (absent > present) return ABSENT;
  return null;
}

/**
 * Which observations each classifier rated: those it proposed anything for under this version (whatever the
 * review later said), and those a classification job of it finished without proposing anything. A job's
 * classifier is its payload's `classifierId`, or else the classifier its proposals name.
 */
export function classifierCoverage(data: AgreementData): Map<string, Set<string>> {
  const coverage = new Map<string, Set<string>>(data.classifiers.map((k) => [k.id, new Set<string>()]));
  const jobClassifier = new Map<string, string>();
  for (const c of data.codings) {
    if (c.classifierId === null) continue;
    coverage.get(c.classifierId)?.add(c.observationId);
    if (c.jobId) jobClassifier.set(c.jobId, c.classifierId);
  }
  for (const item of data.classified) {
    const classifier = item.classifierId && coverage.has(item.classifierId) ? item.classifierId : jobClassifier.get(item.jobId);
    if (classifier) coverage.get(classifier)?.add(item.observationId);
  }
  return coverage;
}
