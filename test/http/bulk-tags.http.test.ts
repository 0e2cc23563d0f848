import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { after, before, describe, test } from 'node:test';
import { rowsOf } from '../../core/db.ts';
import { makeActors, signedInWeb } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let mine: string[];
let theirs: string;
let publicOne: string;

async function state(ids: string[]) {
  const list = `{${ids.join(',')}}`;
  return rowsOf<{ id: string; tags: string[]; revision: number; events: number }>(
    await app.deps.db.execute(sql`SELECT o.id, o.tags, o.revision,
        (SELECT count(*)::int FROM events e WHERE e.entity_id = o.id::text AND e.type = 'observation.tagged') AS events
      FROM observations o WHERE o.id = ANY(${list}::uuid[]) ORDER BY o.id`),
  ).map((r) => ({ ...r, revision: Number(r.revision), events: Number(r.events) }));
}

before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
  mine = [];
  for (let i = 0; i < 3; i++) mine.push((await submitObservation(actors.contributor, { title: `Mine ${i}`, tags: i === 0 ? ['refusal', 'keep'] : ['keep'] })).id);
  theirs = (await submitObservation(actors.researcher, { title: 'Theirs', tags: ['refusal-over'] })).id;
  publicOne = (await submitObservation(actors.researcher, { title: 'Public one', tags: ['reflection'], visibility: 'public' })).id;
});
after(() => app.close());

describe('tag suggestions', () => {
  test('suggests tags in use by prefix, most used first, with counts', async () => {
    const res = await actors.contributor.api.get('/tags/suggest?prefix=RE');
    assert.equal(res.status, 200);
    const tags = res.body.data.map((t: { tag: string }) => t.tag);
    assert.deepEqual(new Set(tags), new Set(['refusal', 'refusal-over', 'reflection']));
    const keep = await actors.contributor.api.get('/tags/suggest?prefix=ke');
    assert.deepEqual(keep.body.data, [{ tag: 'keep', count: 3 }]);
    assert.deepEqual((await actors.contributor.api.get('/tags/suggest?prefix=zz')).body.data, []);
  });

  test('anonymous visitors are offered public observations\' tags only; bad queries are 422', async () => {
    const res = await actors.anon.get('/tags/suggest?prefix=re');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.map((t: { tag: string }) => t.tag), ['reflection']);
    assert.equal((await actors.contributor.api.get('/tags/suggest?prefix=re&limit=0')).status, 422);
    assert.equal((await actors.contributor.api.get(`/tags/suggest?prefix=${'x'.repeat(51)}`)).status, 422);
  });
});

describe('bulk tagging (API)', () => {
  test('adds and removes tags on many observations at once, each keeping a revision and an event', async () => {
    const beforeState = await state(mine);
    const res = await actors.contributor.api.post('/observations/bulk-tags', { ids: mine, add: ['Loop', 'keep'], remove: ['refusal'] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.changed.length, 3);
    const afterState = await state(mine);
    for (const row of afterState) {
      const old = beforeState.find((r) => r.id === row.id)!;
      assert.ok(row.tags.includes('loop') && row.tags.includes('keep') && !row.tags.includes('refusal'), JSON.stringify(row.tags));
      assert.equal(row.revision, old.revision + 1);
      assert.equal(row.events, old.events + 1);
    }
    const again = await actors.contributor.api.post('/observations/bulk-tags', { ids: mine, add: ['loop'] });
    assert.deepEqual(again.body.changed, []);
    assert.equal(again.body.unchanged.length, 3);
  });

  test('a contributor cannot tag someone else\'s observation: 403 naming it, and nothing changes', async () => {
    const beforeState = await state([...mine, theirs]);
    const res = await actors.contributor.api.post('/observations/bulk-tags', { ids: [...mine, theirs], add: ['sneaky'] });
    assert.equal(res.status, 403);
    assert.match(res.body.error.message, /Theirs/);
    assert.deepEqual(await state([...mine, theirs]), beforeState);
    const researcher = await actors.researcher.api.post('/observations/bulk-tags', { ids: [...mine, theirs], add: ['triaged-batch'] });
    assert.equal(researcher.status, 200);
    assert.equal(researcher.body.changed.length, 4);
  });

  test('bad input is refused whole: unknown ids, no tags, bad tags, too many tags, anonymous', async () => {
    const snapshot = await state(mine);
    const unknown = await actors.researcher.api.post('/observations/bulk-tags', { ids: [mine[0], '00000000-0000-4000-8000-000000000000'], add: ['x'] });
    assert.equal(unknown.status, 404);
    assert.equal((await actors.researcher.api.post('/observations/bulk-tags', { ids: mine })).status, 422);
    assert.equal((await actors.researcher.api.post('/observations/bulk-tags', { ids: [], add: ['x'] })).status, 422);
    assert.equal((await actors.researcher.api.post('/observations/bulk-tags', { ids: ['nope'], add: ['x'] })).status, 422);
    assert.equal((await actors.researcher.api.post('/observations/bulk-tags', { ids: mine, add: ['-bad'] })).status, 422);
    const many = Array.from({ length: 28 }, (_, i) => `t${i}`);
    const tooMany = await actors.researcher.api.post('/observations/bulk-tags', { ids: mine, add: many });
    assert.equal(tooMany.status, 422);
    assert.match(tooMany.body.error.message, /at most 30/);
    assert.equal((await actors.anon.post('/observations/bulk-tags', { ids: mine, add: ['x'] })).status, 401);
    assert.deepEqual(await state(mine), snapshot);
  });
});

describe('bulk tagging (list page)', () => {
  test('signed-in people tick observations and tag them; a problem keeps the selection and the typed tags', async () => {
    const web = await signedInWeb(app, actors.contributor);
    const list = await web.get('/observations?sort=created_desc');
    assert.equal(list.status, 200);
    assert.match(list.text, /id="bulk-form"/);
    assert.match(list.text, new RegExp(`name="ids" value="${mine[1]}" form="bulk-form"`));
    const done = await web.form('/observations/bulk-tags?sort=created_desc', { ids: [mine[1]!, mine[2]!], tags: 'Page-Tag, second', action: 'add' });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/observations?sort=created_desc');
    const rows = await state([mine[1]!, mine[2]!]);
    for (const row of rows) assert.ok(row.tags.includes('page-tag') && row.tags.includes('second'));
    const shown = await web.get('/observations?sort=created_desc');
    assert.match(shown.text, /Added Page-Tag, second to 2 observations/);

    const removed = await web.form('/observations/bulk-tags', { ids: [mine[1]!], tags: 'second', action: 'remove' });
    assert.equal(removed.status, 303);
    assert.ok(!(await state([mine[1]!]))[0]!.tags.includes('second'));

    const refused = await web.form('/observations/bulk-tags?sort=created_desc', { ids: [mine[1]!, theirs], tags: 'kept text', action: 'add' });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /You may not tag/);
    assert.match(refused.text, /value="kept text"/);
    assert.match(refused.text, new RegExp(`value="${mine[1]}" form="bulk-form" id="select-${mine[1]}" aria-label="[^"]*" checked`));
    const empty = await web.form('/observations/bulk-tags', { tags: 'x', action: 'add' });
    assert.equal(empty.status, 422);
    assert.match(empty.text, /Select at least one observation/);
  });

  test('anonymous visitors get no selection boxes', async () => {
    const res = await fetch(`${app.url}/observations`);
    const text = await res.text();
    assert.doesNotMatch(text, /bulk-form/);
    assert.doesNotMatch(text, /select-item/);
  });
});
