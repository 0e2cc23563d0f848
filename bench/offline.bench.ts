import { crossValidate } from '../observations/classify/offline/cross-validate.ts';
import { featureOptionsFor, predict, train } from '../observations/classify/offline/offline-classifier.ts';
import { syntheticCorpus } from '../observations/classify/offline/synthetic-corpus.ts';
import { fitTfidf, vectorize } from '../observations/classify/offline/tfidf.ts';
import type { Figure } from './lib/stats.ts';

const TRAIN_TARGET_S = 10;
const PREDICT_TARGET_PER_S = 2000;

/**
 * The offline classifier's targets (issue 5): trains on 10,000 observations in under 10 s and predicts at least
 * 2,000 a second. The corpus is generated (offline/synthetic-corpus.ts: texts of about 2 KB, as long as a typical
 * assistant reply, 10 behaviours from 2% to 30% frequent, 2% label noise). Training time is the final model's
 * (vocabulary, TF-IDF, one-vs-rest regressions) and excludes cross-validation, which is timed and printed apart.
 * Baselines from the same run, on the same texts: TF-IDF featurising (the part of training every text costs
 * before any learning), and vectorising each text under the trained vocabulary (the part of prediction before
 * scoring). Their ratios stay meaningful on a loaded machine, where absolute seconds do not.
 */
export async function offlineBench(quick: boolean): Promise<Figure[]> {
  const size = quick ? 2000 : 10_000;
  const behaviours = Array.from({ length: 10 }, (_, i) => ({ code: `B${String(i + 1).padStart(2, '0')}`, rate: [0.3, 0.15, 0.08, 0.04, 0.02][i % 5]! }));
  const examples = syntheticCorpus({ size, words: 360, behaviours, seed: 11, noise: 0.02 });
  const texts = examples.map((e) => e.text);
  const kb = texts.reduce((s, t) => s + Buffer.byteLength(t), 0) / size / 1024;
  console.log(`  corpus: ${size} generated observations, ${kb.toFixed(2)} KB each, ${behaviours.length} behaviours`);

  const featurise = timed(() => fitTfidf(texts, featureOptionsFor(size)));
  console.log(`  baseline: TF-IDF featurising ${size} texts: ${featurise.wall.toFixed(2)} s wall, ${featurise.cpu.toFixed(2)} s CPU`);
  const training = timed(() => train(examples));
  const model = training.result;
  console.log(`  train (final model, no cross-validation): ${training.wall.toFixed(2)} s wall, ${training.cpu.toFixed(2)} s CPU; ${model.vocabulary.terms.length} features, ${model.labels.length} behaviours`);

  const vectorising = timed(() => texts.forEach((t) => vectorize(t, model.vocabulary, model.features)));
  const predicting = timed(() => texts.forEach((t) => predict(model, t)));
  const vectorRate = size / vectorising.wall;
  const predictRate = size / predicting.wall;
  console.log(`  predict: ${Math.round(predictRate)} texts/s; baseline vectorising only: ${Math.round(vectorRate)} texts/s`);

  const folds = 5;
  const cv = timed(() => crossValidate(examples, { folds, seed: 1 }));
  const f1s = cv.result.behaviours.map((b) => b.f1 ?? 0);
  console.log(`  cross-validation (${folds} folds, not part of the training figure): ${cv.wall.toFixed(1)} s wall, ${cv.cpu.toFixed(1)} s CPU; F1 ${Math.min(...f1s).toFixed(3)} to ${Math.max(...f1s).toFixed(3)}`);

  return [
    {
      name: `offline classifier: train on ${size} observations (no CV)`,
      value: training.wall,
      unit: 's',
      baselineName: 'TF-IDF featurising them',
      baseline: featurise.wall,
      target: `< ${TRAIN_TARGET_S} s`,
      pass: training.wall < TRAIN_TARGET_S,
    },
    {
      name: 'offline classifier: predict',
      value: predictRate,
      unit: 'texts/s',
      baselineName: 'vectorising only',
      baseline: vectorRate,
      target: `>= ${PREDICT_TARGET_PER_S}/s`,
      pass: predictRate >= PREDICT_TARGET_PER_S,
    },
  ];
}

function timed<T>(run: () => T): { result: T; wall: number; cpu: number } {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const result = run();
  const cpu = process.cpuUsage(cpuBefore);
  return { result, wall: (performance.now() - start) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}
