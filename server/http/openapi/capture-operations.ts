import { captureListFiltersSchema, promoteCaptureSchema } from '../../../observations/capture/capture-list.input.ts';
import { captureInputSchema } from '../../../observations/capture/capture.input.ts';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';

/** The field log's operations, documented with the schemas the capture routes validate with. */
export const captureOperations: Operation[] = [
  { method: 'post', path: '/captures', tag: 'Field log', summary: 'File a model call as a capture', description: 'What the SDK helper `observe()` sends: the raw request and response text exactly as they crossed (for streams the raw SSE), timings, and the sha256 of the provider key (never the key). `source` is always recorded as `sdk`. Credential headers are removed before storing. Menagerie rebuilds the message, transcript, model and usage itself.', access: 'signed-in', body: captureInputSchema.omit({ source: true }), success: { 201: '`{ id }`, with a Location header' }, errors: ['payload_too_large', 'malformed_json'] },
  { method: 'get', path: '/captures', tag: 'Field log', summary: 'List captures, newest first', description: 'Contributors see their own captures; researchers and admins see everyone\'s. Keyset pagination: pass `nextCursor` back as `cursor`.', access: 'signed-in', query: captureListFiltersSchema, success: { 200: '`{ data, nextCursor }` (list rows carry no bodies)' } },
  { method: 'get', path: '/captures/:id', tag: 'Field log', summary: 'Read a capture', description: 'The raw request and response (headers without credentials), the rebuilt message, the transcript, timings and usage.', access: 'signed-in', success: { 200: 'The capture' }, errors: ['not_found'], example: `/captures/${X}` },
  { method: 'post', path: '/captures/:id/promote', tag: 'Field log', summary: 'Promote a capture to an observation', description: 'Everything is pre-filled from the capture (transcript, provider, model, observed-at, provenance with sampling parameters, the raw exchange as the raw payload); `title`, `surprise` and `visibility` may be given. A capture is promoted once (409 names the observation); one without a transcript cannot be (422 says why); without a flag, `surprise` is required.', access: 'signed-in', body: promoteCaptureSchema, success: { 201: 'The observation, with a Location header' }, errors: ['not_found', 'conflict'], example: `/captures/${X}/promote` },
];
