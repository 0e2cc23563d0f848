import { z } from 'zod';
import { createSessionSchema } from '../../../live/create-session.command.ts';
import { addParticipantSchema, inviteSchema } from '../../../live/participants.command.ts';
import type { Operation } from './operation.ts';

const X = '00000000-0000-4000-8000-000000000000';
const S = `/live-sessions/${X}`;

/**
 * Live sessions (live/README.md). The live part (prompting, streaming, coding, presence) is socket.io, documented
 * there; these are the HTTP operations around it.
 */
export const liveOperations: Operation[] = [
  { method: 'post', path: '/live-sessions', tag: 'Live sessions', summary: 'Open a live session', description: 'A published ethogram version, the target model (`provider` openai, anthropic or openai-compatible with its `baseUrl`; `apiKeyEnv` names the server variable holding the key, never the key), system prompt and sampling, and whether coding is blind. The owner joins as driver.', access: 'researcher', body: createSessionSchema, success: { 201: 'The session, with a Location header' } },
  { method: 'get', path: '/live-sessions', tag: 'Live sessions', summary: 'Your live sessions (owner or participant; admins: all), newest first', access: 'signed-in', success: { 200: '`{ items }`, each with your `role`' } },
  { method: 'get', path: '/live-sessions/:id', tag: 'Live sessions', summary: 'A live session with its participants', access: 'signed-in', success: { 200: 'The session, your `role`, `participants`' }, errors: ['not_found', 'forbidden'], example: S },
  { method: 'get', path: '/live-sessions/:id/events', tag: 'Live sessions', summary: 'The session\'s event log', description: 'In sequence order after `sinceSeq`. While a blind session is open, other observers\' codes (and their undos) are left out.', access: 'signed-in', query: z.object({ sinceSeq: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(100_000).optional() }), success: { 200: '`{ items, lastSeq }`' }, errors: ['not_found', 'forbidden'], example: `${S}/events` },
  { method: 'post', path: '/live-sessions/:id/participants', tag: 'Live sessions', summary: 'Add a person by email with a role, or change their role', description: 'The owner or an admin. Roles: driver (prompts the model), observer (codes), viewer (watches and comments).', access: 'signed-in', body: addParticipantSchema, success: { 201: '`{ userId, role }`' }, errors: ['not_found', 'forbidden'], example: `${S}/participants` },
  { method: 'delete', path: '/live-sessions/:id/participants/:userId', tag: 'Live sessions', summary: 'Remove a participant', description: 'They are dropped from the session\'s room at once, in every server process.', access: 'signed-in', success: { 204: 'Removed' }, errors: ['not_found', 'forbidden', 'conflict'], example: `${S}/participants/${X}` },
  { method: 'post', path: '/live-sessions/:id/invites', tag: 'Live sessions', summary: 'Make an invitation link for a role', description: 'The token is shown once (stored hashed); whoever opens `/live/join/TOKEN` signed in joins with the role.', access: 'signed-in', body: inviteSchema, success: { 201: '`{ id, token, role, url }`' }, errors: ['not_found', 'forbidden', 'conflict'], example: `${S}/invites` },
  { method: 'get', path: '/live-sessions/:id/invites', tag: 'Live sessions', summary: 'Active invitation links (without their tokens)', access: 'signed-in', success: { 200: '`{ items }`' }, errors: ['not_found', 'forbidden'], example: `${S}/invites` },
  { method: 'delete', path: '/live-sessions/:id/invites/:inviteId', tag: 'Live sessions', summary: 'Revoke an invitation link', access: 'signed-in', success: { 204: 'Revoked' }, errors: ['not_found', 'forbidden'], example: `${S}/invites/${X}` },
  { method: 'post', path: '/live-invites/:token/accept', tag: 'Live sessions', summary: 'Accept an invitation', description: 'Joins the session with the link\'s role (someone already in keeps their role; a removed participant is refused).', access: 'signed-in', success: { 200: '`{ sessionId, role }`' }, errors: ['not_found', 'forbidden', 'conflict'], example: '/live-invites/not-a-real-invitation-token/accept' },
  { method: 'post', path: '/live-sessions/:id/end', tag: 'Live sessions', summary: 'End the session', description: 'The owner or the driver. States still running are closed (the log says so), a streaming answer is stopped; nobody codes or prompts after.', access: 'signed-in', success: { 200: 'The session' }, errors: ['not_found', 'forbidden', 'conflict'], example: `${S}/end` },
];
