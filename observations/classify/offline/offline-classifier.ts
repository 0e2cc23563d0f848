import * as z from 'zod';
import { score, sigmoid, trainOneVsRest, type BinaryProblem } from './logistic-regression.ts';
import { DEFAULT_FEATURE_OPTIONS, type FeatureOptions } from './text-features.ts';
import { fitTfidf, termLookup, vectorize, type SparseMatrix, type Vocabulary } from './tfidf.ts';

/**
 * The offline classifier: TF-IDF text features and one logistic regression per behaviour (one-vs-rest), trained
 * on accepted human codings, with no API key and no network. Training is deterministic: the same examples and
 * options give the same model, bit for bit (full-batch L-BFGS from a fixed start; no sampling, so no seed is
 * needed). A model serialises to a JSON document and back exactly (weights as little-endian float32 in base64).
 *
 * NB-weighting (on by default): before a behaviour's regression, each feature is scaled by the absolute
 * log-count ratio of the documents with and without the behaviour that contain it (Wang and Manning 2012,
 * "Baselines and Bigrams", NBSVM). Features spread evenly over both classes (most words) are damped, features
 * concentrated in one class are amplified. In long texts where a behaviour shows in a few words, plain TF-IDF
 * regression fits each training text by its own rare words and misses held-out ones; on the generated 2 KB
 * corpus this raised recall of a 2%-frequent behaviour from 0 to about 0.8 (README.md).
 */

export interface TrainingExample {
  text: string;
  /** The behaviour codes people accepted for this text (empty: none of them). */
  labels: readonly string[];
}

export interface TrainOptions {
  features?: Partial<FeatureOptions>;
  /** Inverse L2 regularisation strength, as scikit-learn's C (default 10). */
  c?: number;
  /** Balance each behaviour's positives and negatives (default 'balanced'). */
  classWeight?: 'balanced' | 'none';
  /** L-BFGS iterations per behaviour (default 100). */
  maxIterations?: number;
  /** Stop when the gradient's largest component is this share of its starting value (default 1e-3). */
  tolerance?: number;
  /** Scale features by their NB log-count ratio per behaviour (default 'nb-log-ratio'), or not ('none'). */
  featureWeighting?: 'nb-log-ratio' | 'none';
}

export interface LabelModel {
  label: string;
  positives: number;
  negatives: number;
  /** One weight per vocabulary term (float32, as stored). */
  weights: Float32Array;
  bias: number;
}

/**
 * A LabelModel as a class, not an object literal: the intercept must not be a number field V8 updates in place, which
 * Node 24 was seen to share between the objects one literal made (see FittedModel in logistic-regression.ts).
 */
class FittedLabel implements LabelModel {
  label: string;
  positives: number;
  negatives: number;
  weights: Float32Array;
  bias: number;
  constructor(fields: LabelModel) {
    this.label = fields.label;
    this.positives = fields.positives;
    this.negatives = fields.negatives;
    this.weights = fields.weights;
    this.bias = fields.bias;
  }
}

export interface OfflineModel {
  format: typeof MODEL_FORMAT;
  version: 1;
  features: FeatureOptions;
  training: Required<Omit<TrainOptions, 'features'>> & { examples: number };
  vocabulary: Vocabulary;
  /** One model per behaviour seen in at least one training example; sorted by label. */
  labels: LabelModel[];
}

export interface Prediction {
  label: string;
  probability: number;
}

export const MODEL_FORMAT = 'menagerie.offline-classifier';
const DEFAULTS = { c: 10, classWeight: 'balanced', maxIterations: 100, tolerance: 1e-3, featureWeighting: 'nb-log-ratio' } as const;

/** The feature options a training set of `n` examples gets when the caller leaves them out. */
export function featureOptionsFor(n: number, overrides: Partial<FeatureOptions> = {}): FeatureOptions {
  return { ...DEFAULT_FEATURE_OPTIONS, minDf: n < 50 ? 1 : 2, ...overrides };
}

/** Trains one-vs-rest models for every label that occurs in the examples. */
export function train(examples: readonly TrainingExample[], options: TrainOptions = {}): OfflineModel {
  if (examples.length === 0) throw new Error('The offline classifier needs at least one training example.');
  const features = featureOptionsFor(examples.length, options.features);
  const training = {
    c: options.c ?? DEFAULTS.c,
    classWeight: options.classWeight ?? DEFAULTS.classWeight,
    maxIterations: options.maxIterations ?? DEFAULTS.maxIterations,
    tolerance: options.tolerance ?? DEFAULTS.tolerance,
    featureWeighting: options.featureWeighting ?? DEFAULTS.featureWeighting,
  };
  const { vocabulary, matrix } = fitTfidf(examples.map((e) => e.text), features);
  const labelSet = [...new Set(examples.flatMap((e) => e.labels))].sort();
  const documentFrequency = columnCounts(matrix, null);
  const problems: Array<BinaryProblem & { label: string; positives: number }> = [];
  const constant: LabelModel[] = [];
  for (const label of labelSet) {
    const positive = Uint8Array.from(examples, (e) => (e.labels.includes(label) ? 1 : 0));
    const positives = positive.reduce((s, v) => s + v, 0);
    if (positives === examples.length) {
      // Every example has it: nothing to discriminate; predict the (add-one smoothed) base rate.
      constant.push(new FittedLabel({ label, positives, negatives: 0, weights: new Float32Array(vocabulary.terms.length), bias: Math.log(positives + 1) }));
      continue;
    }
    const featureScale = training.featureWeighting === 'nb-log-ratio' ? nbLogCountRatios(matrix, positive, documentFrequency) : undefined;
    problems.push({ label, positive, positives, featureScale });
  }
  const fitted = trainOneVsRest(matrix, problems, training);
  const labels = [
    ...constant,
    ...problems.map((p, k) => new FittedLabel({ label: p.label, positives: p.positives, negatives: examples.length - p.positives, weights: Float32Array.from(fitted[k]!.weights), bias: fitted[k]!.bias })),
  ].sort((a, b) => (a.label < b.label ? -1 : 1));
  return { format: MODEL_FORMAT, version: 1, features, training: { ...training, examples: examples.length }, vocabulary, labels };
}

/** How many rows hold each feature (all rows, or those where `rows` is 1). */
function columnCounts(matrix: SparseMatrix, rows: Uint8Array | null): Float64Array {
  const counts = new Float64Array(matrix.columns);
  for (let i = 0; i < matrix.rows; i++) {
    if (rows && !rows[i]) continue;
    for (let k = matrix.rowStart[i]!; k < matrix.rowStart[i + 1]!; k++) counts[matrix.indices[k]!]!++;
  }
  return counts;
}

/**
 * |ln((p_j / |p|) / (q_j / |q|))| with p_j and q_j the add-one smoothed numbers of documents with and without the
 * behaviour that contain feature j, and |p|, |q| their sums over features.
 */
function nbLogCountRatios(matrix: SparseMatrix, positive: Uint8Array, documentFrequency: Float64Array): Float64Array {
  const inPositives = columnCounts(matrix, positive);
  let sumP = 0;
  let sumQ = 0;
  for (let j = 0; j < matrix.columns; j++) {
    sumP += inPositives[j]! + 1;
    sumQ += documentFrequency[j]! - inPositives[j]! + 1;
  }
  return Float64Array.from(inPositives, (p, j) => Math.abs(Math.log((p + 1) / sumP) - Math.log((documentFrequency[j]! - p + 1) / sumQ)));
}

/** Every behaviour's probability for a text, most probable first (ties by label). */
export function predict(model: OfflineModel, text: string): Prediction[] {
  const v = vectorize(text, model.vocabulary, model.features);
  return model.labels
    .map((l) => ({ label: l.label, probability: sigmoid(score(l.weights, l.bias, v)) }))
    .sort((a, b) => b.probability - a.probability || (a.label < b.label ? -1 : 1));
}

const base64Float32 = (a: Float32Array) => {
  const bytes = new Uint8Array(a.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i]!, true);
  return Buffer.from(bytes).toString('base64');
};

const float32FromBase64 = (s: string, expected: number, what: string) => {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length !== expected * 4) throw new Error(`The model's ${what} are ${bytes.length} bytes long where ${expected * 4} (${expected} float32 values) were expected.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: expected }, (_, i) => view.getFloat32(i * 4, true));
};

export const modelJsonSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  version: z.literal(1),
  features: z.object({
    bigrams: z.boolean(),
    charNgrams: z.tuple([z.number().int().min(1), z.number().int().min(1)]).nullable(),
    maxFeatures: z.number().int().min(1),
    minDf: z.number().int().min(1),
    maxDfRatio: z.number().gt(0).max(1),
  }),
  training: z.object({
    c: z.number().positive(),
    classWeight: z.enum(['balanced', 'none']),
    maxIterations: z.number().int().min(1),
    tolerance: z.number().positive(),
    featureWeighting: z.enum(['nb-log-ratio', 'none']),
    examples: z.number().int().min(1),
  }),
  vocabulary: z.array(z.string()),
  /** Inverse document frequencies, float32 little-endian, base64. */
  idf: z.string(),
  labels: z.array(
    z.object({
      label: z.string().min(1),
      positives: z.number().int().min(0),
      negatives: z.number().int().min(0),
      bias: z.number(),
      /** Weights, float32 little-endian, base64. */
      weights: z.string(),
    }),
  ),
});
export type OfflineModelJson = z.infer<typeof modelJsonSchema>;

/** The model as a plain JSON document (store it with `JSON.stringify`). */
export function modelToJson(model: OfflineModel): OfflineModelJson {
  return {
    format: model.format,
    version: model.version,
    // Keys in the schema's order, so a model read back writes the same document.
    features: {
      bigrams: model.features.bigrams,
      charNgrams: model.features.charNgrams,
      maxFeatures: model.features.maxFeatures,
      minDf: model.features.minDf,
      maxDfRatio: model.features.maxDfRatio,
    },
    training: {
      c: model.training.c,
      classWeight: model.training.classWeight,
      maxIterations: model.training.maxIterations,
      tolerance: model.training.tolerance,
      featureWeighting: model.training.featureWeighting,
      examples: model.training.examples,
    },
    vocabulary: model.vocabulary.terms,
    idf: base64Float32(model.vocabulary.idf),
    labels: model.labels.map((l) => ({ label: l.label, positives: l.positives, negatives: l.negatives, bias: l.bias, weights: base64Float32(l.weights) })),
  };
}

/** Reads a model document back; throws an Error naming the problem when it is not a model this code wrote. */
export function modelFromJson(json: unknown): OfflineModel {
  const parsed = modelJsonSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Not an offline classifier model: ${issue ? `${issue.path.join('.') || 'document'}: ${issue.message}` : 'invalid document'}.`);
  }
  const doc = parsed.data;
  const terms = doc.vocabulary;
  return {
    format: doc.format,
    version: doc.version,
    features: doc.features as FeatureOptions,
    training: doc.training,
    vocabulary: { terms, idf: float32FromBase64(doc.idf, terms.length, 'idf values'), lookup: termLookup(terms) },
    labels: doc.labels.map((l) => new FittedLabel({ ...l, weights: float32FromBase64(l.weights, terms.length, `weights for ${l.label}`) })),
  };
}
