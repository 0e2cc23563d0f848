import type { Actor } from '../accounts/actor.ts';
import { can } from '../core/policy.ts';
import type { ExperimentRow, RunView, linkedObservations } from './experiment.queries.ts';
import type { ModelRow } from './models/model.queries.ts';
import { presentModel } from './models/model.presenter.ts';

type Linked = Awaited<ReturnType<typeof linkedObservations>>;

/** The linked observations this reader may see (others are counted, not named). */
export function visibleLinks(actor: Actor, linked: Linked) {
  const visible = linked.filter((o) => can(actor, 'observation.read', o));
  return { observations: visible.map((o) => ({ id: o.id, title: o.title, url: `/observations/${o.id}` })), hiddenObservations: linked.length - visible.length };
}

/** A run as the API shows it (with its result document when it was loaded). */
export function presentRun(experimentId: string, r: RunView) {
  return {
    number: r.number,
    id: r.id,
    status: r.status,
    progress: r.progress,
    error: r.error,
    attempts: r.attempts,
    params: r.params,
    seed: r.seed,
    model: { path: r.modelPath, expectedSha256: r.expectedSha256, weightsSha256: r.weightsSha256 },
    engineVersion: r.engineVersion,
    schemaVersion: r.schemaVersion,
    createdBy: r.createdBy,
    creatorName: r.creatorName,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
    job: { id: r.jobId, url: `/api/v1/jobs/${r.jobId}` },
    url: `/api/v1/experiments/${experimentId}/runs/${r.number}`,
    resultUrl: r.status === 'completed' ? `/api/v1/experiments/${experimentId}/runs/${r.number}/result.json` : null,
    ...(r.result ? { result: r.result } : {}),
  };
}

/** An experiment with its model, the observations it follows up, and its runs (newest first). */
export function presentExperiment(actor: Actor, e: ExperimentRow, model: ModelRow, linked: Linked, runs: RunView[]) {
  return {
    id: e.id,
    title: e.title,
    hypothesis: e.hypothesis,
    technique: e.technique,
    params: e.params,
    model: presentModel(model),
    ...visibleLinks(actor, linked),
    createdBy: e.createdBy,
    createdAt: e.createdAt.toISOString(),
    runs: runs.map((r) => presentRun(e.id, r)),
    url: `/api/v1/experiments/${e.id}`,
    page: `/experiments/${e.id}`,
  };
}
