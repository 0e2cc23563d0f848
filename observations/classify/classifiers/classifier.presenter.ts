import { DETECTORS } from '../rules/index.ts';
import type { ClassifierWithContext, TrainingSummary } from './classifier.queries.ts';
import { judgeSettingsOf, rulesSettingsOf } from './classifier-settings.ts';

/** Whether a classifier can run now, in a sentence a researcher can act on. */
export interface ClassifierStatus {
  ready: boolean;
  message: string;
  /** For a judge: the environment variable holding its key (null: none needed) and whether it is set. Never the key. */
  keyVariable?: string | null;
  keySet?: boolean;
}

/**
 * A classifier as the API and pages show it: its settings (which name a key's variable, never hold a key),
 * the pinned version, whether it is ready (a judge's key variable set on the server or not; an offline
 * classifier trained or not) and its current training's summary and figures.
 */
export function presentClassifier(item: ClassifierWithContext, judgeEnv: Readonly<Record<string, string | undefined>> = {}) {
  const { classifier: c, version, training } = item;
  return {
    id: c.id,
    kind: c.kind,
    name: c.name,
    ethogramVersion: { id: version.id, slug: version.slug, name: version.name, number: version.number, status: version.status },
    settings: c.settings,
    status: classifierStatus(item, judgeEnv),
    currentTraining: training ? presentTraining(training) : null,
    revision: c.revision,
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    archivedAt: c.archivedAt?.toISOString() ?? null,
  };
}
export type PresentedClassifier = ReturnType<typeof presentClassifier>;

/** A training's summary and cross-validated figures (the model itself stays in the database). */
export function presentTraining(t: TrainingSummary) {
  return {
    id: t.id,
    jobId: t.jobId,
    exampleCount: t.exampleCount,
    behaviourCount: t.behaviourCount,
    metrics: t.metrics,
    trainedBy: t.trainedBy,
    createdAt: t.createdAt.toISOString(),
  };
}

function classifierStatus(item: ClassifierWithContext, env: Readonly<Record<string, string | undefined>>): ClassifierStatus {
  const { classifier: c, training } = item;
  if (c.archivedAt) return { ready: false, message: 'Archived: kept for its codings and figures, not run.' };
  if (c.kind === 'llm_judge') {
    let keyVariable: string | null;
    try {
      keyVariable = judgeSettingsOf(c.settings).judge.apiKeyEnv;
    } catch {
      return { ready: false, message: 'The stored judge settings are no longer valid: edit and save them.' };
    }
    if (keyVariable === null) return { ready: true, message: 'No key needed (a local server).', keyVariable, keySet: false };
    const keySet = Boolean(env[keyVariable]?.trim());
    return { ready: keySet, message: keySet ? `${keyVariable} is set on the server.` : `${keyVariable} is not set on the server.`, keyVariable, keySet };
  }
  if (c.kind === 'offline') {
    if (!training) return { ready: false, message: 'Not trained yet.' };
    return { ready: true, message: `Trained ${training.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${training.exampleCount} examples.` };
  }
  const rules = rulesSettingsOf(c.settings);
  return { ready: true, message: `${rules.detectors.length} of ${DETECTORS.length} detectors run.` };
}
