import type { ObservationRef } from '../../../core/policy.ts';
import type { ObservationView } from '../../../observations/observation.presenter.ts';

/** The facts the policy needs, read off an observation the page has already loaded. */
export function refOf(o: Pick<ObservationView, 'submittedBy' | 'visibility' | 'deletedAt'>): ObservationRef {
  return { submittedBy: o.submittedBy.id, visibility: o.visibility, deletedAt: o.deletedAt ? new Date(o.deletedAt) : null };
}
