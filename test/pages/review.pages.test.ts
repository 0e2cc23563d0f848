import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeActors, makeUser, signedInWeb, WebClient, type TestUser } from '../support/clients.ts';
import { ensureStarterEthogram } from '../support/ethogram-fixture.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { codingState, insertProposal, makeClassifier } from '../support/proposal-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let judge: Awaited<ReturnType<typeof makeClassifier>>;
let coder: TestUser;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  await ensureStarterEthogram(app.deps.db);
  actors = await makeActors(app);
  coder = await makeUser(app, 'researcher', 'coder');
  judge = await makeClassifier(app.deps.db, actors.researcher.id, { name: 'Haiku judge' });
});
after(() => app.close());

const reply = 'I am sorry, I cannot read PDFs. The paper shows that zebras sleep standing up.';
const span = { messageId: 'm3', partIndex: 0, start: 32, end: 46, quote: reply.slice(32, 46) };
const proposal = (observationId: string, over: Partial<Parameters<typeof insertProposal>[1]> = {}) =>
  insertProposal(app.deps.db, { observationId, code: 'FAB-FACT', classifier: judge, coderId: actors.researcher.id, span, confidence: 0.72, rationale: 'Zebras lie down to sleep.', ...over });

describe('/review', () => {
  test('anonymous visitors are sent to sign in, contributors 403; researchers and admins see the queue', async () => {
    const anon = await new WebClient(app.url).get('/review');
    assert.equal(anon.status, 303);
    assert.match(anon.headers.get('location') ?? '', /^\/login\?next=%2Freview/);
    assert.equal((await (await signedInWeb(app, actors.contributor)).get('/review')).status, 403);
    const o = await submitObservation(actors.contributor, { title: 'Zebras & <sleep>' });
    const id = await proposal(o.id);
    for (const who of [actors.researcher, actors.admin]) {
      const page = await (await signedInWeb(app, who)).get(`/review?observationId=${o.id}`);
      assert.equal(page.status, 200);
      assert.ok(page.text.includes(`id="proposal-${id}"`));
      assert.ok(page.text.includes('Zebras &amp; &lt;sleep&gt;'), 'the title, escaped');
      assert.ok(page.text.includes(`${reply.slice(0, 32)}<mark class="review-span">${reply.slice(32, 46)}</mark>${reply.slice(46)}`), 'the quote highlighted in its context');
      assert.ok(page.text.includes('Haiku judge (LLM judge)'));
      assert.ok(page.text.includes('0.72'));
      assert.ok(page.text.includes('Zebras lie down to sleep.'));
      assert.ok(page.text.includes('Definition of FAB-FACT'));
      assert.match(page.text, /<span data-review-count>1<\/span> <span data-review-noun>proposal<\/span> waiting/);
    }
    const observationPage = await (await signedInWeb(app, actors.researcher)).get(`/observations/${o.id}`);
    assert.ok(observationPage.text.includes(`href="/review?observationId=${o.id}">Review 1 proposed code</a>`), 'the observation page links to its proposals');
    const bad = await (await signedInWeb(app, actors.researcher)).get('/review?minConfidence=7');
    assert.equal(bad.status, 422);
    assert.ok(bad.text.includes('id="review-min-error">'));
  });

  test('accept, reject and edit forms decide and come back to the same queue view with a flash', async () => {
    const web = await signedInWeb(app, actors.researcher);
    const o = await submitObservation(actors.contributor);
    const [a, r, e, bad] = [await proposal(o.id), await proposal(o.id), await proposal(o.id), await proposal(o.id)];
    const returnTo = `?observationId=${o.id}`;
    await web.get(`/review${returnTo}`);
    const accepted = await web.form(`/review/${a}/accept`, { returnTo });
    assert.equal(accepted.status, 303);
    assert.equal(accepted.headers.get('location'), `/review${returnTo}`);
    assert.equal((await codingState(app.deps.db, a))!.status, 'accepted');
    const page = await web.get(`/review${returnTo}`);
    assert.match(page.text, /Accepted FAB-FACT on/);
    assert.ok(!page.text.includes(`id="proposal-${a}"`));

    assert.equal((await web.form(`/review/${r}/reject`, { returnTo, reason: 'They do lie down.' })).status, 303);
    assert.equal((await codingState(app.deps.db, r))!.status, 'rejected');

    const edited = await web.form(`/review/${e}/edit`, { returnTo, code: 'FAB-CITE', messageId: 'm3', partIndex: '0', origStart: '32', origEnd: '46', start: '32', end: '46' });
    assert.equal(edited.status, 303);
    const state = await codingState(app.deps.db, e);
    assert.deepEqual([state!.status, state!.behaviour_code, state!.char_start, state!.char_end], ['accepted', 'FAB-CITE', 32, 46]);

    // A bad edit renders the queue again with the message beside the field, nothing stored.
    const wrong = await web.form(`/review/${bad}/edit`, { returnTo, code: 'FAB-FACT', messageId: 'm3', partIndex: '0', origStart: '32', origEnd: '46', start: '32', end: '999' });
    assert.equal(wrong.status, 422);
    assert.ok(wrong.text.includes(`id="edit-end-${bad}-error">End must be at most`));
    assert.ok(wrong.text.includes('value="999"'), 'the input is kept');
    assert.equal((await codingState(app.deps.db, bad))!.status, 'proposed');

    // Deciding again: the flash says who decided.
    const again = await web.form(`/review/${a}/reject`, { returnTo });
    assert.equal(again.status, 303);
    assert.match((await web.get(`/review${returnTo}`)).text, /already accepted by researcher/);
    // Contributors cannot post decisions.
    const contributorWeb = await signedInWeb(app, actors.contributor);
    await contributorWeb.get('/assignments');
    assert.equal((await contributorWeb.form(`/review/${bad}/accept`, { returnTo })).status, 403);
  });

  test('bulk: the selected proposals are accepted', async () => {
    const web = await signedInWeb(app, actors.admin);
    const o = await submitObservation(actors.contributor);
    const [x, y, z] = [await proposal(o.id), await proposal(o.id), await proposal(o.id)];
    await web.get(`/review?observationId=${o.id}`);
    const res = await web.form('/review/bulk', { action: 'accept', ids: [x, y], returnTo: `?observationId=${o.id}` });
    assert.equal(res.status, 303);
    assert.deepEqual([(await codingState(app.deps.db, x))!.status, (await codingState(app.deps.db, y))!.status, (await codingState(app.deps.db, z))!.status], ['accepted', 'accepted', 'proposed']);
    assert.match((await web.get('/review')).text, /Accepted 2 proposals/);
  });
});

describe('/assignments', () => {
  test('assign from an observation, see it listed, submit it from the observation page; withdraw', async () => {
    const o = await submitObservation(actors.contributor, { title: 'Blind one' });
    const researcher = await signedInWeb(app, actors.researcher);
    const obsPage = await researcher.get(`/observations/${o.id}`);
    assert.ok(obsPage.text.includes(`/assignments/new?ids=${o.id}`), 'researchers get "Assign coders"');
    const form = await researcher.get(`/assignments/new?ids=${o.id}`);
    assert.equal(form.status, 200);
    assert.ok(form.text.includes('Blind one'));
    const contributorWeb = await signedInWeb(app, actors.contributor);
    assert.equal((await contributorWeb.get(`/assignments/new?ids=${o.id}`)).status, 403);
    assert.ok(!(await contributorWeb.get(`/observations/${o.id}`)).text.includes('/assignments/new'), 'contributors get no Assign button');

    const none = await researcher.form('/assignments/new', { ids: o.id, mode: 'named', blind: 'on' });
    assert.equal(none.status, 422, 'named with no coders chosen');
    assert.ok(none.text.includes('Blind one'), 'the form comes back with the observations');
    const made = await researcher.form('/assignments/new', { ids: o.id, mode: 'named', coderIds: coder.id, blind: 'on' });
    assert.equal(made.status, 303);
    assert.match((await researcher.get('/assignments')).text, /Made 1 assignment \(blind\)/);

    const coderWeb = await signedInWeb(app, coder);
    const mine = await coderWeb.get('/assignments');
    assert.equal(mine.status, 200);
    assert.ok(mine.text.includes('Blind one'));
    const assignmentId = /action="\/assignments\/([0-9a-f-]{36})\/submit"/.exec(mine.text)![1]!;
    assert.equal((await contributorWeb.form(`/assignments/${assignmentId}/submit`, {})).status, 403);
    const submitted = await coderWeb.form(`/assignments/${assignmentId}/submit`, { next: `/observations/${o.id}` });
    assert.equal(submitted.status, 303);
    assert.equal(submitted.headers.get('location'), `/observations/${o.id}`);
    assert.match((await coderWeb.get(`/observations/${o.id}`)).text, /You submitted your coding of this observation/);

    // A second assignment, withdrawn by a researcher from the list.
    const other = await submitObservation(actors.contributor, { title: 'Second one' });
    assert.equal((await researcher.form('/assignments/new', { ids: other.id, mode: 'count', count: '1', blind: 'on' })).status, 303);
    const all = await researcher.get('/assignments');
    const withdrawId = new RegExp(`Second one[\\s\\S]*?action="/assignments/([0-9a-f-]{36})/withdraw"`).exec(all.text)![1]!;
    assert.equal((await contributorWeb.form(`/assignments/${withdrawId}/withdraw`, {})).status, 403);
    assert.equal((await researcher.form(`/assignments/${withdrawId}/withdraw`, {})).status, 303);
    assert.match((await researcher.get('/assignments')).text, /Withdrew/);
    assert.equal((await new WebClient(app.url).get('/assignments')).status, 303, 'anonymous: sign in first');
  });

  test('from the observation list: assign the selected ones, or all matching the filters', async () => {
    const tag = `assign-${Date.now()}`;
    const [a, b] = [await submitObservation(actors.contributor, { title: 'Tagged A', tags: [tag] }), await submitObservation(actors.contributor, { title: 'Tagged B', tags: [tag] })];
    const researcher = await signedInWeb(app, actors.researcher);
    const list = await researcher.get(`/observations?tag=${tag}`);
    assert.ok(list.text.includes('formaction="/assignments/choose"'));
    assert.ok(list.text.includes('Assign coders to all matching'));
    const contributorWeb = await signedInWeb(app, actors.contributor);
    assert.ok(!(await contributorWeb.get(`/observations?tag=${tag}`)).text.includes('/assignments/choose'), 'contributors get no assign actions');
    assert.equal((await contributorWeb.form('/assignments/choose', { ids: [a.id] })).status, 403);

    const chosen = await researcher.form('/assignments/choose', { ids: [a.id], tags: '', action: '' });
    assert.equal(chosen.status, 200);
    assert.ok(chosen.text.includes('Tagged A') && !chosen.text.includes('Tagged B'), 'only the selected one');
    const all = await researcher.get(`/assignments/new?tag=${tag}&q=&all=1`);
    assert.equal(all.status, 200);
    assert.ok(all.text.includes('Tagged A') && all.text.includes('Tagged B'), 'every observation matching the filters');
    const made = await researcher.form('/assignments/new', { ids: [a.id, b.id], mode: 'count', count: '1', blind: 'on' });
    assert.equal(made.status, 303);
    const assigned = await actors.researcher.api.get(`/assignments?coder=all&observationId=${b.id}`);
    assert.equal(assigned.body.data.length, 1);
  });
});
