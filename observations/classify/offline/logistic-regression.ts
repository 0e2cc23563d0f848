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
 * and the data passes they need are batched: one pass over the rows serves every behaviour. An iteration costs
 * two passes, whatever its line search tries: one computes the direction's effect on every example's score
 * (X d), after which the loss at any step t is a sum over examples (scores z + t X d) with no pass over the
 * features; the other scatters the accepted point's residuals into the gradient (X^T r).
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

/**
 * What an optimiser asks of the data: the scores of a (scaled) direction for every example, X d, or the
 * gradient's data part for per-example residuals, X^T r. Requests of one kind from all behaviours share a pass.
 */
type PassRequest = { kind: 'scores'; direction: Float64Array } | { kind: 'gradient'; residual: Float64Array };

interface OptimiserResult {
  w: Float64Array;
  iterations: number;
  f: number;
}

export function trainOneVsRest(x: SparseMatrix, problems: readonly BinaryProblem[], options: BinaryTrainingOptions): BinaryModel[] {
  const optimisers = problems.map((p) => lbfgs(x, labelSetup(x.rows, p, options), p.featureScale, options));
  const pending = optimisers.map((o) => o.next());
  const results: Array<BinaryModel | undefined> = problems.map(() => undefined);
  for (;;) {
    pending.forEach((step, k) => {
      if (step.done && !results[k]) results[k] = finish(step.value, problems[k]!.featureScale);
    });
    const active = pending.flatMap((step, k) => (step.done ? [] : [k]));
    if (active.length === 0) break;
    const byKind = (kind: PassRequest['kind']) => active.filter((k) => (pending[k]!.value as PassRequest).kind === kind);
    const scoring = byKind('scores');
    const scores = scoresPass(x, scoring.map((k) => (pending[k]!.value as Extract<PassRequest, { kind: 'scores' }>).direction));
    const gradientFor = byKind('gradient');
    const gradients = gradientPass(x, gradientFor.map((k) => (pending[k]!.value as Extract<PassRequest, { kind: 'gradient' }>).residual));
    scoring.forEach((k, a) => (pending[k] = optimisers[k]!.next(scores[a]!)));
    gradientFor.forEach((k, a) => (pending[k] = optimisers[k]!.next(gradients[a]!)));
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

function finish(result: OptimiserResult, scale: Float64Array | undefined): BinaryModel {
  const dim = result.w.length;
  const weights = result.w.slice(0, dim - 1);
  if (scale) for (let j = 0; j < weights.length; j++) weights[j]! *= scale[j]!;
  return new FittedModel(weights, result.w[dim - 1]!, result.iterations, result.f);
}

/**
 * A behaviour's fitted model. A class rather than an object literal, because of what Node 24 did with the literal
 * under load: models made one after the other by it came to share their intercept, the later one's value
 * overwriting the earlier one's though no code writes to it, while their weights stayed right (in about one run in
 * fifty of training-thread.test.ts, bundled as CI runs it, beside other CPU load; never in a plain process). What
 * fits is V8 updating one number box in place for several objects (a field that only ever held numbers is kept as
 * such a box). These fields are declared, so they start undefined and V8 keeps them as references to numbers: 0
 * failures in 140 runs of that test against 3 in 140 for the literal, side by side under the same load.
 */
class FittedModel implements BinaryModel {
  weights: Float64Array;
  bias: number;
  iterations: number;
  objective: number;
  constructor(weights: Float64Array, bias: number, iterations: number, objective: number) {
    this.weights = weights;
    this.bias = bias;
    this.iterations = iterations;
    this.objective = objective;
  }
}

/** X d for several directions in one pass over the rows (each direction already scaled per feature). */
function scoresPass(x: SparseMatrix, directions: readonly Float64Array[]): Float64Array[] {
  const out = directions.map(() => new Float64Array(x.rows));
  if (directions.length === 0) return out;
  const { rowStart, indices, values } = x;
  for (let i = 0; i < x.rows; i++) {
    const start = rowStart[i]!;
    const end = rowStart[i + 1]!;
    for (let a = 0; a < directions.length; a++) {
      const d = directions[a]!;
      let z = 0;
      for (let p = start; p < end; p++) z += d[indices[p]!]! * values[p]!;
      out[a]![i] = z;
    }
  }
  return out;
}

/**
 * X^T r for several residual vectors in one pass over the rows; rows whose residuals are all zero are skipped.
 * The sums are packed feature-major (the k behaviours' sums for a feature side by side), so each stored value
 * updates one cache line rather than k scattered ones: about a quarter faster than one array per behaviour.
 */
function gradientPass(x: SparseMatrix, residuals: readonly Float64Array[]): Float64Array[] {
  const k = residuals.length;
  if (k === 0) return [];
  const packed = new Float64Array(x.columns * k);
  const r = new Float64Array(k);
  const { rowStart, indices, values } = x;
  for (let i = 0; i < x.rows; i++) {
    let any = false;
    for (let a = 0; a < k; a++) {
      r[a] = residuals[a]![i]!;
      if (r[a] !== 0) any = true;
    }
    if (!any) continue;
    const end = rowStart[i + 1]!;
    for (let p = rowStart[i]!; p < end; p++) {
      const base = indices[p]! * k;
      const v = values[p]!;
      for (let a = 0; a < k; a++) packed[base + a]! += r[a]! * v;
    }
  }
  return residuals.map((_, a) => {
    const g = new Float64Array(x.columns);
    for (let j = 0; j < x.columns; j++) g[j] = packed[j * k + a]!;
    return g;
  });
}

/**
 * The class-weighted mean log-loss at scores `z`, and the residuals (d loss / d z_i) into `residual`; returns
 * the loss and the residuals' sum (the intercept's gradient). Residuals of rows classified with a margin beyond
 * ~16 (under 1e-7 of their weight) are stored as 0, so the gradient pass skips them.
 */
function lossAt(setup: LabelSetup, z: Float64Array, residual: Float64Array | null): { loss: number; biasGradient: number } {
  let loss = 0;
  let biasGradient = 0;
  const { positive, weightPos, weightNeg, totalWeight } = setup;
  for (let i = 0; i < z.length; i++) {
    const isPositive = positive[i] === 1;
    const c = isPositive ? weightPos : weightNeg;
    const m = isPositive ? z[i]! : -z[i]!;
    // ln(1 + e^-m) and sigmoid(-m), computed stably for large |m|.
    const e = Math.exp(-Math.abs(m));
    loss += c * (m > 0 ? Math.log1p(e) : -m + Math.log1p(e));
    if (!residual) continue;
    const s = m > 0 ? e / (1 + e) : 1 / (1 + e);
    const r = ((isPositive ? -s : s) * c) / totalWeight;
    biasGradient += r;
    residual[i] = s < 1e-7 ? 0 : r;
  }
  return { loss: loss / totalWeight, biasGradient };
}

/**
 * L-BFGS as a generator over one behaviour: it yields the data passes it needs (see PassRequest) and receives
 * their results, so several optimisers can share passes. It keeps every example's score z = X (s w) + b, so the
 * backtracking line search (Armijo condition) evaluates each trial step as z + t X d without touching the data.
 */
function* lbfgs(x: SparseMatrix, setup: LabelSetup, featureScale: Float64Array | undefined, options: BinaryTrainingOptions): Generator<PassRequest, OptimiserResult, Float64Array> {
  const columns = x.columns;
  const dim = columns + 1; // the last coordinate is the intercept
  const { lambda } = setup;
  const w = new Float64Array(dim);
  w[columns] = setup.initialBias;
  const z = new Float64Array(x.rows).fill(setup.initialBias);
  const residual = new Float64Array(x.rows);

  /** Objective and gradient at w, given the scores z at w (the gradient costs one data pass). */
  function* evaluate(): Generator<PassRequest, { f: number; g: Float64Array }, Float64Array> {
    const { loss, biasGradient } = lossAt(setup, z, residual);
    const data = yield { kind: 'gradient', residual };
    const g = new Float64Array(dim);
    let penalty = 0;
    for (let j = 0; j < columns; j++) {
      penalty += w[j]! * w[j]!;
      g[j] = (featureScale ? data[j]! * featureScale[j]! : data[j]!) + lambda * w[j]!;
    }
    g[columns] = biasGradient;
    return { f: loss + (lambda / 2) * penalty, g };
  }

  let { f, g } = yield* evaluate();
  const stopAt = options.tolerance * Math.max(maxAbs(g), 1e-12);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const alpha = new Float64Array(HISTORY);
  const direction = new Float64Array(dim);
  const scaledDirection = new Float64Array(columns);
  const trialZ = new Float64Array(x.rows);
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
    for (let j = 0; j < columns; j++) scaledDirection[j] = featureScale ? direction[j]! * featureScale[j]! : direction[j]!;
    const zd = yield { kind: 'scores', direction: scaledDirection };
    const dBias = direction[dim - 1]!;
    // The penalty along the line: |w + t d|^2 = ww + 2t wd + t^2 dd (features only; the intercept is free).
    let ww = 0;
    let wd = 0;
    let dd = 0;
    for (let j = 0; j < columns; j++) {
      ww += w[j]! * w[j]!;
      wd += w[j]! * direction[j]!;
      dd += direction[j]! * direction[j]!;
    }
    let step = 1;
    let accepted = false;
    let trialF = Infinity;
    for (let tries = 0; tries < 30; tries++) {
      for (let i = 0; i < trialZ.length; i++) trialZ[i] = z[i]! + step * (zd[i]! + dBias);
      trialF = lossAt(setup, trialZ, null).loss + (lambda / 2) * (ww + 2 * step * wd + step * step * dd);
      if (trialF <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted && !(trialF < f)) break;
    // Reuse the oldest pair's buffers once the history is full.
    const recycled = sHistory.length === HISTORY;
    const s = recycled ? sHistory.shift()! : new Float64Array(dim);
    const y = recycled ? yHistory.shift()! : new Float64Array(dim);
    if (recycled) rhoHistory.shift();
    for (let j = 0; j < dim; j++) {
      s[j] = step * direction[j]!;
      w[j]! += s[j]!;
    }
    z.set(trialZ);
    const next = yield* evaluate();
    for (let j = 0; j < dim; j++) y[j] = next.g[j]! - g[j]!;
    const sy = dot(s, y);
    if (sy > 1e-12) {
      sHistory.push(s);
      yHistory.push(y);
      rhoHistory.push(1 / sy);
    }
    const improvement = (f - next.f) / Math.max(1, Math.abs(f));
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
