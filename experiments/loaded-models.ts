import { loadModel, type Model } from './index.ts';

/**
 * The model a worker process keeps loaded between experiment runs. Loading reads and hashes every weight, so
 * consecutive runs on one model reuse it; another model replaces it (models are large: one at a time), and an
 * idle one is closed after IDLE_MS. Runs take turns: the engine's arena is one per model, so two runs on one
 * model at once would only queue inside it anyway, and this keeps memory at one model plus one run.
 */
const IDLE_MS = 5 * 60_000;

let current: { path: string; model: Model } | null = null;
let idleTimer: NodeJS.Timeout | undefined;
let turn: Promise<unknown> = Promise.resolve();

async function release(): Promise<void> {
  const held = current;
  current = null;
  if (held) await held.model.close();
}

/** Runs `work` with the model in `path` loaded (loading it, or reusing the loaded one), one call at a time. */
export function withLoadedModel<T>(path: string, work: (model: Model) => Promise<T>, options: { threads?: number } = {}): Promise<T> {
  const mine = turn.then(async () => {
    clearTimeout(idleTimer);
    try {
      if (current?.path !== path) {
        await release();
        current = { path, model: await loadModel(path, options.threads === undefined ? {} : { threads: options.threads }) };
      }
      return await work(current.model);
    } finally {
      idleTimer = setTimeout(() => void release(), IDLE_MS);
      idleTimer.unref();
    }
  });
  turn = mine.catch(() => undefined);
  return mine;
}

/** Closes the loaded model (worker shutdown, tests). */
export async function closeLoadedModels(): Promise<void> {
  clearTimeout(idleTimer);
  await turn;
  await release();
}
