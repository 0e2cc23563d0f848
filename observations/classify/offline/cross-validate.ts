import { confusionMatrix, precisionRecall } from '../../agreement/agreement-statistics.ts';
import { groupDuplicates, stratifiedGroupFolds } from './folds.ts';
import { predict, train, type TrainingExample, type TrainOptions } from './offline-classifier.ts';

/**
 * Cross-validated precision, recall and F1 per behaviour, the figures shown next to the offline classifier.
 * Each fold's model is trained from scratch on the other folds (vocabulary and idf included), and duplicate
 * texts share a fold (folds.ts), so nothing of a test example reaches its model. A behaviour with too few
 * examples gets no figures, only a reason: noisy figures would be read as real ones.
 *
 * Strategy: stratified k-fold; with few distinct texts (at most `leaveOneOutBelow`), leave-one-out, where every
 * distinct text is tested by a model trained on all the others.
 */

export interface CrossValidationOptions extends TrainOptions {
  /** Number of folds (default 5). */
  folds?: number;
  /** Seed for the fold assignment (default 1). */
  seed?: number;
  /** Probability at or above which a behaviour counts as predicted (default 0.5). */
  threshold?: number;
  /** Fewer distinct positive (or negative) texts than this: no figures (default 5). */
  minPositives?: number;
  /** In k-fold, fewer distinct positive texts per fold than this on average: no figures (default 2). */
  minPositivesPerFold?: number;
  /** At most this many distinct texts: leave-one-out instead of k-fold (default 30). */
  leaveOneOutBelow?: number;
  /** Called after each fold's model is trained and tested. */
  onFold?: (done: number, total: number) => void;
}

export interface BehaviourFigures {
  label: string;
  /** Examples with the behaviour (reference positives). */
  support: number;
  /** Distinct texts among them (duplicates count once), which the trust rule uses. */
  distinctPositives: number;
  negatives: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  counts: { truePositives: number; falsePositives: number; falseNegatives: number; trueNegatives: number };
  trustworthy: boolean;
  /** Why the figures are withheld, or null when they are reported. */
  reason: string | null;
}

export interface CrossValidationResult {
  strategy: 'stratified-k-fold' | 'leave-one-out';
  folds: number;
  seed: number;
  threshold: number;
  examples: number;
  distinctTexts: number;
  /** The fold each example was tested in. */
  foldOf: number[];
  behaviours: BehaviourFigures[];
  /** Micro-averaged over the trustworthy behaviours (null when there is none). */
  overall: { precision: number | null; recall: number | null; f1: number | null } | null;
}

export function crossValidate(examples: readonly TrainingExample[], options: CrossValidationOptions = {}): CrossValidationResult {
  const plan = planFolds(examples, options);
  for (let fold = 0; fold < plan.folds; fold++) {
    runFold(plan, fold);
    options.onFold?.(fold + 1, plan.folds);
  }
  return summarise(plan);
}

/**
 * `crossValidate` for a server process: it yields to the event loop between folds (so a worker's heartbeat and
 * other requests get their turn during a long training) and stops between folds when the signal fires, throwing
 * an Error named `AbortError`.
 */
export async function crossValidateAsync(
  examples: readonly TrainingExample[],
  options: CrossValidationOptions & { signal?: AbortSignal } = {},
): Promise<CrossValidationResult> {
  const plan = planFolds(examples, options);
  for (let fold = 0; fold < plan.folds; fold++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (options.signal?.aborted) throw Object.assign(new Error('Cross-validation was stopped.'), { name: 'AbortError' });
    runFold(plan, fold);
    options.onFold?.(fold + 1, plan.folds);
  }
  return summarise(plan);
}

interface FoldPlan {
  examples: readonly TrainingExample[];
  options: CrossValidationOptions;
  seed: number;
  threshold: number;
  minPositives: number;
  minPerFold: number;
  groups: ReturnType<typeof groupDuplicates>;
  leaveOneOut: boolean;
  folds: number;
  foldOf: number[];
  labels: string[];
  probabilities: Map<string, number>[];
}

function planFolds(examples: readonly TrainingExample[], options: CrossValidationOptions): FoldPlan {
  const requestedFolds = options.folds ?? 5;
  if (!Number.isInteger(requestedFolds) || requestedFolds < 2) throw new Error('Cross-validation needs at least 2 folds.');
  const seed = options.seed ?? 1;
  const groups = groupDuplicates(examples);
  if (groups.length < 2) throw new Error('Cross-validation needs at least two distinct texts.');
  const leaveOneOut = groups.length <= (options.leaveOneOutBelow ?? 30) || groups.length < requestedFolds;
  const folds = leaveOneOut ? groups.length : requestedFolds;
  const groupFold = leaveOneOut ? groups.map((_, i) => i) : stratifiedGroupFolds(groups, folds, seed);
  const foldOf = new Array<number>(examples.length);
  groups.forEach((g, gi) => g.members.forEach((m) => (foldOf[m] = groupFold[gi]!)));
  return {
    examples,
    options,
    seed,
    threshold: options.threshold ?? 0.5,
    minPositives: options.minPositives ?? 5,
    minPerFold: options.minPositivesPerFold ?? 2,
    groups,
    leaveOneOut,
    folds,
    foldOf,
    labels: [...new Set(examples.flatMap((e) => e.labels))].sort(),
    probabilities: examples.map(() => new Map<string, number>()),
  };
}

/** Trains on every fold but one and records the held-out fold's probabilities. */
function runFold(plan: FoldPlan, fold: number): void {
  const { examples, foldOf, probabilities } = plan;
  const trainSet: TrainingExample[] = [];
  const testSet: number[] = [];
  examples.forEach((e, i) => (foldOf[i] === fold ? testSet.push(i) : trainSet.push(e)));
  if (testSet.length === 0 || trainSet.length === 0) return;
  const model = train(trainSet, plan.options);
  for (const i of testSet) for (const p of predict(model, examples[i]!.text)) probabilities[i]!.set(p.label, p.probability);
}

function summarise(plan: FoldPlan): CrossValidationResult {
  const { examples, groups, labels, probabilities, threshold, minPositives, minPerFold, leaveOneOut, folds, seed, foldOf } = plan;
  const behaviours = labels.map((label): BehaviourFigures => {
    const reference = examples.map((e) => e.labels.includes(label));
    const predicted = examples.map((_, i) => (probabilities[i]!.get(label) ?? 0) >= threshold);
    const matrix = confusionMatrix(reference, predicted, [true, false]);
    const figures = precisionRecall(matrix, true);
    const [[tp, fn], [fp, tn]] = matrix.counts as [[number, number], [number, number]];
    const distinctPositives = groups.filter((g) => g.labels.has(label)).length;
    const distinctNegatives = groups.length - distinctPositives;
    const reason =
      distinctPositives < minPositives
        ? `Only ${distinctPositives} distinct example${distinctPositives === 1 ? '' : 's'} with this behaviour; at least ${minPositives} are needed before cross-validated figures mean anything.`
        : distinctNegatives < minPositives
          ? `Only ${distinctNegatives} distinct example${distinctNegatives === 1 ? '' : 's'} without this behaviour; at least ${minPositives} are needed to measure false alarms.`
          : !leaveOneOut && distinctPositives < minPerFold * folds
            ? `${distinctPositives} distinct examples with this behaviour over ${folds} folds is fewer than ${minPerFold} per fold, so one example swings the figures; collect more.`
            : null;
    return {
      label,
      support: figures.support,
      distinctPositives,
      negatives: examples.length - figures.support,
      precision: reason ? null : figures.precision,
      recall: reason ? null : figures.recall,
      f1: reason ? null : figures.f1,
      counts: { truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn },
      trustworthy: reason === null,
      reason,
    };
  });

  const trusted = behaviours.filter((b) => b.trustworthy);
  let overall: CrossValidationResult['overall'] = null;
  if (trusted.length > 0) {
    const tp = trusted.reduce((s, b) => s + b.counts.truePositives, 0);
    const fp = trusted.reduce((s, b) => s + b.counts.falsePositives, 0);
    const fn = trusted.reduce((s, b) => s + b.counts.falseNegatives, 0);
    const precision = tp + fp === 0 ? null : tp / (tp + fp);
    const recall = tp + fn === 0 ? null : tp / (tp + fn);
    const f1 = precision === null || recall === null || precision + recall === 0 ? null : (2 * precision * recall) / (precision + recall);
    overall = { precision, recall, f1 };
  }
  return {
    strategy: leaveOneOut ? 'leave-one-out' : 'stratified-k-fold',
    folds,
    seed,
    threshold,
    examples: examples.length,
    distinctTexts: groups.length,
    foldOf,
    behaviours,
    overall,
  };
}
