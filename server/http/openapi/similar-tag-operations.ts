import { z } from 'zod';
import { bulkTagSchema } from '../../../observations/bulk-tag.command.ts';
import { draftSimilarSchema } from '../../../observations/similar/draft-fingerprint.ts';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';

/** Near-duplicates, tag autocomplete and bulk tagging (issue 5), with the schemas the routes validate with. */
export const similarAndTagOperations: Operation[] = [
  {
    method: 'post',
    path: '/observations/similar',
    tag: 'Observations',
    summary: 'Observations that look like a draft transcript',
    description:
      'Asked before saving ("this looks like ..."). The draft is read like a submission; observations the caller may see whose transcripts share most word 3-shingles with it (MinHash estimate of the Jaccard similarity, at least 0.5) come back most similar first, at most 5: `{ similar: [{ id, title, model, status, duplicateOf, observedAt, similarity }] }`. A transcript that cannot be read yet is 422.',
    access: 'signed-in',
    body: draftSimilarSchema,
    success: { 200: '`{ similar }`' },
  },
  {
    method: 'get',
    path: '/observations/:id/similar',
    tag: 'Observations',
    summary: 'Observations that look like this one',
    description: '`fingerprinted` is false until the background indexer has fingerprinted the observation (normally within a second of saving), or when its transcript has no words.',
    access: 'anyone',
    success: { 200: '`{ fingerprinted, similar }`' },
    errors: ['not_found'],
    example: `/observations/${X}/similar`,
  },
  {
    method: 'get',
    path: '/tags/suggest',
    tag: 'Tags',
    summary: 'Tags in use starting with a prefix (autocomplete)',
    access: 'anyone',
    query: z.object({ prefix: z.string().max(50).optional(), limit: z.number().int().min(1).max(50).optional() }),
    success: { 200: '`{ data: [{ tag, count }] }`, most used first' },
  },
  {
    method: 'post',
    path: '/observations/bulk-tags',
    tag: 'Tags',
    summary: 'Add and remove tags on many observations at once',
    description:
      'All or nothing: every observation is authorized first (contributors tag their own, researchers any: 403 naming the first refused, 404 for unknown ids), then all change in one transaction, each keeping a revision and an `observation.tagged` event. Answers which observations changed and which already had the tags.',
    access: 'signed-in',
    body: bulkTagSchema,
    success: { 200: '`{ changed: [id], unchanged: [id] }`' },
    errors: ['not_found'],
  },
];
