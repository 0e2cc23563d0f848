import { parentPort, workerData } from 'node:worker_threads';
import { crossValidate, type CrossValidationOptions } from './cross-validate.ts';
import { modelToJson, train, type TrainingExample } from './offline-classifier.ts';

/**
 * The worker thread of `trainInThread` (training-thread.ts): cross-validates (reporting each fold), trains the
 * final model on every example, and posts back the figures and the model's JSON document. Runs off the server's
 * event loop, so a long training never stalls web requests.
 */
const { examples, options } = workerData as { examples: TrainingExample[]; options: Omit<CrossValidationOptions, 'onFold'> };
const port = parentPort!;
try {
  const cvStarted = performance.now();
  const cv = crossValidate(examples, { ...options, onFold: (done, total) => port.postMessage({ type: 'fold', done, total }) });
  const cvSeconds = (performance.now() - cvStarted) / 1000;
  const trainStarted = performance.now();
  const model = train(examples, options);
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  const { foldOf: _perExample, ...figures } = cv;
  port.postMessage({ type: 'done', figures, model: modelToJson(model), labels: model.labels.length, seconds: { crossValidation: cvSeconds, training: trainSeconds } });
} catch (error) {
  port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}
