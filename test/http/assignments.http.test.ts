import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { after, before, describe, test } from 'node:test';
import { rowsOf } from '../../core/db.ts';
import { makeActors, makeUser, signedInWeb, type TestUser } from '../support/clients.ts';
import { ensureStarterEthogram } from '../support/ethogram-fixture.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { insertProposal, makeClassifier } from '../support/proposal-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let coderA: TestUser;
let coderB: TestUser;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  await ensureStarterEthogram(app.deps.db);
  actors = await makeActors(app);
  coderA = await makeUser(app, 'researcher', 'coder-a');
  coderB = await makeUser(app, 'researcher', 'coder-b');
});
after(() => app.close());

const HIDDEN = "Others' codings are hidden until you submit your coding.";
const eventTypes = async (id: string) =>
  rowsOf<{ type: string }>(await app.deps.db.execute(sql`SELECT type FROM events WHERE entity_type = 'assignment' AND entity_id = ${id} ORDER BY id`)).map((r) => r.type);

describe('POST /assignments', () => {
  test('anonymous 401, contributors 403; a researcher assigns named coders, blind by default, with an event each', async () => {
    const o = await submitObservation(actors.contributor);
    const body = { observationIds: [o.id], coderIds: [coderA.id, coderB.id] };
    assert.equal((await actors.anon.post('/assignments', body)).status, 401);
    assert.equal((await actors.contributor.api.post('/assignments', body)).status, 403);
    const res = await actors.researcher.api.post('/assignments', body);
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.created.map((a: { coder: { id: string } }) => a.coder.id).sort(), [coderA.id, coderB.id].sort());
    assert.ok(res.body.created.every((a: { blind: boolean; state: string }) => a.blind && a.state === 'open'));
    assert.deepEqual(await eventTypes(res.body.created[0].id), ['assignment.created']);
    // The same again: everyone is assigned already.
    const again = await actors.admin.api.post('/assignments', body);
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /already assigned/);
  });

  test('"N coders" picks the researchers with the fewest open assignments and spreads the load', async () => {
    // Everyone who can code gets a fresh slate: count what they hold now and compare after.
    const coders = (await actors.researcher.api.get('/assignments/coders')).body.data as { id: string; openAssignments: number }[];
    assert.ok(coders.length >= 4);
    const obs = [await submitObservation(actors.contributor), await submitObservation(actors.contributor)];
    const res = await actors.researcher.api.post('/assignments', { observationIds: obs.map((o) => o.id), count: 2, blind: false });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.created.length, 4);
    const picked = res.body.created.map((a: { coder: { id: string } }) => a.coder.id);
    const least = [...coders].sort((a, b) => a.openAssignments - b.openAssignments);
    // The four picks go to the least busy first: nobody gets two while someone less busy got none.
    const after = (await actors.researcher.api.get('/assignments/coders')).body.data as { id: string; openAssignments: number }[];
    const open = new Map(after.map((c) => [c.id, c.openAssignments]));
    const max = Math.max(...picked.map((id: string) => open.get(id)!));
    const idle = least.filter((c) => !picked.includes(c.id));
    assert.ok(idle.every((c) => open.get(c.id)! >= max - 1), 'no idle coder left much less busy than a picked one');
    assert.ok(res.body.created.every((a: { blind: boolean }) => !a.blind));
    assert.equal(new Set(picked.slice(0, 2)).size, 2, 'two different coders per observation');
  });

  test('bad input: contributors as coders, unknown observations, both or neither of coderIds and count', async () => {
    const o = await submitObservation(actors.contributor);
    const contributorCoder = await actors.researcher.api.post('/assignments', { observationIds: [o.id], coderIds: [actors.contributor.id] });
    assert.equal(contributorCoder.status, 422);
    assert.match(contributorCoder.body.error.message, /contributor/);
    const unknown = await actors.researcher.api.post('/assignments', { observationIds: ['00000000-0000-4000-8000-000000000000'], count: 1 });
    assert.equal(unknown.status, 422);
    assert.equal((await actors.researcher.api.post('/assignments', { observationIds: [o.id] })).status, 422);
    assert.equal((await actors.researcher.api.post('/assignments', { observationIds: [o.id], count: 1, coderIds: [coderA.id] })).status, 422);
    assert.equal((await actors.researcher.api.post('/assignments', { observationIds: [o.id], count: 500 })).status, 422);
    assert.equal((await actors.researcher.api.get(`/assignments?observationId=${o.id}&coder=all`)).body.data.length, 0, 'nothing stored');
  });
});

describe('blind coding', () => {
  test('a blind coder sees only their own codings (page, API, lists, history, review queue) until they submit', async () => {
    const o = await submitObservation(actors.contributor);
    const judge = await makeClassifier(app.deps.db, actors.researcher.id);
    // Others coded it before the assignment: a researcher by hand, a classifier by proposal.
    const theirs = await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'REF-FULL', rationale: 'Theirs.' });
    assert.equal(theirs.status, 201);
    await insertProposal(app.deps.db, { observationId: o.id, code: 'FAB-FACT', classifier: judge, coderId: actors.researcher.id });
    const made = await actors.researcher.api.post('/assignments', { observationIds: [o.id], coderIds: [coderA.id] });
    const assignment = made.body.created[0];
    const mine = await coderA.api.post(`/observations/${o.id}/codings`, { code: 'REF-PART', rationale: 'Mine.' });
    assert.equal(mine.status, 201);

    // API: only their own codings, and the notice.
    const view = await coderA.api.get(`/observations/${o.id}`);
    assert.deepEqual(view.body.codings.map((c: { id: string }) => c.id), [mine.body.id]);
    assert.equal(view.body.codingsHidden, HIDDEN);
    const list = await coderA.api.get(`/observations/${o.id}/codings`);
    assert.deepEqual(list.body.data.map((c: { id: string }) => c.id), [mine.body.id]);
    assert.equal(list.body.codingsHidden, HIDDEN);
    const history = await coderA.api.get(`/observations/${o.id}/history`);
    assert.ok(!history.text.includes(theirs.body.id), 'the history does not show others’ codings');
    const listed = await coderA.api.get(`/observations?q=&pageSize=100`);
    const row = listed.body.data.find((r: { id: string }) => r.id === o.id);
    assert.deepEqual(row.behaviours.map((b: { code: string }) => b.code), ['REF-PART']);
    assert.deepEqual((await coderA.api.get(`/review?observationId=${o.id}`)).body.data, [], 'no proposals of it in their queue');
    const byOthersCode = await coderA.api.get('/observations?behaviour=REF-FULL&pageSize=100');
    assert.ok(!byOthersCode.body.data.some((r: { id: string }) => r.id === o.id), 'filtering by a code only others used does not reveal it');
    const byOwnCode = await coderA.api.get('/observations?behaviour=REF-PART&pageSize=100');
    assert.ok(byOwnCode.body.data.some((r: { id: string }) => r.id === o.id), 'their own code finds it');
    assert.ok((await coderB.api.get('/observations?behaviour=REF-FULL&pageSize=100')).body.data.some((r: { id: string }) => r.id === o.id), 'others are not affected');
    // Others still see everything.
    const full = await coderB.api.get(`/observations/${o.id}`);
    assert.equal(full.body.codings.length, 3);
    assert.equal(full.body.codingsHidden, undefined);

    // The page says so, and shows no other coding.
    const web = await signedInWeb(app, coderA);
    const page = await web.get(`/observations/${o.id}`);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes('Others&#x27; codings are hidden until you submit your coding.'), 'the notice is on the page');
    assert.ok(page.text.includes('Mine.'));
    assert.ok(!page.text.includes('Theirs.'), 'the other researcher’s rationale is not on the page');
    assert.ok(page.text.includes(`/assignments/${assignment.id}/submit`), 'the page offers "Submit my coding"');

    // Only the coder submits.
    assert.equal((await actors.anon.post(`/assignments/${assignment.id}/submit`)).status, 401);
    assert.equal((await coderB.api.post(`/assignments/${assignment.id}/submit`)).status, 403);
    assert.equal((await actors.researcher.api.post(`/assignments/${assignment.id}/submit`)).status, 403);
    const submitted = await coderA.api.post(`/assignments/${assignment.id}/submit`);
    assert.equal(submitted.status, 200, submitted.text);
    assert.equal(submitted.body.state, 'submitted');
    assert.equal((await coderA.api.post(`/assignments/${assignment.id}/submit`)).status, 409);
    assert.deepEqual(await eventTypes(assignment.id), ['assignment.created', 'assignment.submitted']);

    // After submitting: everything is visible again.
    const after = await coderA.api.get(`/observations/${o.id}`);
    assert.equal(after.body.codings.length, 3);
    assert.equal(after.body.codingsHidden, undefined);
    const pageAfter = await web.get(`/observations/${o.id}`);
    assert.ok(pageAfter.text.includes('Theirs.'));
    assert.ok(!pageAfter.text.includes('hidden until you submit'));
    assert.equal((await coderA.api.get(`/review?observationId=${o.id}`)).body.data.length, 1);
    assert.ok((await coderA.api.get('/observations?behaviour=REF-FULL&pageSize=100')).body.data.some((r: { id: string }) => r.id === o.id));
  });

  test('a blind researcher may not review others’ proposals of the observation (403 saying why)', async () => {
    const o = await submitObservation(actors.contributor);
    const judge = await makeClassifier(app.deps.db, actors.researcher.id);
    const p = await insertProposal(app.deps.db, { observationId: o.id, code: 'FAB-FACT', classifier: judge, coderId: actors.researcher.id });
    await actors.researcher.api.post('/assignments', { observationIds: [o.id], coderIds: [coderB.id] });
    const refused = await coderB.api.post(`/codings/${p}/accept`);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /coding this observation blind/);
  });

  test('withdrawing an assignment (researchers) ends the blindness; listing is per coder', async () => {
    const o = await submitObservation(actors.contributor);
    await actors.researcher.api.post(`/observations/${o.id}/codings`, { code: 'REF-FULL' });
    const made = await actors.researcher.api.post('/assignments', { observationIds: [o.id], coderIds: [coderA.id] });
    const id = made.body.created[0].id;
    const mineOpen = await coderA.api.get('/assignments');
    assert.ok(mineOpen.body.data.some((a: { id: string }) => a.id === id));
    assert.equal((await coderB.api.get('/assignments')).body.data.some((a: { id: string }) => a.id === id), false);
    assert.equal((await actors.contributor.api.get('/assignments?coder=all')).status, 403);
    assert.equal((await actors.contributor.api.get('/assignments')).status, 200, 'anyone signed in lists their own');
    assert.equal((await actors.anon.get('/assignments')).status, 401);
    assert.equal((await coderA.api.get(`/observations/${o.id}`)).body.codings.length, 0);

    assert.equal((await actors.anon.post(`/assignments/${id}/withdraw`)).status, 401);
    assert.equal((await actors.contributor.api.post(`/assignments/${id}/withdraw`)).status, 403);
    const withdrawn = await actors.admin.api.post(`/assignments/${id}/withdraw`);
    assert.equal(withdrawn.status, 200, withdrawn.text);
    assert.equal(withdrawn.body.state, 'withdrawn');
    assert.equal((await actors.admin.api.post(`/assignments/${id}/withdraw`)).status, 409);
    assert.equal((await coderA.api.post(`/assignments/${id}/submit`)).status, 409);
    assert.deepEqual(await eventTypes(id), ['assignment.created', 'assignment.withdrawn']);
    assert.equal((await coderA.api.get(`/observations/${o.id}`)).body.codings.length, 1);
    // It can be assigned again.
    assert.equal((await actors.researcher.api.post('/assignments', { observationIds: [o.id], coderIds: [coderA.id] })).status, 201);
    const unknown = '00000000-0000-4000-8000-000000000000';
    assert.equal((await actors.researcher.api.post(`/assignments/${unknown}/withdraw`)).status, 404);
    assert.equal((await coderA.api.post(`/assignments/${unknown}/submit`)).status, 404);
    assert.equal((await coderA.api.post('/assignments/nope/submit')).status, 404);
  });
});
