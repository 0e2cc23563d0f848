import { behaviourInput, createEthogramInput, importDocumentInput, importOptionsInput, updateDraftInput } from '../../../ethograms/ethogram.input.ts';
import { ethogramImportFormatQuery, exportFormatQuery } from '../ethogram-import-body.ts';
import type { Operation } from './operation.ts';

const V = '/ethograms/llm-starter/versions/1';

/** The ethogram operations, documented with the schemas the ethogram routes validate with. */
export const ethogramOperations: Operation[] = [
  { method: 'get', path: '/ethograms', tag: 'Ethograms', summary: 'List ethograms', description: 'Published ethograms are public; researchers also see drafts.', access: 'anyone', success: { 200: '`{ data }`' } },
  { method: 'post', path: '/ethograms', tag: 'Ethograms', summary: 'Create an ethogram with an empty draft version 1', access: 'researcher', body: createEthogramInput, success: { 201: 'The ethogram' }, errors: ['conflict'] },
  { method: 'post', path: '/ethograms/import', tag: 'Ethograms', summary: 'Import an ethogram document (menagerie.ethogram/v1) or a BORIS project', description: 'The format is documented in ethograms/FORMAT.md. `?publish=true` publishes at once; `?newVersion=true` adds a version to an existing slug. A BORIS project (`.boris` JSON, or `.boris.gz` sent as application/gzip) is detected by its keys or named with `?format=boris`; `?slug=` names the new ethogram (ethograms/boris/README.md).', access: 'researcher', query: importOptionsInput.extend(ethogramImportFormatQuery.shape), body: importDocumentInput, success: { 201: 'The imported version' }, errors: ['conflict'] },
  { method: 'get', path: '/ethograms/:slug', tag: 'Ethograms', summary: 'An ethogram with its versions', access: 'anyone', success: { 200: 'The ethogram' }, errors: ['not_found'], example: '/ethograms/llm-starter' },
  { method: 'post', path: '/ethograms/:slug/drafts', tag: 'Ethograms', summary: 'Start a draft copied from the latest version', access: 'researcher', success: { 201: 'The draft version' }, errors: ['not_found', 'conflict'], example: '/ethograms/llm-starter/drafts' },
  { method: 'get', path: '/ethograms/:slug/versions/:number', tag: 'Ethograms', summary: 'A version with its categories and behaviours', access: 'anyone', success: { 200: 'The version' }, errors: ['not_found'], example: V },
  { method: 'patch', path: '/ethograms/:slug/versions/:number', tag: 'Ethograms', summary: 'Edit a draft\'s notes, categories, modifier sets and exclusive groups', access: 'researcher', body: updateDraftInput, success: { 200: 'The draft' }, errors: ['not_found', 'immutable', 'conflict'], example: V },
  { method: 'delete', path: '/ethograms/:slug/versions/:number', tag: 'Ethograms', summary: 'Discard a draft (kept as a revision)', access: 'researcher', success: { 204: 'Discarded' }, errors: ['not_found', 'immutable', 'conflict'], example: V },
  { method: 'get', path: '/ethograms/:slug/versions/:number/export', tag: 'Ethograms', summary: 'Export a version as a JSON document, or with `?format=boris` as a BORIS project', access: 'anyone', query: exportFormatQuery, success: { 200: 'The document, as an attachment' }, errors: ['not_found'], example: `${V}/export` },
  { method: 'post', path: '/ethograms/:slug/versions/:number/publish', tag: 'Ethograms', summary: 'Publish a draft (then immutable)', access: 'researcher', success: { 200: 'The published version' }, errors: ['not_found', 'immutable'], example: `${V}/publish` },
  { method: 'post', path: '/ethograms/:slug/versions/:number/deprecate', tag: 'Ethograms', summary: 'Deprecate a published version', access: 'researcher', success: { 200: 'The deprecated version' }, errors: ['not_found', 'immutable'], example: `${V}/deprecate` },
  { method: 'get', path: '/ethograms/:slug/versions/:number/behaviours/:code', tag: 'Ethograms', summary: 'One behaviour', access: 'anyone', success: { 200: 'The behaviour' }, errors: ['not_found'], example: `${V}/behaviours/REF-OVER` },
  { method: 'put', path: '/ethograms/:slug/versions/:number/behaviours/:code', tag: 'Ethograms', summary: 'Add or replace a behaviour in a draft', access: 'researcher', body: behaviourInput, success: { 200: 'The behaviour' }, errors: ['not_found', 'immutable', 'conflict'], example: `${V}/behaviours/REF-OVER` },
  { method: 'delete', path: '/ethograms/:slug/versions/:number/behaviours/:code', tag: 'Ethograms', summary: 'Remove a behaviour from a draft', access: 'researcher', success: { 204: 'Removed' }, errors: ['not_found', 'immutable'], example: `${V}/behaviours/REF-OVER` },
];
