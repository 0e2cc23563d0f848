/**
 * Times the offline classifier (a script, not a test):
 *   node --import tsx observations/classify/offline/measure-training.ts [examples] [words] [behaviours] [--no-cv]
 * Defaults: 2,000 generated texts of about 2 KB (360 words) and 10 behaviours (2% to 30% frequent, 2% label
 * noise). Prints wall and CPU time of training, the model's size, the prediction rate, and a 5-fold
 * cross-validation with its per-behaviour figures.
 */
import { crossValidate } from './cross-validate.ts';
import { modelToJson, predict, train } from './offline-classifier.ts';
import { syntheticCorpus } from './synthetic-corpus.ts';

const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')));
const [size = 2000, words = 360, behaviourCount = 10] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--'))
  .map(Number);
const behaviours = Array.from({ length: behaviourCount }, (_, i) => ({ code: `B${String(i + 1).padStart(2, '0')}`, rate: [0.3, 0.15, 0.08, 0.04, 0.02][i % 5]! }));
const examples = syntheticCorpus({ size, words, behaviours, seed: 11, noise: 0.02 });
const bytes = examples.reduce((s, e) => s + Buffer.byteLength(e.text), 0);
console.log(`corpus: ${size} texts, ${(bytes / size / 1024).toFixed(2)} KB each on average, ${behaviourCount} behaviours (2% label noise)`);

function timed<T>(run: () => T): { result: T; wall: number; cpu: number } {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const result = run();
  const cpu = process.cpuUsage(cpuBefore);
  return { result, wall: (performance.now() - start) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

const training = timed(() => train(examples));
const model = training.result;
console.log(`train: ${training.wall.toFixed(2)} s wall, ${training.cpu.toFixed(2)} s CPU (${model.vocabulary.terms.length} features, ${model.labels.length} behaviours)`);
console.log(`model JSON: ${(JSON.stringify(modelToJson(model)).length / 1024 / 1024).toFixed(1)} MB`);
const prediction = timed(() => examples.forEach((e) => predict(model, e.text)));
console.log(`predict: ${Math.round(examples.length / prediction.wall)} texts per second`);

if (!flags.has('--no-cv')) {
  const cv = timed(() => crossValidate(examples, { folds: 5, seed: 1 }));
  console.log(`cross-validation (${cv.result.strategy}, ${cv.result.folds} folds): ${cv.wall.toFixed(2)} s wall`);
  const f = (v: number | null) => (v === null ? '  -  ' : v.toFixed(3));
  for (const b of cv.result.behaviours) {
    console.log(`  ${b.label}  support ${String(b.support).padStart(5)}  P ${f(b.precision)}  R ${f(b.recall)}  F1 ${f(b.f1)}${b.reason ? `  (${b.reason})` : ''}`);
  }
}
