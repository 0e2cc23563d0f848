import { withLoadedModel } from '../../experiments/loaded-models.ts';

/**
 * Holds a model folder as an experiment run would (runs in one process take turns on the loaded model), so a test
 * can see a run claimed and waiting before it has a result. Resolves once the model is loaded and held; `release`
 * lets the queued runs go and resolves when the hold has ended.
 */
export async function holdModel(dir: string): Promise<{ release(): Promise<void> }> {
  let letGo!: () => void;
  let holding!: () => void;
  const isHeld = new Promise<void>((resolve) => (holding = resolve));
  const held = withLoadedModel(dir, () =>
    new Promise<void>((resolve) => {
      letGo = resolve;
      holding();
    }),
  );
  await isHeld;
  return {
    async release() {
      letGo();
      await held;
    },
  };
}
