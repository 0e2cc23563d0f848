import { Worker } from 'node:worker_threads';

const tsxApi = import.meta.resolve('tsx/esm/api');

// On a Node that cannot strip types itself (Node 20), a TypeScript entry needs tsx's loader, and the one
// registered on the main thread is not inherited by workers: the worker registers it first. A JavaScript entry (the
// test runner's bundles, scripts/bundle-tests.mjs), or any entry on Node 24, is imported as it is, saving the worker
// about half a second of loader start-up. Only dynamic imports: an eval'd worker runs as a script or as a module
// depending on the parent's flags.
const bootstrap = `
import('node:worker_threads').then(({ workerData }) =>
  (workerData.entry.endsWith('.ts') && !process.features.typescript
    ? import(workerData.tsx).then(({ register }) => register())
    : Promise.resolve()
  ).then(() => import(workerData.entry)));
`;

/**
 * Starts a worker thread running the module `entry` (a file URL, TypeScript or JavaScript). `workerData` reaches
 * the entry as its `workerData`, beside `entry` and `tsx`, which the start-up uses.
 */
export function startModuleWorker(entry: URL, workerData: Record<string, unknown>): Worker {
  return new Worker(bootstrap, { eval: true, workerData: { ...workerData, entry: entry.href, tsx: tsxApi } });
}
