import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { rowsOf } from '../core/db.ts';
import { makeActors } from '../test/support/clients.ts';
import { startTestApp, type TestApp } from '../test/support/test-app.ts';
import { anythingPending } from './search-indexer.ts';

// The app's indexer polls only once a minute here, so a transcript indexed within seconds was indexed because the
// write woke it.
let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false, searchIndexerIdleMs: 60_000 });
  actors = await makeActors(app);
});
after(() => app.close());

const pendingOf = async (id: string) =>
  rowsOf<{ search_pending: boolean }>(await app.deps.db.execute(sql`SELECT search_pending FROM observations WHERE id = ${id}::uuid`))[0]!.search_pending;

test('caught up, the indexer starts at once when this process commits a new observation, not at its next poll', async () => {
  const created = await actors.contributor.api.post('/observations', {
    title: 'Woken indexer', surprise: 'Indexed at once', provider: 'openai', model: 'gpt-4o', observedAt: '2026-11-01',
    transcript: 'User: hi\nAssistant: the pangolin curls up', visibility: 'public',
  });
  assert.equal(created.status, 201);
  const deadline = Date.now() + 10_000;
  while ((await pendingOf(created.body.id)) && Date.now() < deadline) await sleep(25);
  assert.equal(await pendingOf(created.body.id), false, 'the transcript is still waiting for the indexer');
  const found = await actors.anon.get('/observations?q=pangolin');
  assert.deepEqual(found.body.data.map((o: { id: string }) => o.id), [created.body.id]);
});

test('anythingPending says whether a transcript waits for the index or a row for its fingerprint', async () => {
  await app.drainSearchIndex();
  assert.equal(await anythingPending(app.deps.db), false);
  await app.deps.db.execute(sql`UPDATE observations SET search_pending = true WHERE title = 'Woken indexer'`);
  assert.equal(await anythingPending(app.deps.db), true);
  await app.drainSearchIndex();
  assert.equal(await anythingPending(app.deps.db), false);
  await app.deps.db.execute(sql`UPDATE observations SET minhash = NULL, minhash_bands = NULL WHERE title = 'Woken indexer'`);
  assert.equal(await anythingPending(app.deps.db), true);
  await app.drainSearchIndex();
  assert.equal(await anythingPending(app.deps.db), false);
});
