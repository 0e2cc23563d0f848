import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { rowsOf } from '../core/db.ts';
import { makeActors } from '../test/support/clients.ts';
import { startTestApp, type TestApp } from '../test/support/test-app.ts';
import { anythingPending, indexPendingTranscripts } from './search-indexer.ts';
import { transcriptSearchText } from './observation-text.ts';
import { fingerprintPending } from './similar/fingerprint-pending.ts';
import { fingerprint } from './similar/minhash.ts';
import { parseTranscript } from './transcript/parse-transcript.ts';

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

test('one UPDATE indexes a pending transcript and fingerprints it; a fingerprint written with the row is kept', async () => {
  await app.drainSearchIndex();
  const text = 'User: say it again\nAssistant: the axolotl regrows the axolotl regrows the axolotl regrows its gills';
  const fresh = await actors.contributor.api.post('/observations', {
    title: 'Fresh row', surprise: 'Waits for the indexer', provider: 'openai', model: 'gpt-4o', observedAt: '2026-11-01', transcript: text, visibility: 'public',
  });
  const kept = await actors.contributor.api.post('/observations', {
    title: 'Edited row', surprise: 'Came with its fingerprint', provider: 'openai', model: 'gpt-4o', observedAt: '2026-11-01', transcript: text, visibility: 'public',
  });
  assert.equal(fresh.status, 201);
  await app.drainSearchIndex();
  // As the writer leaves a new row (no fingerprint), and as an edit leaves one (its own fingerprint, written with
  // the row).
  // The app's indexer polls once a minute and plain SQL does not wake it, so the call below finds both pending.
  await app.deps.db.execute(sql`UPDATE observations SET search_pending = true, minhash = NULL, minhash_bands = NULL WHERE id = ${fresh.body.id}::uuid`);
  await app.deps.db.execute(sql`UPDATE observations SET search_pending = true, minhash = '{7,8}', minhash_bands = '{9}' WHERE id = ${kept.body.id}::uuid`);
  const versionOf = async (id: string) =>
    rowsOf<{ xmin: string; search_pending: boolean; minhash: number[] | null; minhash_bands: number[] | null; searchable: boolean }>(
      await app.deps.db.execute(sql`SELECT xmin::text AS xmin, search_pending, minhash, minhash_bands,
        search @@ to_tsquery('english', 'axolotl') AS searchable FROM observations WHERE id = ${id}::uuid`),
    )[0]!;
  const before = await versionOf(fresh.body.id);
  // The pass for rows without a fingerprint leaves those waiting for the indexer to it (no second row version).
  assert.equal(await fingerprintPending(app.deps.db), 0);
  assert.equal((await versionOf(fresh.body.id)).xmin, before.xmin);
  assert.equal(await indexPendingTranscripts(app.deps.db, 50), 2);
  const [after, keptAfter] = [await versionOf(fresh.body.id), await versionOf(kept.body.id)];
  assert.equal(after.search_pending, false);
  assert.equal(after.searchable, true, 'the transcript joined the search vector');
  const parsed = parseTranscript(text, 'auto');
  assert.ok(parsed.ok);
  const expected = fingerprint(transcriptSearchText(parsed.transcript))!;
  assert.deepEqual(after.minhash?.map(Number), expected.signature);
  assert.deepEqual(after.minhash_bands?.map(Number), expected.bands);
  // Both in one statement: the row's current version is the one the call wrote, and nothing is left for the
  // fingerprinting pass that follows it in the indexer's tick.
  assert.notEqual(after.xmin, before.xmin);
  assert.equal(keptAfter.xmin, after.xmin, 'both rows written by the same transaction');
  assert.equal(await fingerprintPending(app.deps.db), 0);
  assert.equal(keptAfter.searchable, true);
  assert.deepEqual([keptAfter.minhash?.map(Number), keptAfter.minhash_bands?.map(Number)], [[7, 8], [9]]);
});
