import { setMigrationsInput } from '../../../ethograms/evolution/set-migrations.command.ts';
import { resolveRecodeInput } from '../../../ethograms/evolution/resolve-recode.command.ts';
import { recodeQueueQuery } from '../routes/ethogram-evolution.routes.ts';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';

/** How an ethogram evolves: changes, migrations, the recode queue, codings as of a version (ethograms/evolution/README.md). */
export const ethogramEvolutionOperations: Operation[] = [
  {
    method: 'get',
    path: '/ethograms/:slug/versions/:number/changes',
    tag: 'Ethograms',
    summary: 'What a version changed against the one it was opened from',
    description: 'Each change (`added`, `removed`, `renamed`, `moved`, `redefined`, `merged`, `split`) in words and as before/after pairs, the codings it touches, the declared migrations, and `blocking`: coded changes without a migration, which stop publishing.',
    access: 'anyone',
    success: { 200: '`{ version, base, changes, migrations, migrationProblems, blocking }`' },
    errors: ['not_found'],
    example: '/ethograms/llm-starter/versions/1/changes',
  },
  {
    method: 'put',
    path: '/ethograms/:slug/versions/:number/migrations',
    tag: 'Ethograms',
    summary: 'Declare a draft\'s migrations',
    description: 'Replaces the list: `merge` (removed codes into one), `split` (one code into several: its codings go to the recode queue), `redefine` (`recode` or `reword`), `retire` (no equivalent). Each must fit the draft and its base version (422 at `migrations.N…`).',
    access: 'researcher',
    body: setMigrationsInput,
    success: { 200: 'The changes, as `GET …/changes`' },
    errors: ['not_found', 'immutable', 'conflict'],
    example: '/ethograms/llm-starter/versions/1/migrations',
  },
  { method: 'get', path: '/ethograms/:slug/versions/:number/mappings.csv', tag: 'Ethograms', summary: 'A version\'s mappings to other taxonomies, as CSV', description: 'One row per mapping: code, name, scheme, ref.', access: 'anyone', success: { 200: 'text/csv' }, errors: ['not_found'], example: '/ethograms/llm-starter/versions/1/mappings.csv' },
  { method: 'get', path: '/ethograms/:slug/recode-queue', tag: 'Ethograms', summary: 'The recode queue, oldest first', description: 'Codings a split or recoding redefinition left for a person to decide, with the coded text, the old definition and each candidate\'s. Page with `after` (the `next` cursor).', access: 'researcher', query: recodeQueueQuery, success: { 200: '`{ items, open, resolved, next }`' }, errors: ['not_found'], example: '/ethograms/llm-starter/recode-queue' },
  { method: 'post', path: '/recode-items/:id/resolve', tag: 'Ethograms', summary: 'Decide a recode item', description: '`choice` is a candidate code (a new coding under the new version, on the same span) or `none`. Decided once (409 after).', access: 'researcher', body: resolveRecodeInput, success: { 200: '`{ itemId, decision, chosenCode, newCodingId }`' }, errors: ['not_found', 'conflict'], example: `/recode-items/${X}/resolve` },
  { method: 'get', path: '/observations/:id/codings/as-of/:slug/:number', tag: 'Codings', summary: 'An observation\'s codings read as of a version', description: 'Each live coding with the version and code it was made under and its code as of the version asked for, or why it has none (`awaiting-recode`, `recoded`, `no-candidate`, `retired`, `unmapped`, `not-in-version`).', access: 'anyone', success: { 200: '`{ ethogram, version, data }`' }, errors: ['not_found'], example: `/observations/${X}/codings/as-of/llm-starter/1` },
];
