import {
  confusionMatrix,
  fleissKappa,
  krippendorffAlphaNominal,
  pairwiseCohensKappa,
  percentAgreement,
  precisionRecall,
  type Label,
} from './agreement-statistics.ts';
import type { AgreementBehaviour, AgreementClassifier, AgreementCoder, AgreementData, AgreementVersion } from './agreement.queries.ts';
import {
  ABSENT,
  PRESENT,
  classifierCoverage,
  humanReference,
  observationPresence,
  ratedObservations,
  spanUnits,
  type BehaviourRatings,
} from './agreement-units.ts';

export type Unit = 'observation' | 'span';

/** A figure, or why it cannot be computed; `n` and `nMeaning` say what it was computed over. */
export interface Figure { value: number | null; reason: string | null; n: number; nMeaning: string }

export interface PairKappa { coderA: AgreementCoder; coderB: AgreementCoder; kappa: Figure }

/** The agreement among people on one behaviour (or all pooled, behaviour null) at one unit. */
export interface AgreementRow {
  behaviour: AgreementBehaviour | null;
  unit: Unit;
  /** Units in the reliability data (rated by at least one coder). */
  units: number;
  /** "present" ratings among them: how often the behaviour was coded. */
  presentRatings: number;
  percentAgreement: Figure;
  cohen: PairKappa[];
  fleiss: Figure;
  alpha: Figure;
}

/** A classifier against the human reference on one behaviour (or pooled), at one unit. */
export interface ClassifierRow {
  behaviour: AgreementBehaviour | null;
  unit: Unit;
  truePositive: number;
  falsePositive: number;
  falseNegative: number;
  trueNegative: number;
  /** Observations compared: with a human reference and rated by the classifier. */
  units: number;
  precision: Figure;
  recall: Figure;
  f1: Figure;
}

export interface ClassifierComparison {
  classifier: AgreementClassifier;
  /** Observations it rated (proposed anything for, or a job of it finished). */
  observations: number;
  /** Observation-level presence. */
  overall: ClassifierRow;
  behaviours: ClassifierRow[];
  /** Span-level: its spans and people's joined into units by the overlap rule. */
  span: { overall: ClassifierRow; behaviours: ClassifierRow[] };
}

export interface AgreementReport {
  version: AgreementVersion;
  coders: AgreementCoder[];
  behaviours: AgreementBehaviour[];
  /** Behaviours left out because nobody (person or classifier) coded them in this selection. */
  omittedBehaviours: number;
  /** Observations at least one coder rated. */
  ratedObservations: number;
  observation: { overall: AgreementRow; behaviours: AgreementRow[] };
  span: { overall: AgreementRow; behaviours: AgreementRow[] };
  classifiers: ClassifierComparison[];
  notes: string[];
}

/** The unit definitions the page and the CSV state beside the figures. */
export const UNIT_DEFINITIONS: Record<Unit, string> = {
  observation:
    'Observation-level presence: one unit per observation and behaviour; a coder is "present" if they coded the behaviour anywhere in the observation, "absent" if they rated the observation without coding it, missing if they did not rate it (rated = submitted an assignment for it, or made an accepted coding of it with no assignment still open). Overall pools every (observation, behaviour) unit.',
  span:
    'Span-level: people\'s spans of a behaviour on the same message part fall in one unit when they overlap by at least half of the shorter span (a unit is the union of such spans); a coder is "present" in a unit if one of their spans is in it, "absent" if they rated the observation but marked none there. Whole-observation codings take no part; stretches nobody marked are not units.',
};

/**
 * Computes every agreement figure of the report from the loaded rating data: among people, per behaviour and
 * pooled, at observation level and span level; and each classifier against the human reference (the majority of
 * the people who rated an observation; ties have no reference) at observation level. Pure: the page, the API, the
 * CSV and the benchmark all call this on what `loadAgreementData` returned.
 */
export function computeAgreementReport(input: AgreementData): AgreementReport {
  const everyone = ratedObservations(input, input.coders.map((c) => c.id));
  // Without a coder filter, only people who rated something in this selection are coders of the report: someone
  // whose codings all fall outside the dates or tags would otherwise be a column of missing ratings (and leave
  // Fleiss' kappa, over the units everyone rated, with nothing).
  const raters = new Set([...everyone.values()].flatMap((set) => [...set]));
  const data = input.coderFiltered ? input : { ...input, coders: input.coders.filter((c) => raters.has(c.id)) };
  const coderIds = data.coders.map((c) => c.id);
  const rated = data.coders.length === input.coders.length ? everyone : ratedObservations(data, coderIds);

  // Behaviours: the filter's, else those anyone coded here (a catalogue of 36 mostly-unused codes would bury them).
  const codedBehaviours = new Set(data.codings.filter((c) => c.classifierId !== null || rated.get(c.observationId)?.has(c.coderId!)).map((c) => c.behaviourId));
  const behaviours = data.behaviourFiltered ? data.behaviours : data.behaviours.filter((b) => codedBehaviours.has(b.id));
  const scoped: AgreementData = { ...data, behaviours };

  // Fleiss' kappa is over the units every coder of the report rated: the coder filter chooses that set.
  const fleissIndexes = coderIds.map((_, i) => i);
  const behaviourById = new Map(behaviours.map((b) => [b.id, b]));

  const agreementRows = (level: Unit, perBehaviour: BehaviourRatings[]) => {
    const rows = perBehaviour.map((r) => agreementRow(behaviourById.get(r.behaviourId)!, level, r.ratings, data.coders, fleissIndexes));
    const pooled = perBehaviour.flatMap((r) => r.ratings);
    return { overall: agreementRow(null, level, pooled, data.coders, fleissIndexes), behaviours: rows };
  };
  const presence = observationPresence(scoped, coderIds, rated);
  const observation = agreementRows('observation', presence);
  const span = agreementRows('span', spanUnits(scoped, coderIds, rated));

  const coverage = classifierCoverage(scoped);
  const proposed = new Set<string>();
  for (const c of data.codings) if (c.classifierId !== null) proposed.add(`${c.classifierId} ${c.behaviourId} ${c.observationId}`);
  const classifiers = data.classifiers.map((k): ClassifierComparison => {
    const covered = coverage.get(k.id) ?? new Set<string>();
    const pooledRef: Array<Label | null> = [];
    const pooledPred: Array<Label | null> = [];
    const rows = presence.map((r) => {
      const reference = r.ratings.map((unit) => humanReference(unit));
      const predicted = r.units.map((o) => (!covered.has(o) ? null : proposed.has(`${k.id} ${r.behaviourId} ${o}`) ? PRESENT : ABSENT));
      pooledRef.push(...reference);
      pooledPred.push(...predicted);
      return classifierRow(behaviourById.get(r.behaviourId)!, 'observation', reference, predicted);
    });
    const spanRef: Array<Label | null> = [];
    const spanPred: Array<Label | null> = [];
    const spanRows = spanUnits(scoped, coderIds, rated, { classifierId: k.id, covered }).map((r) => {
      const reference = r.ratings.map((unit) => humanReference(unit.slice(0, -1)));
      const predicted = r.ratings.map((unit) => unit[unit.length - 1] ?? null);
      spanRef.push(...reference);
      spanPred.push(...predicted);
      return classifierRow(behaviourById.get(r.behaviourId)!, 'span', reference, predicted);
    });
    return {
      classifier: k,
      observations: covered.size,
      overall: classifierRow(null, 'observation', pooledRef, pooledPred),
      behaviours: rows,
      span: { overall: classifierRow(null, 'span', spanRef, spanPred), behaviours: spanRows },
    };
  });

  const notes: string[] = [];
  if (data.coders.length < 2) notes.push(data.coders.length === 0 ? 'No person has coded under this version in this selection, so there is nothing to agree on yet.' : `Only one person (${data.coders[0]!.name}) has coded under this version in this selection: agreement needs at least two.`);
  if (data.classifiers.length === 0) notes.push('No classifier has proposed codings under this version, so there is no classifier to compare.');
  return {
    version: data.version,
    coders: data.coders,
    behaviours,
    omittedBehaviours: data.behaviours.length - behaviours.length,
    ratedObservations: rated.size,
    observation,
    span,
    classifiers,
    notes,
  };
}

function agreementRow(
  behaviour: AgreementBehaviour | null,
  unit: Unit,
  ratings: Array<Array<Label | null>>,
  coders: AgreementCoder[],
  fleissIndexes: number[],
): AgreementRow {
  const percent = percentAgreement(ratings);
  const alpha = krippendorffAlphaNominal(ratings);
  // Every coder of the report is in the Fleiss set, so a complete unit is a row with no missing rating.
  const complete = fleissIndexes.length < 2 ? [] : ratings.filter((u) => u.every((v) => v !== null));
  const fleiss = fleissIndexes.length < 2 ? null : fleissKappa(complete);
  const unitWord = unit === 'observation' ? 'observations' : 'spans';
  return {
    behaviour,
    unit,
    units: ratings.length,
    presentRatings: ratings.reduce((s, u) => s + u.filter((v) => v === PRESENT).length, 0),
    percentAgreement: figure(percent.value, percent.value === null ? percent.reason : null, percent.units ?? 0, `${unitWord} rated by two or more coders`),
    alpha: figure(alpha.value, alpha.value === null ? alpha.reason : null, alpha.pairable ?? 0, 'pairable ratings'),
    fleiss: fleiss === null
      ? figure(null, 'Fleiss\' kappa needs at least two coders.', 0, `${unitWord} rated by every coder`)
      : figure(fleiss.value, fleiss.value === null ? (complete.length === 0 ? `No unit was rated by all ${fleissIndexes.length} coders: choose fewer coders in the filter.` : fleiss.reason) : null, complete.length, `${unitWord} rated by all ${fleissIndexes.length} coders`),
    cohen: pairwiseCohensKappa(ratings, coders.map((c) => c.id)).map((p) => {
      const k = p.kappa;
      return {
        coderA: coders.find((c) => c.id === p.coderA)!,
        coderB: coders.find((c) => c.id === p.coderB)!,
        kappa: figure(k.value, k.value === null ? k.reason : null, k.units ?? 0, `${unitWord} both coders rated`),
      };
    }),
  };
}

function classifierRow(behaviour: AgreementBehaviour | null, unit: Unit, reference: Array<Label | null>, predicted: Array<Label | null>): ClassifierRow {
  const m = confusionMatrix(reference, predicted, [PRESENT, ABSENT]);
  const pr = precisionRecall(m, PRESENT);
  const [tp, fn] = m.counts[0] as [number, number];
  const [fp, tn] = m.counts[1] as [number, number];
  const things = unit === 'observation' ? 'observations' : 'span units';
  const meaning = `${things} with a human reference the classifier rated`;
  const noUnits = m.units === 0 ? `No ${unit === 'observation' ? 'observation' : 'span unit'} has both a human reference (majority, no tie) and this classifier's rating.` : null;
  return {
    behaviour,
    unit,
    truePositive: tp,
    falsePositive: fp,
    falseNegative: fn,
    trueNegative: tn,
    units: m.units,
    precision: figure(pr.precision, noUnits ?? `The classifier never proposed it on compared ${things}.`, tp + fp, `${things} the classifier marked present`),
    recall: figure(pr.recall, noUnits ?? `The human reference never has it present on compared ${things}.`, tp + fn, `${things} the reference marks present`),
    f1: figure(pr.f1, noUnits ?? (pr.precision === null || pr.recall === null ? 'Precision or recall is undefined.' : 'Precision and recall are both zero.'), m.units, meaning),
  };
}

function figure(value: number | null, reason: string | null, n: number, nMeaning: string): Figure {
  return value === null ? { value: null, reason: reason ?? 'Undefined for these data.', n, nMeaning } : { value, reason: null, n, nMeaning };
}

export { ABSENT, PRESENT };
