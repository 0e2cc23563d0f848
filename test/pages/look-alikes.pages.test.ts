import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { makeActors, signedInWeb, type WebClient } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

// New observations are fingerprinted by the search indexer, moments after they are saved. The page someone lands
// on after saving lists look-alikes already. Here the indexer polls once a minute and plain SQL does not wake it,
// so an observation whose fingerprint is cleared stays unfingerprinted while its page is read.
let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let web: WebClient;
before(async () => {
  app = await startTestApp({ loadStarter: false, searchIndexerIdleMs: 60_000 });
  actors = await makeActors(app);
  web = await signedInWeb(app, actors.researcher);
});
after(() => app.close());

const LOOP = 'User: Describe the tide.\nAssistant: The tide rises and the tide falls. The tide rises and the tide falls. The tide rises and the tide falls, twice a day, pulled by the moon.';

test('an observation not yet fingerprinted lists its look-alikes on its page, from its transcript', async () => {
  const first = await submitObservation(actors.contributor, { title: 'Tide loop', transcript: LOOP });
  const second = await submitObservation(actors.contributor, { title: 'Tide loop again', transcript: `${LOOP}\nUser: Thanks.` });
  const unrelated = await submitObservation(actors.contributor, { title: 'Capital mix-up', transcript: 'User: Capital of Australia?\nAssistant: Sydney, a city in New South Wales.' });
  await app.drainSearchIndex();
  await app.deps.db.execute(sql`UPDATE observations SET minhash = NULL, minhash_bands = NULL WHERE id = ${second.id}::uuid`);

  const page = await web.get(`/observations/${second.id}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<h2 id="similar-heading">Looks like<\/h2>/);
  assert.match(page.text, new RegExp(`href="/observations/${first.id}">Tide loop</a>`));
  assert.doesNotMatch(page.text, new RegExp(`/observations/${unrelated.id}"`));
  // Reading the page wrote nothing: the fingerprint is still the indexer's to store.
  const [row] = rowsOf<{ minhash: number[] | null }>(await app.deps.db.execute(sql`SELECT minhash FROM observations WHERE id = ${second.id}::uuid`));
  assert.equal(row!.minhash, null);
  await app.drainSearchIndex();
  const [stored] = rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT cardinality(minhash) AS n FROM observations WHERE id = ${second.id}::uuid`));
  assert.equal(Number(stored!.n), 64);
});
