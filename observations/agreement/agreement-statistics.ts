/**
 * Inter-coder agreement statistics, as researchers publish them. Pure functions over a reliability-data matrix:
 * `ratings[unit][coder]` is the label a coder gave a unit, or null when that coder did not code it (missing).
 * Labels are compared for equality only (nominal data). Each function states which units it uses; a coefficient
 * that is undefined for the data (no pairable units, or no variation at all) is returned as null with a reason,
 * never as a made-up number.
 */

export type Label = string | number | boolean;
export type Ratings = ReadonlyArray<ReadonlyArray<Label | null>>;

export type Coefficient<T> = ({ value: number } & T) | ({ value: null; reason: string } & Partial<T>);

const present = (v: Label | null): v is Label => v !== null;

/**
 * Percent agreement, pairwise: over every unit coded by at least two coders, the share of coder pairs that gave
 * the same label (a unit with three coders contributes three pairs).
 */
export function percentAgreement(ratings: Ratings): Coefficient<{ pairs: number; units: number }> {
  let agreeing = 0;
  let pairs = 0;
  let units = 0;
  for (const unit of ratings) {
    const values = unit.filter(present);
    if (values.length < 2) continue;
    units++;
    for (let i = 0; i < values.length; i++) {
      for (let j = i + 1; j < values.length; j++) {
        pairs++;
        if (values[i] === values[j]) agreeing++;
      }
    }
  }
  if (pairs === 0) return { value: null, reason: 'No unit was coded by two coders.', pairs, units };
  return { value: agreeing / pairs, pairs, units };
}

/**
 * Cohen's kappa for two coders: (p_o - p_e) / (1 - p_e), over the units both coded. p_e comes from each coder's
 * own label distribution (Cohen 1960).
 */
export function cohensKappa(a: ReadonlyArray<Label | null>, b: ReadonlyArray<Label | null>): Coefficient<{ observed: number; expected: number; units: number }> {
  if (a.length !== b.length) throw new Error(`cohensKappa: the coders' lists differ in length (${a.length} and ${b.length})`);
  const countsA = new Map<Label, number>();
  const countsB = new Map<Label, number>();
  let units = 0;
  let agreeing = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === null || y === null) continue;
    units++;
    if (x === y) agreeing++;
    countsA.set(x, (countsA.get(x) ?? 0) + 1);
    countsB.set(y, (countsB.get(y) ?? 0) + 1);
  }
  if (units === 0) return { value: null, reason: 'The two coders coded no unit in common.', units };
  const observed = agreeing / units;
  let expected = 0;
  for (const [label, n] of countsA) expected += (n / units) * ((countsB.get(label) ?? 0) / units);
  if (expected === 1) return { value: null, reason: 'Both coders gave every unit the same single label, so chance agreement is total and kappa is undefined.', observed, expected, units };
  return { value: (observed - expected) / (1 - expected), observed, expected, units };
}

/** Cohen's kappa for every pair of coders (columns of `ratings`), named by `coders`. */
export function pairwiseCohensKappa(ratings: Ratings, coders: readonly string[]): Array<{ coderA: string; coderB: string; kappa: ReturnType<typeof cohensKappa> }> {
  const out: Array<{ coderA: string; coderB: string; kappa: ReturnType<typeof cohensKappa> }> = [];
  for (let i = 0; i < coders.length; i++) {
    for (let j = i + 1; j < coders.length; j++) {
      out.push({ coderA: coders[i]!, coderB: coders[j]!, kappa: cohensKappa(ratings.map((u) => u[i] ?? null), ratings.map((u) => u[j] ?? null)) });
    }
  }
  return out;
}

/**
 * Fleiss' kappa (Fleiss 1971) over the units coded by at least two coders. With the same number of coders on
 * every unit this is Fleiss' formula exactly; where the number varies, each unit's agreement P_i uses its own
 * count n_i, and the category proportions p_j are over all ratings of those units.
 */
export function fleissKappa(ratings: Ratings): Coefficient<{ observed: number; expected: number; units: number }> {
  const totals = new Map<Label, number>();
  let sumP = 0;
  let units = 0;
  let ratingsCount = 0;
  for (const unit of ratings) {
    const values = unit.filter(present);
    const n = values.length;
    if (n < 2) continue;
    units++;
    ratingsCount += n;
    const counts = new Map<Label, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    let sumSquares = 0;
    for (const [label, c] of counts) {
      sumSquares += c * c;
      totals.set(label, (totals.get(label) ?? 0) + c);
    }
    sumP += (sumSquares - n) / (n * (n - 1));
  }
  if (units === 0) return { value: null, reason: 'No unit was coded by two coders.', units };
  const observed = sumP / units;
  let expected = 0;
  for (const c of totals.values()) expected += (c / ratingsCount) ** 2;
  if (expected === 1) return { value: null, reason: 'Every rating carries the same label, so chance agreement is total and kappa is undefined.', observed, expected, units };
  return { value: (observed - expected) / (1 - expected), observed, expected, units };
}

/**
 * Krippendorff's alpha for nominal data (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
 * alpha = 1 - D_o / D_e from the coincidence matrix. Missing ratings are allowed; units with fewer than two
 * ratings are not pairable and drop out. `pairable` is n, the number of pairable values.
 */
export function krippendorffAlphaNominal(ratings: Ratings): Coefficient<{ observedDisagreement: number; expectedDisagreement: number; pairable: number }> {
  // Counted exactly rather than by summing fractional coincidences: n_c (the marginals of the coincidence
  // matrix) is the number of pairable values labelled c, and a unit's off-diagonal coincidences sum to
  // (m_u^2 - sum_c n_uc^2) / (m_u - 1).
  const marginals = new Map<Label, number>();
  let n = 0;
  let disagreeingCoincidences = 0;
  for (const unit of ratings) {
    const values = unit.filter(present);
    const m = values.length;
    if (m < 2) continue;
    const counts = new Map<Label, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    let sumSquares = 0;
    for (const [label, c] of counts) {
      sumSquares += c * c;
      marginals.set(label, (marginals.get(label) ?? 0) + c);
    }
    n += m;
    disagreeingCoincidences += (m * m - sumSquares) / (m - 1);
  }
  if (n === 0) return { value: null, reason: 'No unit has two ratings, so nothing is pairable.', pairable: 0 };
  let sumMarginalSquares = 0;
  for (const c of marginals.values()) sumMarginalSquares += c * c;
  const expectedPairs = n * n - sumMarginalSquares;
  const observedDisagreement = disagreeingCoincidences / n;
  const expectedDisagreement = expectedPairs / (n * (n - 1));
  if (expectedPairs === 0) return { value: null, reason: 'Every pairable value is the same label, so there is no variation to agree on and alpha is undefined.', observedDisagreement, expectedDisagreement, pairable: n };
  return { value: 1 - ((n - 1) * disagreeingCoincidences) / expectedPairs, observedDisagreement, expectedDisagreement, pairable: n };
}

/** A confusion matrix of reference labels (rows, e.g. people) against predicted ones (columns, e.g. a classifier). */
export interface ConfusionMatrix {
  labels: Label[];
  /** counts[i][j]: units whose reference is labels[i] and prediction labels[j]. */
  counts: number[][];
  units: number;
}

/** Builds the confusion matrix over units where both the reference and the prediction exist. */
export function confusionMatrix(reference: ReadonlyArray<Label | null>, predicted: ReadonlyArray<Label | null>, labels?: readonly Label[]): ConfusionMatrix {
  if (reference.length !== predicted.length) throw new Error(`confusionMatrix: lists differ in length (${reference.length} and ${predicted.length})`);
  const order: Label[] = labels ? [...labels] : [];
  const index = new Map(order.map((l, i) => [l, i]));
  const indexOf = (l: Label) => {
    let i = index.get(l);
    if (i === undefined) {
      i = order.length;
      order.push(l);
      index.set(l, i);
    }
    return i;
  };
  const pairs: Array<[number, number]> = [];
  for (let u = 0; u < reference.length; u++) {
    const r = reference[u] ?? null;
    const p = predicted[u] ?? null;
    if (r === null || p === null) continue;
    pairs.push([indexOf(r), indexOf(p)]);
  }
  const counts = order.map(() => order.map(() => 0));
  for (const [i, j] of pairs) counts[i]![j]!++;
  return { labels: order, counts, units: pairs.length };
}

/**
 * Precision, recall and F1 of one label from a confusion matrix (that label as the positive class). A figure
 * with a zero denominator is null: no prediction of the label (precision) or no reference case of it (recall).
 */
export function precisionRecall(matrix: ConfusionMatrix, label: Label): { precision: number | null; recall: number | null; f1: number | null; support: number } {
  const i = matrix.labels.indexOf(label);
  if (i < 0) return { precision: null, recall: null, f1: null, support: 0 };
  const tp = matrix.counts[i]![i]!;
  const predictedPositive = matrix.counts.reduce((s, row) => s + row[i]!, 0);
  const support = matrix.counts[i]!.reduce((s, v) => s + v, 0);
  const precision = predictedPositive === 0 ? null : tp / predictedPositive;
  const recall = support === 0 ? null : tp / support;
  const f1 = precision === null || recall === null || precision + recall === 0 ? null : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, support };
}
