import { createExperimentSchema, linkObservationSchema, runExperimentSchema } from '../../../experiments/experiment.input.ts';
import { experimentListSchema } from '../../../experiments/experiment.queries.ts';
import { registerModelSchema } from '../../../experiments/models/register-model.command.ts';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';

/** Registered models and experiments (experiments/README.md, "In the product"). */
export const experimentOperations: Operation[] = [
  { method: 'get', path: '/models', tag: 'Experiments', summary: 'Registered model folders', description: 'Each with its architecture, size, weights sha256 and status (`ready`, `missing`, `changed`, `invalid`).', access: 'signed-in', success: { 200: '`{ items }`' } },
  { method: 'get', path: '/models/:id', tag: 'Experiments', summary: 'A registered model', access: 'signed-in', success: { 200: 'The model' }, errors: ['not_found'], example: `/models/${X}` },
  {
    method: 'post',
    path: '/models',
    tag: 'Experiments',
    summary: 'Register a model folder',
    description: 'The server checks the folder (config.json, safetensors weights matching it, a tokenizer that fits the vocabulary) and hashes the weights; a folder that fails is refused with the reason (422 on `path`).',
    access: 'admin',
    body: registerModelSchema,
    success: { 201: 'The model, with a Location header' },
    errors: ['conflict'],
  },
  { method: 'post', path: '/models/:id/check', tag: 'Experiments', summary: 'Check a model folder again', description: 'Finds it ready, missing, changed (sha256) or invalid, and records it.', access: 'admin', success: { 200: '`{ status, reason, model }`' }, errors: ['not_found'], example: `/models/${X}/check` },
  { method: 'get', path: '/techniques', tag: 'Experiments', summary: 'Techniques with their parameter and result JSON Schemas', access: 'signed-in', success: { 200: '`{ items }`' } },
  { method: 'get', path: '/experiments', tag: 'Experiments', summary: 'Experiments, newest first', description: 'Filter by `model`, `technique`, the latest run\'s `status`, a linked `observation`, or a `behaviour` code one of the linked observations carries.', access: 'signed-in', query: experimentListSchema, success: { 200: '`{ items, hasMore }`' } },
  {
    method: 'post',
    path: '/experiments',
    tag: 'Experiments',
    summary: 'Create an experiment (and queue its first run)',
    description: '`params` are checked against the technique\'s schema (`GET /techniques`), prompts against the model\'s context. The first run is queued unless `run` is false; follow it with `GET /api/v1/jobs/{id}` or over the socket (`job:join`).',
    access: 'researcher',
    body: createExperimentSchema,
    success: { 201: 'The experiment with its runs, with a Location header' },
    errors: ['conflict'],
  },
  { method: 'get', path: '/experiments/:id', tag: 'Experiments', summary: 'An experiment with its model, linked observations and runs', access: 'signed-in', success: { 200: 'The experiment' }, errors: ['not_found'], example: `/experiments/${X}` },
  { method: 'post', path: '/experiments/:id/runs', tag: 'Experiments', summary: 'Run an experiment again', description: 'A new run beside the earlier ones (their results never change), with the experiment\'s parameters or `params` given here.', access: 'researcher', body: runExperimentSchema, success: { 201: 'The run' }, errors: ['not_found', 'conflict'], example: `/experiments/${X}/runs` },
  { method: 'get', path: '/experiments/:id/runs/:number', tag: 'Experiments', summary: 'A run with its result document', access: 'signed-in', success: { 200: 'The run' }, errors: ['not_found'], example: `/experiments/${X}/runs/1` },
  { method: 'get', path: '/experiments/:id/runs/:number/result.json', tag: 'Experiments', summary: 'A run\'s result document as a download', access: 'signed-in', success: { 200: 'The result document (JSON)' }, errors: ['not_found', 'conflict'], example: `/experiments/${X}/runs/1/result.json` },
  { method: 'post', path: '/experiments/:id/observations', tag: 'Experiments', summary: 'Link an observation to an experiment', access: 'researcher', body: linkObservationSchema, success: { 201: 'The experiment' }, errors: ['not_found'], example: `/experiments/${X}/observations` },
  { method: 'delete', path: '/experiments/:id/observations/:observationId', tag: 'Experiments', summary: 'Unlink an observation', access: 'researcher', success: { 204: 'Unlinked' }, errors: ['not_found'], example: `/experiments/${X}/observations/${X}` },
];
