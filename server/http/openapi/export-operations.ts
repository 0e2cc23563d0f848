import { listFiltersSchema } from '../../../observations/observation.input.ts';
import type { Operation } from './operation.ts';

const filters = 'Same filters as `GET /observations` (`q`, `provider`, `model`, `behaviour`, `category`, `tag`, `status`, `from`, `to`); `page`, `pageSize` and `sort` are ignored: the whole matching set is streamed, oldest first by filing time. Anonymous callers get public observations only. Withdrawn codings are left out. See observations/export/README.md for every field.';

/** The open-data exports of observations (streamed downloads, not JSON answers). */
export const exportOperations: Operation[] = [
  { method: 'get', path: '/observations/export.jsonl', tag: 'Exports', summary: 'Export observations as JSONL', description: `One observation per line, with its transcript, tags, provenance and codings; the file imports back through \`POST /imports\` (format \`jsonl\`). ${filters}`, access: 'anyone', query: listFiltersSchema, success: { 200: '`application/x-ndjson` download' } },
  { method: 'get', path: '/observations/export.csv', tag: 'Exports', summary: 'Export observations as CSV', description: `One row per observation (RFC 4180; cells that would be spreadsheet formulas are prefixed with an apostrophe). ${filters}`, access: 'anyone', query: listFiltersSchema, success: { 200: '`text/csv` download' } },
  { method: 'get', path: '/observations/export.zip', tag: 'Exports', summary: 'Export observations as a zipped dataset', description: `observations.jsonl, observations.csv, codings.csv, the ethogram versions referenced (\`ethograms/<slug>-v<N>.json\`) and a README.md describing every field, the filters and the counts. ${filters}`, access: 'anyone', query: listFiltersSchema, success: { 200: '`application/zip` download' } },
];
