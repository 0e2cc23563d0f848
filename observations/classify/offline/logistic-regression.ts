import type { SparseMatrix, SparseVector } from './tfidf.ts';

/**
 * One-vs-rest logistic regression with L2 regularisation, trained by L-BFGS over the full training set (no
 * sampling, so the result depends on the data alone and is exactly reproducible). For each behaviour, with
 * y in {-1, 1} and class weights c_i, the objective is
 *
 *   f(w, b) = (1 / sum c_i) * sum_i c_i * ln(1 + exp(-y_i (sum_j w_j s_j x_ij + b)))  +  (lambda / 2) * |w|^2
 *
 * with lambda = 1 / (C * n) (scikit-learn's C, inverse regularisation strength), an unregularised intercept b,
 * and per-feature scales s_j (1, or the log-count ratios of NB-weighting; see offline-classifier.ts). Balanced
 * class weights give each class half the total weight, so a behaviour seen in 2% of the examples is not learnt
 * as "never". The returned weights are w_j * s_j, to be applied to unscaled features.
 *
 * Speed: the behaviours' optimisations run in lockstep, each its own L-BFGS (own history, own line search),
 * and every round evaluates all of them in one pass over the data with the weights laid out feature-major, so
 * each stored feature value is read once for all behaviours.
 */

export interface BinaryTrainingOptions {
  /** Inverse regularisation strength (larger: weaker regularisation). */
  c: number;
  classWeight: 'balanced' | 'none';
  maxIterations: number;
  /** Stop when the gradient's largest component falls below this share of its value at the start. */
  tolerance: number;
}

export interface BinaryProblem {
  /** 1 where the example has the behaviour. */
  positive: Uint8Array;
  /** Per-feature input scale, or undefined for none. */
  featureScale?: Float64Array | undefined;
}

export interface BinaryModel {
  weights: Float64Array;
  bias: number;
  iterations: number;
  /** The final objective value, for diagnostics. */
  objective: number;
}

const HISTORY = 8;

/** A request from one behaviour's optimiser: the objective and gradient at `point`, please. */
type Evaluation = { f: number; g: Float64Array };

export function trainOneVsRest(x: SparseMatrix, problems: readonly BinaryProblem[], options: BinaryTrainingOptions): BinaryModel[] {
  const dim = x.columns + 1; // the last coordinate is the intercept
  const labels = problems.map((p) => labelSetup(x.rows, p, options));
  const optimisers = labels.map((setup) => lbfgs(dim, setup.initialBias, options));
  const pending = optimisers.map((o) => o.next());
  const results: Array<BinaryModel | undefined> = problems.map(() => undefined);
  for (;;) {
    const active = pending.flatMap((step, k) => (step.done ? [] : [k]));
    pending.forEach((step, k) => {
      if (step.done && !results[k]) results[k] = finish(step.value, problems[k]!.featureScale);
    });
    if (active.length === 0) break;
    const evaluations = evaluateJointly(x, active.map((k) => ({ point: (pending[k]!.value as Float64Array), setup: labels[k]!, scale: problems[k]!.featureScale })));
    active.forEach((k, a) => (pending[k] = optimisers[k]!.next(evaluations[a]!)));
  }
  return results as BinaryModel[];
}

/** One behaviour's fixed quantities: class weights, their total, the regularisation, the starting intercept. */
interface LabelSetup {
  positive: Uint8Array;
  weightPos: number;
  weightNeg: number;
  totalWeight: number;
  lambda: number;
  initialBias: number;
}

function labelSetup(n: number, problem: BinaryProblem, options: BinaryTrainingOptions): LabelSetup {
  let positives = 0;
  for (let i = 0; i < n; i++) positives += problem.positive[i]!;
  const negatives = n - positives;
  const weightPos = options.classWeight === 'balanced' && positives > 0 ? n / (2 * positives) : 1;
  const weightNeg = options.classWeight === 'balanced' && negatives > 0 ? n / (2 * negatives) : 1;
  const pos = positives * weightPos;
  const neg = negatives * weightNeg;
  return {
    positive: problem.positive,
    weightPos,
    weightNeg,
    totalWeight: pos + neg,
    lambda: 1 / (options.c * n),
    // Start the intercept at the weighted log-odds, so iterations go to the features.
    initialBias: pos > 0 && neg > 0 ? Math.log(pos / neg) : 0,
  };
}

function finish(result: { w: Float64Array; iterations: number; f: number }, scale: Float64Array | undefined): BinaryModel {
  const dim = result.w.length;
  const weights = result.w.slice(0, dim - 1);
  if (scale) for (let j = 0; j < weights.length; j++) weights[j]! *= scale[j]!;
  return { weights, bias: result.w[dim - 1]!, iterations: result.iterations, objective: result.f };
}

/**
 * Objectives and gradients for several behaviours at their own points, in one pass over the rows: weights are
 * packed feature-major (all behaviours' weights for a feature side by side), scaled per behaviour.
 */
function evaluateJointly(x: SparseMatrix, items: ReadonlyArray<{ point: Float64Array; setup: LabelSetup; scale: Float64Array | undefined }>): Evaluation[] {
  const k = items.length;
  const columns = x.columns;
  // Effective weights (scaled) per behaviour, as float32: half the memory traffic, and the sums stay float64.
  const weights = items.map(({ point, scale }) => {
    const w = new Float32Array(columns);
    for (let j = 0; j < columns; j++) w[j] = scale ? point[j]! * scale[j]! : point[j]!;
    return w;
  });
  const gradients = items.map(() => new Float64Array(columns));
  const loss = new Float64Array(k);
  const gradientBias = new Float64Array(k);
  const { rowStart, indices, values } = x;
  for (let i = 0; i < x.rows; i++) {
    const start = rowStart[i]!;
    const end = rowStart[i + 1]!;
    for (let a = 0; a < k; a++) {
      const { point, setup } = items[a]!;
      const w = weights[a]!;
      let z = point[columns]!;
      for (let p = start; p < end; p++) z += w[indices[p]!]! * values[p]!;
      const isPositive = setup.positive[i] === 1;
      const y = isPositive ? 1 : -1;
      const c = isPositive ? setup.weightPos : setup.weightNeg;
      const m = y * z;
      // ln(1 + e^-m) and sigmoid(-m), computed stably for large |m|.
      const e = Math.exp(-Math.abs(m));
      loss[a]! += c * (m > 0 ? Math.log1p(e) : -m + Math.log1p(e));
      const s = m > 0 ? e / (1 + e) : 1 / (1 + e);
      const r = (-y * s * c) / setup.totalWeight;
      gradientBias[a]! += r;
      // A row classified with a margin beyond ~16 contributes under 1e-7 of its weight: skip its scatter.
      if (s < 1e-7) continue;
      const g = gradients[a]!;
      for (let p = start; p < end; p++) g[indices[p]!]! += r * values[p]!;
    }
  }
  return items.map(({ point, setup, scale }, a) => {
    const g = new Float64Array(columns + 1);
    const data = gradients[a]!;
    let penalty = 0;
    for (let j = 0; j < columns; j++) {
      const w = point[j]!;
      penalty += w * w;
      g[j] = (scale ? data[j]! * scale[j]! : data[j]!) + setup.lambda * w;
    }
    g[columns] = gradientBias[a]!;
    return { f: loss[a]! / setup.totalWeight + (setup.lambda / 2) * penalty, g };
  });
}

/**
 * L-BFGS as a generator: it yields each point it needs evaluated and receives the objective and gradient there,
 * so several optimisers can share data passes. Backtracking line search with the Armijo condition.
 */
function* lbfgs(dim: number, initialBias: number, options: BinaryTrainingOptions): Generator<Float64Array, { w: Float64Array; iterations: number; f: number }, Evaluation> {
  const w = new Float64Array(dim);
  w[dim - 1] = initialBias;
  let { f, g } = yield w.slice();
  const stopAt = options.tolerance * Math.max(maxAbs(g), 1e-12);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const alpha = new Float64Array(HISTORY);
  const direction = new Float64Array(dim);
  let iterations = 0;
  for (; iterations < options.maxIterations; iterations++) {
    if (maxAbs(g) <= stopAt) break;
    // Two-loop recursion: direction = -H g.
    direction.set(g);
    for (let k = sHistory.length - 1; k >= 0; k--) {
      alpha[k] = rhoHistory[k]! * dot(sHistory[k]!, direction);
      axpy(-alpha[k]!, yHistory[k]!, direction);
    }
    if (sHistory.length > 0) {
      const last = sHistory.length - 1;
      scale(direction, dot(sHistory[last]!, yHistory[last]!) / dot(yHistory[last]!, yHistory[last]!));
    } else {
      scale(direction, 1 / Math.max(1, Math.sqrt(dot(g, g))));
    }
    for (let k = 0; k < sHistory.length; k++) {
      const beta = rhoHistory[k]! * dot(yHistory[k]!, direction);
      axpy(alpha[k]! - beta, sHistory[k]!, direction);
    }
    scale(direction, -1);
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): steepest descent, and forget the history.
      direction.set(g);
      scale(direction, -1 / Math.max(1, Math.sqrt(dot(g, g))));
      slope = dot(g, direction);
      sHistory.length = yHistory.length = rhoHistory.length = 0;
    }
    let step = 1;
    let next: Evaluation | null = null;
    const trial = new Float64Array(dim);
    for (let tries = 0; tries < 30; tries++) {
      for (let j = 0; j < dim; j++) trial[j] = w[j]! + step * direction[j]!;
      next = yield trial;
      if (next.f <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!next || !(next.f < f)) break;
    // Reuse the oldest pair's buffers once the history is full.
    const recycled = sHistory.length === HISTORY;
    const s = recycled ? sHistory.shift()! : new Float64Array(dim);
    const y = recycled ? yHistory.shift()! : new Float64Array(dim);
    if (recycled) rhoHistory.shift();
    for (let j = 0; j < dim; j++) {
      s[j] = trial[j]! - w[j]!;
      y[j] = next.g[j]! - g[j]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      sHistory.push(s);
      yHistory.push(y);
      rhoHistory.push(1 / sy);
    }
    const improvement = (f - next.f) / Math.max(1, Math.abs(f));
    w.set(trial);
    g = next.g;
    f = next.f;
    if (improvement < 1e-10) {
      iterations++;
      break;
    }
  }
  return { w, iterations, f };
}

/** The model's score (log-odds) for one vector. */
export function score(weights: ArrayLike<number>, bias: number, v: SparseVector): number {
  let z = bias;
  for (let k = 0; k < v.indices.length; k++) z += weights[v.indices[k]!]! * v.values[k]!;
  return z;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += a * x[i]!;
}

function scale(x: Float64Array, a: number): void {
  for (let i = 0; i < x.length; i++) x[i]! *= a;
}

function maxAbs(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}
