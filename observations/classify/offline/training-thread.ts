import { startModuleWorker } from '../../../core/module-worker.ts';
import type { CrossValidationOptions, CrossValidationResult } from './cross-validate.ts';
import type { TrainingExample } from './offline-classifier.ts';

export interface ThreadTrainingResult {
  /** The cross-validated figures (without the per-example fold list). */
  figures: Omit<CrossValidationResult, 'foldOf'>;
  /** The model's JSON document (offline-classifier.ts `modelToJson`). */
  model: unknown;
  /** Behaviours the model has a regression for. */
  labels: number;
  seconds: { crossValidation: number; training: number };
}

const entry = new URL('./training-thread-entry.ts', import.meta.url);

/**
 * Cross-validates and trains the offline classifier in a worker thread: a 10,000-example training is several
 * seconds of CPU per fold, which on the server's own thread would stall every request meanwhile. Progress comes
 * back per fold; the signal terminates the thread at once (the promise rejects with an Error named `AbortError`).
 */
export function trainInThread(
  examples: readonly TrainingExample[],
  options: Omit<CrossValidationOptions, 'onFold'> & { signal?: AbortSignal; onFold?: (done: number, total: number) => void },
): Promise<ThreadTrainingResult> {
  const { signal, onFold, ...cvOptions } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const worker = startModuleWorker(entry, { examples, options: cvOptions });
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      action();
      void worker.terminate();
    };
    const onAbort = () => finish(() => reject(abortError()));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: { type: string; done?: number; total?: number; message?: string } & Partial<ThreadTrainingResult>) => {
      if (settled) return; // stopped meanwhile: later messages say nothing anyone waits for
      if (message.type === 'fold') onFold?.(message.done!, message.total!);
      else if (message.type === 'done') finish(() => resolve({ figures: message.figures!, model: message.model, labels: message.labels!, seconds: message.seconds! }));
      else if (message.type === 'error') finish(() => reject(new Error(`Training failed: ${message.message}`)));
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`The training thread stopped before it finished (exit code ${code}).`))));
  });
}

function abortError(): Error {
  return Object.assign(new Error('Training was stopped.'), { name: 'AbortError' });
}
