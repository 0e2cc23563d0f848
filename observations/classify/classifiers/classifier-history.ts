import type { Actor } from '../../../accounts/actor.ts';
import { forbidden } from '../../../core/errors.ts';
import type { ClassifierRow } from './classifier.queries.ts';

/** The state kept as a revision before a classifier is edited or archived. */
export function classifierSnapshot(row: ClassifierRow): Record<string, unknown> {
  return {
    kind: row.kind,
    name: row.name,
    ethogramVersionId: row.ethogramVersionId,
    settings: row.settings,
    currentTrainingId: row.currentTrainingId,
    revision: row.revision,
    archivedAt: row.archivedAt?.toISOString() ?? null,
  };
}

/** Classifier changes are attributed to a person (the table requires one); routes authorize before this. */
export function actorUserId(actor: Actor): string {
  if (actor.kind !== 'user') throw forbidden('Sign in to configure classifiers.');
  return actor.id;
}
