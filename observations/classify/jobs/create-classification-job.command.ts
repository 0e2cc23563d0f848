import { and, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Ctx } from '../../../core/context.ts';
import { AppError, conflict, invalid } from '../../../core/errors.ts';
import { enqueueJob } from '../../../core/jobs/enqueue-job.command.ts';
import type { JobHandlerRegistry } from '../../../core/jobs/job-registry.ts';
import type { JobRow } from '../../../core/jobs/job.queries.ts';
import { parseOrThrow } from '../../../core/validation.ts';
import { listFiltersSchema } from '../../observation.input.ts';
import { listObservations } from '../../observation.queries.ts';
import { hasNextPage } from '../../observation.presenter.ts';
import { observations } from '../../observation.schema.ts';
import { classificationItems, classifiers } from '../classify.schema.ts';
import { eq } from 'drizzle-orm';
import { MAX_JOB_OBSERVATIONS, type ClassifyJobPayload } from './classify-job.payload.ts';

/** What a person asks for: a classifier, and either observation ids or the observation list's filters. */
export const classificationJobInputSchema = z
  .object({
    classifierId: z.string({ error: 'choose a classifier' }).uuid('choose a classifier'),
    observationIds: z
      .array(z.string().uuid('each observation id must be an id'))
      .min(1, 'choose at least one observation')
      .max(MAX_JOB_OBSERVATIONS, `at most ${MAX_JOB_OBSERVATIONS} observations per job`)
      .optional(),
    /** The observation list's filters (query-string values), resolved to the observations they match now. */
    filters: z.record(z.string(), z.string().max(500)).optional(),
    autoAccept: z.object({ minConfidence: z.number().min(0, 'minConfidence is between 0 and 1').max(1, 'minConfidence is between 0 and 1') }).strict().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.observationIds === !v.filters) ctx.addIssue({ code: 'custom', path: ['observationIds'], message: 'give either observationIds or filters (the observation list filters), not both or neither' });
  });
export type ClassificationJobInput = z.infer<typeof classificationJobInputSchema>;

/** Filters that choose observations (paging and sorting are not part of a job's scope). */
const SCOPE_FILTERS = ['q', 'provider', 'model', 'behaviour', 'category', 'tag', 'status', 'from', 'to'] as const;

/** The classifier a job will run, checked usable (exists, not archived); the input names it, so a wrong id is the input's problem. */
export async function usableClassifier(ctx: Ctx, classifierId: string) {
  const [classifier] = await ctx.db.select().from(classifiers).where(eq(classifiers.id, classifierId));
  if (!classifier) throw invalid('There is no such classifier.', { classifierId: 'there is no classifier with this id' });
  if (classifier.archivedAt) throw conflict(`The classifier "${classifier.name}" is archived: restore it or choose another.`);
  return classifier;
}

/** The observations an input names (ids checked to exist and not be deleted), in the order given, without repeats. */
export async function resolveScope(ctx: Ctx, input: ClassificationJobInput): Promise<{ ids: string[]; scope: ClassifyJobPayload['scope'] }> {
  if (input.observationIds) {
    const ids = [...new Set(input.observationIds)];
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const rows = await ctx.db.select({ id: observations.id }).from(observations).where(and(inArray(observations.id, chunk), isNull(observations.deletedAt)));
      for (const r of rows) found.add(r.id);
    }
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) {
      throw invalid(`${missing.length} of the observations do not exist (or were deleted): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? '…' : ''}.`, { observationIds: `unknown observations: ${missing.slice(0, 5).join(', ')}` });
    }
    return { ids, scope: { kind: 'ids', count: ids.length } };
  }
  const given = Object.fromEntries(Object.entries(input.filters ?? {}).filter(([k, v]) => (SCOPE_FILTERS as readonly string[]).includes(k) && v !== ''));
  const filters = parseOrThrow(listFiltersSchema, { ...given, pageSize: '100' }, 'The filters');
  const ids: string[] = [];
  for (let page = 1; ; page++) {
    const result = await listObservations(ctx, { ...filters, page });
    if (page === 1 && result.total > MAX_JOB_OBSERVATIONS) {
      throw invalid(`These filters match more than ${MAX_JOB_OBSERVATIONS} observations: narrow them (one job classifies at most ${MAX_JOB_OBSERVATIONS}).`, { filters: 'too many observations' });
    }
    ids.push(...result.data.map((o) => o.id));
    // hasNextPage: a capped count (searches say "300+") has more pages than it counted.
    if (!hasNextPage(result) || result.data.length === 0 || ids.length >= MAX_JOB_OBSERVATIONS) break;
  }
  const unique = [...new Set(ids)];
  if (unique.length === 0) throw invalid('These filters match no observations: there is nothing to classify.', { filters: 'no observations match' });
  return { ids: unique, scope: { kind: 'filter', count: unique.length, filters: given } };
}

/**
 * Starts a classification job: the job row (kind `classify`) and one `classification_items` row per observation,
 * in one transaction (bad input stores nothing). The caller has authorized the actor (classification.run for one
 * observation, classification.runMany otherwise) and wakes the worker after commit.
 */
export async function createClassificationJob(ctx: Ctx, raw: unknown, options: { handlers: JobHandlerRegistry }): Promise<JobRow> {
  const input = parseOrThrow(classificationJobInputSchema, raw, 'The classification job');
  if (ctx.actor.kind !== 'user') throw new AppError('unauthenticated', 'Sign in to classify.');
  const classifier = await usableClassifier(ctx, input.classifierId);
  const { ids, scope } = await resolveScope(ctx, input);
  const payload: ClassifyJobPayload = {
    classifierId: classifier.id,
    scope,
    classifierName: classifier.name,
    classifierKind: classifier.kind,
    ...(input.autoAccept ? { autoAccept: input.autoAccept } : {}),
  };
  return enqueueJob(ctx, { kind: 'classify', payload }, {
    handlers: options.handlers,
    total: ids.length,
    withJob: async (tx, job) => {
      for (let i = 0; i < ids.length; i += 1000) {
        await tx.insert(classificationItems).values(ids.slice(i, i + 1000).map((observationId, j) => ({ jobId: job.id, observationId, position: i + j })));
      }
    },
  });
}
