import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { after, before, describe, test } from 'node:test';
import { rowsOf } from '../../core/db.ts';
import { transcriptSearchText } from '../../observations/observation-text.ts';
import { fingerprint } from '../../observations/similar/minhash.ts';
import { parseTranscript } from '../../observations/transcript/parse-transcript.ts';
import { makeActors, signedInWeb } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;

/** A looping answer, as first seen. */
const LOOP = [
  'User: Summarise the plot of Hamlet in three sentences, please, for my literature class tomorrow morning.',
  'Assistant: Prince Hamlet returns to Denmark after his father dies and finds his uncle Claudius married to his mother.',
  'The ghost of his father tells him Claudius murdered him, and Hamlet feigns madness while he plans revenge.',
  'His hesitation leads to the deaths of Polonius, Ophelia, Gertrude, Laertes, Claudius and finally Hamlet himself.',
  'The ghost of his father tells him Claudius murdered him. The ghost of his father tells him Claudius murdered him.',
].join('\n');
/** The same sighting pasted by someone else: one sentence differs, different case and punctuation. */
const LOOP_AGAIN = LOOP.replace('for my literature class tomorrow morning', 'for my class').toUpperCase().replaceAll('.', '!');
/** An unrelated observation. */
const UNRELATED = [
  'User: What is the capital of Australia?',
  'Assistant: The capital of Australia is Sydney, the largest city and home of the famous opera house on the harbour.',
].join('\n');

let first: { id: string };
let second: { id: string };
let unrelated: { id: string };
let publicOne: { id: string };

before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  first = await submitObservation(actors.contributor, { title: 'Hamlet summary loops', transcript: LOOP });
  second = await submitObservation(actors.researcher, { title: 'Hamlet loop again', transcript: LOOP_AGAIN });
  unrelated = await submitObservation(actors.contributor, { title: 'Wrong capital', transcript: UNRELATED });
  publicOne = await submitObservation(actors.contributor, { title: 'Public Hamlet loop', transcript: LOOP + '\nAssistant: Sorry.', visibility: 'public' });
  await app.drainSearchIndex();
});
after(() => app.close());

describe('near-duplicate fingerprints', () => {
  test('a new observation is fingerprinted by the indexer, from its transcript\'s search text; cleared ones are redone', async () => {
    const signatureOf = async (id: string) =>
      rowsOf<{ minhash: number[] | null; minhash_bands: number[] | null }>(await app.deps.db.execute(sql`SELECT minhash, minhash_bands FROM observations WHERE id = ${id}::uuid`))[0]!;
    const fresh = await submitObservation(actors.contributor, { title: 'Fingerprinted by the indexer', transcript: LOOP });
    await app.drainSearchIndex();
    const stored = await signatureOf(fresh.id);
    const parsed = parseTranscript(LOOP, 'auto');
    assert.ok(parsed.ok);
    const expected = fingerprint(transcriptSearchText(parsed.transcript))!;
    assert.deepEqual(stored.minhash?.map(Number), expected.signature);
    assert.deepEqual(stored.minhash_bands?.map(Number), expected.bands);
    // As migration 0012 left them: cleared fingerprints are recomputed by the indexer, to the same values.
    await app.deps.db.execute(sql`UPDATE observations SET minhash = NULL, minhash_bands = NULL WHERE id IN (${fresh.id}::uuid, ${first.id}::uuid)`);
    await app.drainSearchIndex();
    const rows = rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM observations WHERE minhash IS NULL`));
    assert.equal(Number(rows[0]!.n), 0);
    assert.deepEqual((await signatureOf(fresh.id)).minhash?.map(Number), expected.signature);
    const lengths = rowsOf<{ s: number; b: number }>(
      await app.deps.db.execute(sql`SELECT cardinality(minhash) AS s, cardinality(minhash_bands) AS b FROM observations WHERE id = ${first.id}::uuid`),
    );
    assert.deepEqual([Number(lengths[0]!.s), Number(lengths[0]!.b)], [64, 16]);
  });

  test('an observation lists the ones that look like it, most alike first, not unrelated ones', async () => {
    const res = await actors.researcher.api.get(`/observations/${first.id}/similar`);
    assert.equal(res.status, 200);
    assert.equal(res.body.fingerprinted, true);
    const ids = res.body.similar.map((s: { id: string }) => s.id);
    assert.ok(ids.includes(second.id), 'the re-pasted sighting');
    assert.ok(ids.includes(publicOne.id));
    assert.ok(!ids.includes(unrelated.id));
    assert.ok(!ids.includes(first.id), 'not itself');
    const sims = res.body.similar.map((s: { similarity: number }) => s.similarity);
    assert.deepEqual([...sims].sort((a, b) => b - a), sims);
    for (const s of sims) assert.ok(s >= 0.5 && s <= 1);
  });

  test('anonymous visitors see only public look-alikes of a public observation, and nothing of members-only ones', async () => {
    const res = await actors.anon.get(`/observations/${publicOne.id}/similar`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.similar, []);
    assert.equal((await actors.anon.get(`/observations/${first.id}/similar`)).status, 401);
    assert.equal((await actors.anon.get('/observations/not-an-id/similar')).status, 404);
  });

  test('a draft transcript is checked before saving; unreadable drafts get a clear 422', async () => {
    const res = await actors.contributor.api.post('/observations/similar', { transcript: LOOP_AGAIN });
    assert.equal(res.status, 200);
    const ids = res.body.similar.map((s: { id: string }) => s.id);
    assert.ok(ids.includes(first.id) && ids.includes(second.id));
    const excluding = await actors.contributor.api.post('/observations/similar', { transcript: LOOP_AGAIN, excludeId: second.id });
    assert.ok(!excluding.body.similar.some((s: { id: string }) => s.id === second.id));
    const none = await actors.contributor.api.post('/observations/similar', { transcript: 'User: hello there\nAssistant: general kenobi' });
    assert.deepEqual(none.body.similar, []);
    const broken = await actors.contributor.api.post('/observations/similar', { transcript: '{"messages": [', transcriptFormat: 'openai-chat' });
    assert.equal(broken.status, 422);
    assert.match(broken.body.error.message, /cannot be read/);
    const wrong = await actors.contributor.api.post('/observations/similar', { transcript: 42 });
    assert.equal(wrong.status, 422);
    assert.equal((await actors.anon.post('/observations/similar', { transcript: LOOP })).status, 401);
  });

  test('editing the transcript fingerprints it again at once', async () => {
    const own = await submitObservation(actors.contributor, { title: 'Soon edited', transcript: UNRELATED + ' Extra words make it distinct enough.' });
    await app.drainSearchIndex();
    const patched = await actors.contributor.api.patch(`/observations/${own.id}`, { transcript: LOOP });
    assert.equal(patched.status, 200, patched.text);
    const res = await actors.contributor.api.get(`/observations/${own.id}/similar`);
    assert.ok(res.body.similar.some((s: { id: string }) => s.id === first.id), 'now looks like the Hamlet loop without waiting for the indexer');
  });
});

describe('near-duplicates on pages', () => {
  test('the observation page offers look-alikes; researchers can mark a duplicate, contributors cannot', async () => {
    const researcherWeb = await signedInWeb(app, actors.researcher);
    const page = await researcherWeb.get(`/observations/${second.id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Looks like/);
    assert.match(page.text, /Hamlet summary loops/);
    assert.match(page.text, /Mark as duplicate of this/);
    const contributorWeb = await signedInWeb(app, actors.contributor);
    const contributorPage = await contributorWeb.get(`/observations/${first.id}`);
    assert.match(contributorPage.text, /Hamlet loop again/);
    assert.doesNotMatch(contributorPage.text, /Mark as duplicate of this/);

    const marked = await researcherWeb.form(`/observations/${second.id}/triage`, { status: 'duplicate', duplicateOf: first.id });
    assert.equal(marked.status, 303);
    const stored = (await actors.researcher.api.get(`/observations/${second.id}`)).body;
    assert.equal(stored.status, 'duplicate');
    assert.equal(stored.duplicateOf, first.id);
    const after = await researcherWeb.get(`/observations/${second.id}`);
    assert.match(after.text, /marked: this duplicates it/);
  });

  test('the form\'s preview says what the draft looks like, without JavaScript', async () => {
    const web = await signedInWeb(app, actors.contributor);
    await web.get('/observations/new');
    const res = await web.form('/observations', {
      intent: 'preview', title: '', surprise: '', provider: 'openai', model: 'gpt-4o', transcript: LOOP_AGAIN, transcriptFormat: 'auto',
      observedAt: '2025-03-14', visibility: 'members',
    });
    assert.equal(res.status, 200);
    assert.match(res.text, /This looks like/);
    assert.match(res.text, /Hamlet summary loops/);
    const plain = await web.form('/observations', {
      intent: 'preview', title: '', surprise: '', provider: 'openai', model: 'gpt-4o', transcript: UNRELATED.replace('Sydney', 'Canberra'), transcriptFormat: 'auto',
      observedAt: '2025-03-14', visibility: 'members',
    });
    assert.equal(plain.status, 200);
    assert.match(plain.text, /This looks like/, 'the unrelated draft resembles the "Wrong capital" observation');
    const fresh = await web.form('/observations', {
      intent: 'preview', title: '', surprise: '', provider: 'openai', model: 'gpt-4o', transcript: 'User: Tell me a joke about penguins in winter\nAssistant: Why did the penguin cross the ice floe?', transcriptFormat: 'auto',
      observedAt: '2025-03-14', visibility: 'members',
    });
    assert.doesNotMatch(fresh.text, /This looks like/);
  });
});
