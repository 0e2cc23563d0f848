import { createClassifierInput, listClassifiersInput, updateClassifierInput } from '../../../observations/classify/classifiers/classifier.input.ts';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';

/** Configured classifiers (observations/classify/README.md, "Configured classifiers"). */
export const classifierOperations: Operation[] = [
  {
    method: 'get',
    path: '/classifiers',
    tag: 'Classifiers',
    summary: 'Configured classifiers, by kind, with whether each can run',
    description: 'A judge\'s status says whether its key variable is set on the server (never the key); an offline classifier\'s, when it was trained and on how many examples. Archived classifiers only with `archived=true` or `include`.',
    access: 'researcher',
    query: listClassifiersInput,
    success: { 200: '`{ data }`' },
  },
  {
    method: 'post',
    path: '/classifiers',
    tag: 'Classifiers',
    summary: 'Configure a classifier',
    description: 'Kinds `llm_judge` (judge settings naming the key\'s environment variable in `apiKeyEnv`, plus `concurrency`), `offline` (`folds`, `minExamples`, `trainingMethods`) and `rules` (`detectors`, `mapping` from finding kind to a behaviour code of the pinned version). Pinned to a published ethogram version. Field errors are keyed `settings.<field>`.',
    access: 'researcher',
    body: createClassifierInput,
    success: { 201: 'The classifier, with a Location header' },
  },
  { method: 'get', path: '/classifiers/:id', tag: 'Classifiers', summary: 'A classifier with its status and current training\'s figures', access: 'researcher', success: { 200: 'The classifier' }, errors: ['not_found'], example: `/classifiers/${X}` },
  {
    method: 'patch',
    path: '/classifiers/:id',
    tag: 'Classifiers',
    summary: 'Edit a classifier',
    description: 'Settings sent replace the old ones (defaults filled in again). Send `revision` to refuse the edit if someone changed it meanwhile (409). Archived classifiers are not edited (409).',
    access: 'researcher',
    body: updateClassifierInput,
    success: { 200: 'The classifier' },
    errors: ['not_found', 'conflict'],
    example: `/classifiers/${X}`,
  },
  { method: 'post', path: '/classifiers/:id/archive', tag: 'Classifiers', summary: 'Archive a classifier (its codings and figures stay)', access: 'researcher', success: { 200: 'The classifier' }, errors: ['not_found'], example: `/classifiers/${X}/archive` },
  {
    method: 'post',
    path: '/classifiers/:id/train',
    tag: 'Classifiers',
    summary: 'Train an offline classifier (a background job)',
    description: 'Queues a `train-offline` job: cross-validation with progress per fold, then the final model, stored as the classifier\'s current training. While one is queued or running, answers with that job (`alreadyQueued: true`).',
    access: 'researcher',
    success: { 202: '`{ job: { id, status, url, page }, alreadyQueued }`, with a Location header' },
    errors: ['not_found', 'conflict'],
    example: `/classifiers/${X}/train`,
  },
];
