import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { inTransaction, rowsOf } from '../core/db.ts';
import { makeActors } from '../test/support/clients.ts';
import { startTestApp, type TestApp } from '../test/support/test-app.ts';
import { transcriptSearchText, transcriptSearchTextSql } from './observation-text.ts';
import { indexPendingTranscripts } from './search-indexer.ts';
import type { Transcript } from './transcript.schema.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
});
after(() => app.close());

const body = (title: string, transcript: string) => ({
  title, surprise: 'Indexed later', provider: 'openai', model: 'gpt-4o', observedAt: '2026-11-01', transcript, visibility: 'public',
});

test('title and surprise are searchable at once; the transcript after the indexer runs', async () => {
  const created = await actors.contributor.api.post('/observations', body('Platypus headline', 'User: hi\nAssistant: the narwhal sings'));
  assert.equal(created.status, 201);
  const pending = rowsOf<{ search_pending: boolean }>(await app.deps.db.execute(sql`select search_pending from observations where id = ${created.body.id}::uuid`));
  const byTitle = await actors.anon.get('/observations?q=platypus');
  assert.deepEqual(byTitle.body.data.map((o: { id: string }) => o.id), [created.body.id]);
  await app.drainSearchIndex();
  const byTranscript = await actors.anon.get('/observations?q=narwhal');
  assert.deepEqual(byTranscript.body.data.map((o: { id: string }) => o.id), [created.body.id]);
  const after = rowsOf<{ search_pending: boolean }>(await app.deps.db.execute(sql`select search_pending from observations where id = ${created.body.id}::uuid`));
  assert.equal(after[0]!.search_pending, false);
  // It was pending when written, unless the background indexer was quicker than the query above.
  assert.equal(typeof pending[0]!.search_pending, 'boolean');
});

test('the indexer claims batches oldest first and reports how many it indexed', async () => {
  await app.drainSearchIndex();
  for (let i = 0; i < 5; i++) await actors.contributor.api.post('/observations', body(`Batch ${i}`, `User: q\nAssistant: capybara${i}`));
  await app.deps.db.execute(sql`update observations set search_pending = true`);
  const total = rowsOf<{ n: number }>(await app.deps.db.execute(sql`select count(*)::int as n from observations`))[0]!.n;
  let indexed = 0;
  for (let n = -1; n !== 0; indexed += n) n = await indexPendingTranscripts(app.deps.db, 2);
  // The background indexer runs too and may claim some batches first (SKIP LOCKED): together they index each row once.
  assert.ok(indexed <= total);
  await app.drainSearchIndex();
  const left = rowsOf<{ n: number }>(await app.deps.db.execute(sql`select count(*)::int as n from observations where search_pending`))[0]!.n;
  assert.equal(left, 0);
  const found = await actors.anon.get('/observations?q=capybara3');
  assert.equal(found.body.data.length, 1);
});

test('an edit indexes the new transcript at once', async () => {
  const created = await actors.contributor.api.post('/observations', body('Editable', 'User: a\nAssistant: b'));
  const edited = await actors.contributor.api.patch(`/observations/${created.body.id}`, { transcript: 'User: a\nAssistant: the okapi replied' });
  assert.equal(edited.status, 200);
  const found = await actors.anon.get('/observations?q=okapi');
  assert.deepEqual(found.body.data.map((o: { id: string }) => o.id), [created.body.id]);
});

test('drain waits for a batch another indexer holds, so nothing is pending when it returns', async () => {
  const created = await actors.contributor.api.post('/observations', body('Held', 'User: a\nAssistant: the quokka waits'));
  const id = created.body.id as string;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let claimed!: (held: boolean) => void;
  const claim = new Promise<boolean>((resolve) => (claimed = resolve));
  // Another indexer's batch: the pending row locked in an open transaction (retried if the background indexer
  // indexed it first).
  const holder = (async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      await app.deps.db.execute(sql`update observations set search_pending = true where id = ${id}::uuid`);
      const held = await inTransaction(app.deps.db, async (tx) => {
        const rows = rowsOf(await tx.execute(sql`select id from observations where id = ${id}::uuid and search_pending for update`));
        if (rows.length === 0) return false;
        claimed(true);
        await released;
        return true;
      });
      if (held) return;
    }
    claimed(false);
  })();
  assert.equal(await claim, true, 'the row could be claimed');
  let drained = false;
  const drain = app.drainSearchIndex().then(() => (drained = true));
  await sleep(200);
  const drainedWhileHeld = drained;
  release();
  await holder;
  await drain;
  assert.equal(drainedWhileHeld, false, 'drain returned while a batch was still held');
  const after = rowsOf<{ search_pending: boolean }>(await app.deps.db.execute(sql`select search_pending from observations where id = ${id}::uuid`));
  assert.equal(after[0]!.search_pending, false);
  const found = await actors.anon.get('/observations?q=quokka');
  assert.deepEqual(found.body.data.map((o: { id: string }) => o.id), [id]);
});

test('the database extracts exactly the text transcriptSearchText does, in the same order', async () => {
  const transcript: Transcript = {
    format: 'menagerie',
    messages: [
      ...Array.from({ length: 11 }, (_, i) => ({ id: `m${i + 1}`, role: i % 2 ? ('assistant' as const) : ('user' as const), parts: [{ type: 'text' as const, text: `turn ${i + 1} ünïcode` }] })),
      {
        id: 'm12',
        role: 'assistant',
        parts: [
          { type: 'reasoning', text: 'thinking it over' },
          { type: 'text', text: '' },
          { type: 'refusal', text: 'I will not.' },
          { type: 'tool_call', name: 'search', arguments: '{"q":"alpaca"}' },
          { type: 'image', url: 'https://example.org/x.png' },
          { type: 'other', originalType: 'server_tool_use', data: { text: 'not indexed' } },
        ],
      },
      { id: 'm13', role: 'tool', parts: [{ type: 'tool_result', text: 'line one\nline two' }] },
    ],
  };
  const [row] = rowsOf<{ text: string }>(await app.deps.db.execute(sql`SELECT ${transcriptSearchTextSql(sql`${JSON.stringify(transcript)}::jsonb`)} AS text`));
  assert.equal(row!.text, transcriptSearchText(transcript));
  const [empty] = rowsOf<{ text: string }>(await app.deps.db.execute(sql`SELECT ${transcriptSearchTextSql(sql`'{"format":"plain","messages":[]}'::jsonb`)} AS text`));
  assert.equal(empty!.text, '');
});
