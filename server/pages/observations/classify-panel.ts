import type { Actor } from '../../../accounts/actor.ts';
import { can, type ObservationRef } from '../../../core/policy.ts';
import { listClassifiers } from '../../../observations/classify/classifiers/classifier.queries.ts';
import type { AppDeps } from '../../app-deps.ts';

/**
 * The "Classify" panel of an observation's page: the classifiers a researcher may run on it (not archived), or
 * null when the actor may not classify it. The form posts to `POST /observations/:id/classify` (jobs.pages.ts).
 */
export async function classifyPanel(deps: AppDeps, actor: Actor, ref: ObservationRef): Promise<{ classifiers: { id: string; label: string }[] } | null> {
  if (ref.deletedAt || !can(actor, 'classification.run', ref)) return null;
  const kinds = { llm_judge: 'LLM judge', offline: 'offline', rules: 'rules' } as const;
  const rows = await listClassifiers(deps.db);
  return { classifiers: rows.map(({ classifier, version }) => ({ id: classifier.id, label: `${classifier.name} (${kinds[classifier.kind]}, ${version.name} v${version.number})` })) };
}
