import { z } from 'zod';
import { uploadQuerySchema } from '../routes/import-uploads.routes.ts';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';

/** The import operations (file uploads that become observations), documented with the schemas the routes use. */
export const importOperations: Operation[] = [
  {
    method: 'post',
    path: '/imports',
    tag: 'Imports',
    summary: 'Upload a file to import',
    description:
      'The file is the raw request body (any content type, e.g. `application/octet-stream`; `curl --data-binary @conversations.json`), streamed to disk, never held in memory. `fileName` names it (detection reads its extension); `format` is `auto` (default) or one of the importer formats. The import runs in the background: poll `GET /api/v1/imports/{id}` or follow it over the socket (`import:join`). Bodies over `MENAGERIE_IMPORT_MAX_BYTES` get 413 and nothing is stored.',
    access: 'signed-in',
    query: uploadQuerySchema,
    success: { 202: 'The import (`status` `queued`), with a Location header to poll' },
    errors: ['payload_too_large'],
  },
  { method: 'get', path: '/imports', tag: 'Imports', summary: 'Your imports, newest first', access: 'signed-in', query: z.object({ limit: z.number().int().min(1).max(100).optional() }), success: { 200: '`{ items }`' } },
  {
    method: 'get',
    path: '/imports/:id',
    tag: 'Imports',
    summary: 'One import\'s state and result',
    description: '`status` is queued, running, done or failed; `counts` (processed, imported, duplicates, failed) and `fraction` (share of the file read) move while it runs; when it ends, `failures` (file order: record index, its id, reason), `observationIds` (the first new observations) and, for a whole-file problem, `error`. Visible to its uploader and to admins (404 for others).',
    access: 'signed-in',
    success: { 200: 'The import' },
    errors: ['not_found'],
    example: `/imports/${X}`,
  },
];
