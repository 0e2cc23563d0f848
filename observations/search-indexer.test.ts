import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../core/db.ts';
import { makeActors } from '../test/support/clients.ts';
import { startTestApp, type TestApp } from '../test/support/test-app.ts';
import { indexPendingTranscripts } from './search-indexer.ts';

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
