import { z } from 'zod';
import { roleSchema, tokenNameSchema } from '../../../accounts/account.validation.ts';
import {
  codingInputSchema,
  listFiltersSchema,
  observationInputSchema,
  observationPatchSchema,
  tagSchema,
  triageSchema,
} from '../../../observations/observation.input.ts';
import { captureOperations } from './capture-operations.ts';
import { classifierOperations } from './classifier-operations.ts';
import { ethogramOperations } from './ethogram-operations.ts';
import { experimentOperations } from './experiment-operations.ts';
import { ethogramEvolutionOperations } from './ethogram-evolution-operations.ts';
import { exportOperations } from './export-operations.ts';
import { agreementOperations } from './agreement-operations.ts';
import { analysisOperations } from './analysis-operations.ts';
import { importOperations } from './import-operations.ts';
import { jobOperations } from './job-operations.ts';
import { liveOperations } from './live-operations.ts';
import { reviewOperations } from './review-operations.ts';
import { similarAndTagOperations } from './similar-tag-operations.ts';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';

/** Every operation of the JSON API, in the order the API page lists them. */
export const operations: Operation[] = [
  // Observations
  { method: 'get', path: '/observations', tag: 'Observations', summary: 'List and search observations', description: 'Full-text search (`q`, PostgreSQL websearch syntax) and filters; anonymous callers see public observations only.', access: 'anyone', query: listFiltersSchema, success: { 200: '`{ data, page, pageSize, total, totalCapped, totalPages }`: when `totalCapped` is true, `total` means "at least this many"' } },
  { method: 'post', path: '/observations', tag: 'Observations', summary: 'Log an observation', description: 'The transcript may be plain `User:`/`Assistant:` text or JSON in OpenAI Chat Completions or Anthropic Messages form (auto-detected). `codes` are behaviour codes of the current published ethogram, applied to the whole observation.', access: 'signed-in', body: observationInputSchema, success: { 201: 'The observation, with a Location header' }, errors: ['payload_too_large', 'malformed_json', 'idempotency_conflict'], idempotent: true },
  { method: 'get', path: '/observations/filter-options', tag: 'Observations', summary: 'Distinct providers and models, for filter pickers', access: 'anyone', success: { 200: '`{ providers, models }`' } },
  { method: 'get', path: '/trash/observations', tag: 'Observations', summary: 'Deleted observations (tombstones) an admin can restore', access: 'admin', success: { 200: '`{ data }`' } },
  { method: 'get', path: '/observations/:id', tag: 'Observations', summary: 'Read an observation with its codings', access: 'anyone', success: { 200: 'The observation' }, errors: ['not_found'], example: `/observations/${X}` },
  { method: 'get', path: '/observations/:id/raw', tag: 'Observations', summary: 'The raw payload as submitted', description: 'Served with its sha256 in the `X-Content-SHA256` header.', access: 'anyone', success: { 200: 'The raw payload' }, errors: ['not_found'], example: `/observations/${X}/raw` },
  { method: 'patch', path: '/observations/:id', tag: 'Observations', summary: 'Edit an observation', description: 'Owner or admin. Send `revision` to refuse the edit if someone else changed it meanwhile (409). The previous state is kept as a revision.', access: 'signed-in', body: observationPatchSchema, success: { 200: 'The updated observation' }, errors: ['not_found', 'conflict'], example: `/observations/${X}` },
  { method: 'post', path: '/observations/:id/triage', tag: 'Observations', summary: 'Set the review status', access: 'researcher', body: triageSchema, success: { 200: 'The updated observation' }, errors: ['not_found'], example: `/observations/${X}/triage` },
  { method: 'delete', path: '/observations/:id', tag: 'Observations', summary: 'Delete (tombstone) an observation', description: 'Owner or admin; an admin can restore it.', access: 'signed-in', success: { 204: 'Deleted' }, errors: ['not_found'], example: `/observations/${X}` },
  { method: 'post', path: '/observations/:id/restore', tag: 'Observations', summary: 'Restore a deleted observation', access: 'admin', success: { 200: 'The restored observation' }, errors: ['not_found'], example: `/observations/${X}/restore` },
  { method: 'get', path: '/observations/:id/history', tag: 'Observations', summary: 'Revisions and events of an observation', access: 'anyone', success: { 200: '`{ revisions, events }`' }, errors: ['not_found'], example: `/observations/${X}/history` },
  // Codings
  { method: 'get', path: '/observations/:id/codings', tag: 'Codings', summary: 'Codings of an observation', access: 'anyone', success: { 200: '`{ data }`' }, errors: ['not_found'], example: `/observations/${X}/codings` },
  { method: 'post', path: '/observations/:id/codings', tag: 'Codings', summary: 'Code an observation or a span of it', description: 'A span is a message id, a part index and UTF-16 character offsets within that part\'s text. Without `ethogramVersionId` the current published version of the default ethogram is used.', access: 'researcher', body: codingInputSchema, success: { 201: 'The coding' }, errors: ['not_found', 'idempotency_conflict'], idempotent: true, example: `/observations/${X}/codings` },
  { method: 'delete', path: '/codings/:id', tag: 'Codings', summary: 'Withdraw a coding', description: 'The coder or an admin; the coding is kept, marked withdrawn.', access: 'researcher', success: { 200: 'The withdrawn coding' }, errors: ['not_found'], example: `/codings/${X}` },
  // Tags
  { method: 'get', path: '/tags', tag: 'Tags', summary: 'Tags with their counts', access: 'anyone', success: { 200: '`{ data: [{ tag, count }] }`' } },
  { method: 'post', path: '/observations/:id/tags', tag: 'Tags', summary: 'Add tags to an observation', access: 'signed-in', body: z.object({ tags: z.array(tagSchema).min(1).max(30) }), success: { 200: 'The tags now on the observation' }, errors: ['not_found'], example: `/observations/${X}/tags` },
  { method: 'delete', path: '/observations/:id/tags/:tag', tag: 'Tags', summary: 'Remove a tag from an observation', access: 'signed-in', success: { 200: 'The tags now on the observation' }, errors: ['not_found'], example: `/observations/${X}/tags/refusal` },
  ...similarAndTagOperations,
  ...agreementOperations,
  ...analysisOperations,
  ...reviewOperations,
  ...captureOperations,
  ...importOperations,
  ...exportOperations,
  ...jobOperations,
  ...liveOperations,
  ...experimentOperations,
  ...ethogramEvolutionOperations,
  ...classifierOperations,
  ...ethogramOperations,
  // Accounts
  { method: 'get', path: '/me', tag: 'Accounts', summary: 'Who the caller is', access: 'signed-in', success: { 200: '`{ id, email, displayName, role, via }`' } },
  { method: 'get', path: '/tokens', tag: 'Accounts', summary: 'Your API tokens (never the secret)', access: 'signed-in', success: { 200: '`{ data }`' } },
  { method: 'post', path: '/tokens', tag: 'Accounts', summary: 'Create an API token (shown once)', access: 'signed-in', body: z.object({ name: tokenNameSchema }), success: { 201: '`{ id, name, prefix, token }`' } },
  { method: 'delete', path: '/tokens/:id', tag: 'Accounts', summary: 'Revoke an API token', access: 'signed-in', success: { 204: 'Revoked' }, errors: ['not_found'], example: `/tokens/${X}` },
  { method: 'get', path: '/users', tag: 'Accounts', summary: 'All users', access: 'admin', success: { 200: '`{ data }`' } },
  { method: 'patch', path: '/users/:id', tag: 'Accounts', summary: 'Change a user\'s role', access: 'admin', body: z.object({ role: roleSchema }), success: { 200: 'The user' }, errors: ['not_found', 'conflict'], example: `/users/${X}` },
  { method: 'get', path: '/openapi.json', tag: 'Accounts', summary: 'This document', access: 'anyone', success: { 200: 'OpenAPI 3.1' } },
];
