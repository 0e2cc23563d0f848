import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import type { UserActor } from '../../accounts/actor.ts';
import { anonymous } from '../../accounts/actor.ts';
import type { Ctx } from '../../core/context.ts';
import { rowsOf } from '../../core/db.ts';
import { AppError } from '../../core/errors.ts';
import { makeActors } from '../../test/support/clients.ts';
import { startTestApp, type TestApp } from '../../test/support/test-app.ts';
import { captures } from './capture.schema.ts';
import { recordCapture } from './record-capture.command.ts';

const chatRequest = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Is 9.11 bigger than 9.9?' }] };
const chatResponse = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1760000000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Yes, 9.11 is bigger.' } }],
  usage: { prompt_tokens: 21, completion_tokens: 7, total_tokens: 28 },
};

const base = {
  source: 'proxy' as const,
  upstream: 'openai',
  api: 'openai' as const,
  path: '/v1/chat/completions',
  outcome: 'complete' as const,
  endReason: 'done' as const,
  httpStatus: 200,
  startedAt: new Date('2026-01-02T03:04:05Z'),
  requestBody: JSON.stringify(chatRequest),
  responseBody: JSON.stringify(chatResponse),
};

describe('recordCapture', () => {
  let app: TestApp;
  let ctx: Ctx;
  before(async () => {
    app = await startTestApp({ loadStarter: false });
    const { contributor } = await makeActors(app);
    const actor: UserActor = { kind: 'user', id: contributor.id, email: contributor.email, displayName: contributor.displayName, role: contributor.role, via: 'system' };
    ctx = { db: app.deps.db, actor, now: () => new Date() };
  });
  after(() => app.close());

  it('files an exchange with its rebuilt transcript, model and usage, strips credential headers, and writes its event', async () => {
    const { id } = await recordCapture(ctx, {
      ...base,
      requestHeaders: { Authorization: 'Bearer sk-secret', 'X-Api-Key': 'k', 'content-type': 'application/json', 'x-menagerie-token': 'mng' },
      responseHeaders: { 'x-request-id': 'req_1', 'set-cookie': 'a=b' },
      flag: 'decimal comparison',
    });
    const [row] = await app.deps.db.select().from(captures).where(eq(captures.id, id));
    assert.ok(row);
    assert.equal(row.model, 'gpt-4o-mini-2024-07-18');
    assert.deepEqual(row.usage, { inputTokens: 21, outputTokens: 7, totalTokens: 28 });
    assert.deepEqual(row.requestHeaders, { 'content-type': 'application/json' });
    assert.deepEqual(row.responseHeaders, { 'x-request-id': 'req_1' });
    assert.equal(row.flag, 'decimal comparison');
    assert.deepEqual(
      row.transcript?.messages.map((m) => m.role),
      ['system', 'user', 'assistant'],
    );
    assert.ok(!JSON.stringify(row).includes('sk-secret'));
    const events = rowsOf<{ type: string }>(await app.deps.db.execute(sql`SELECT type FROM events WHERE entity_id = ${id}`));
    assert.deepEqual(events.map((e) => e.type), ['capture.recorded']);
    const found = rowsOf<{ id: string }>(await app.deps.db.execute(sql`SELECT id FROM captures WHERE search @@ plainto_tsquery('english', 'bigger')`));
    assert.ok(found.some((r) => r.id === id), 'the transcript text is searchable');
  });

  it('keeps an exchange it cannot read as messages, with the reason it has no transcript', async () => {
    const { id } = await recordCapture(ctx, { ...base, path: '/v1/embeddings', requestBody: '{"model":"text-embedding-3-small","input":"hi"}', responseBody: '{"data":[]}' });
    const [row] = await app.deps.db.select().from(captures).where(eq(captures.id, id));
    assert.equal(row?.transcript, null);
    assert.equal(row?.model, 'text-embedding-3-small');
  });

  it('refuses anonymous callers and bad input, storing nothing', async () => {
    const before = rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM captures`))[0]!.n;
    await assert.rejects(recordCapture({ ...ctx, actor: anonymous }, base), (e: unknown) => e instanceof AppError && e.id === 'unauthenticated');
    await assert.rejects(recordCapture(ctx, { ...base, path: 'no-slash' }), (e: unknown) => e instanceof AppError && e.id === 'validation_failed');
    const after = rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM captures`))[0]!.n;
    assert.equal(after, before);
  });
});
