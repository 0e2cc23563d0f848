import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { ETHOGRAM_FORMAT, type EthogramDocumentInput } from '../../ethograms/ethogram-document.schema.ts';
import { loadStarterEthogram } from '../../ethograms/load-starter.ts';
import { makeActors, type ApiClient } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
});
after(() => app.close());

type Who = 'anon' | 'contributor' | 'researcher' | 'admin';
const everyone: Who[] = ['anon', 'contributor', 'researcher', 'admin'];
const clientOf = (who: Who): ApiClient => (who === 'anon' ? actors.anon : actors[who].api);
/** Status an actor gets for a write they may not make on a visible thing. */
const refusedStatus = (who: Who) => (who === 'anon' ? 401 : 403);

let slugCounter = 0;
const freshSlug = (base = 'test') => `${base}-${Date.now().toString(36)}-${++slugCounter}`;

async function scalar(query: ReturnType<typeof sql>): Promise<number> {
  const [row] = rowsOf<{ n: number }>(await app.deps.db.execute(query));
  return Number(row?.n ?? 0);
}

/** Row counts of every table an ethogram write touches, to show that a refused request stored nothing. */
async function ethogramRowCounts() {
  return {
    ethograms: await scalar(sql`select count(*)::int as n from ethograms`),
    versions: await scalar(sql`select count(*)::int as n from ethogram_versions`),
    behaviours: await scalar(sql`select count(*)::int as n from behaviours`),
    events: await scalar(sql`select count(*)::int as n from events`),
    revisions: await scalar(sql`select count(*)::int as n from revisions`),
  };
}

function behaviour(code: string, overrides: Record<string, unknown> = {}) {
  return {
    key: `refusal.${code.toLowerCase()}`,
    code,
    name: `Behaviour ${code}`,
    category: 'refusal',
    kind: 'event',
    definition: `The assistant does the thing that ${code} names, observably in one turn.`,
    inclusion: ['It is visible in the transcript.'],
    exclusion: ['It is not.'],
    examples: { positive: ['User: Hi.\nAssistant: No.'], negative: ['User: Hi.\nAssistant: Hello!'] },
    colour: '#336699',
    ...overrides,
  };
}

function fixtureDocument(slug: string): EthogramDocumentInput {
  return {
    format: ETHOGRAM_FORMAT,
    slug,
    name: `Fixture ${slug}`,
    description: 'A small ethogram for tests.',
    version: { number: 1, notes: 'first' },
    categories: [
      { key: 'refusal', name: 'Refusal', description: '', parent: null },
      { key: 'over-refusal', name: 'Over-refusal', description: 'Unwarranted', parent: 'refusal' },
    ],
    modifierSets: [{ key: 'severity', name: 'Severity', type: 'single', values: ['mild', 'severe'] }],
    exclusiveGroups: [{ key: 'extent', name: 'Extent', behaviours: ['REF-FULL', 'REF-PART'] }],
    behaviours: [
      behaviour('REF-FULL', { hotkey: 'f', modifierSets: ['severity'] }),
      behaviour('REF-PART', { hotkey: 'p' }),
      behaviour('REF-OVER', { category: 'over-refusal', hotkey: 'o' }),
    ] as EthogramDocumentInput['behaviours'],
  };
}

async function importFixture(slug: string, publish: boolean) {
  const res = await actors.researcher.api.post(`/ethograms/import${publish ? '?publish=true' : ''}`, fixtureDocument(slug));
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** A researcher's new ethogram with one category, modifier set and two behaviours, still a draft. */
async function draftWithBehaviours(slug = freshSlug('draft')) {
  const api = actors.researcher.api;
  assert.equal((await api.post('/ethograms', { slug, name: `Draft ${slug}` })).status, 201);
  const patched = await api.patch(`/ethograms/${slug}/versions/1`, {
    categories: [{ key: 'refusal', name: 'Refusal', parent: null }],
    modifierSets: [{ key: 'severity', name: 'Severity', type: 'single', values: ['mild', 'severe'] }],
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal((await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-ONE`, behaviour('AAA-ONE', { hotkey: 'a' }))).status, 201);
  assert.equal((await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-TWO`, behaviour('AAA-TWO', { hotkey: 'b' }))).status, 201);
  return slug;
}

describe('the starter ethogram', () => {
  test('is loaded on first start, published, with at least 30 behaviours in at least 6 categories, visible anonymously', async () => {
    const list = await actors.anon.get('/ethograms');
    assert.equal(list.status, 200);
    const starter = list.body.data.find((e: { slug: string }) => e.slug === 'llm-starter');
    assert.ok(starter, 'the starter is listed');
    assert.equal(starter.latestPublishedVersion, 1);
    assert.ok(starter.behaviourCount >= 30, `${starter.behaviourCount} behaviours`);
    assert.equal('hasDraft' in starter, false, 'anonymous visitors are not told about drafts');

    const version = await actors.anon.get('/ethograms/llm-starter/versions/1');
    assert.equal(version.status, 200);
    assert.equal(version.body.status, 'published');
    assert.ok(version.body.behaviourCount >= 30);
    const used = version.body.categories.filter((c: { behaviours: unknown[] }) => c.behaviours.length > 0);
    assert.ok(used.length >= 6, `${used.length} categories with behaviours`);
    assert.deepEqual(version.body.uncategorised, []);
    assert.equal(version.body.problems, undefined, 'published versions carry no draft problems');
    const honesty = version.body.categories.findIndex((c: { key: string }) => c.key === 'honesty');
    assert.equal(version.body.categories[honesty + 1].parent, 'honesty', 'children follow their parent (tree order)');
    assert.equal(version.body.categories[honesty + 1].depth, 1);
  });

  test('loading it again does nothing', async () => {
    const before = await ethogramRowCounts();
    assert.equal(await loadStarterEthogram(app.deps.db, app.deps.now), null);
    assert.deepEqual(await ethogramRowCounts(), before);
  });

  test('two processes booting at once load it exactly once', async () => {
    const fresh = await startTestApp({ loadStarter: false });
    try {
      const results = await Promise.all([loadStarterEthogram(fresh.deps.db, fresh.deps.now), loadStarterEthogram(fresh.deps.db, fresh.deps.now)]);
      assert.equal(results.filter((r) => r === null).length, 1, JSON.stringify(results));
      assert.ok((results.find((r) => r !== null)?.behaviours ?? 0) >= 30);
      const [row] = rowsOf<{ n: number }>(await fresh.deps.db.execute(sql`select count(*)::int as n from ethograms where slug = 'llm-starter'`));
      assert.equal(Number(row?.n), 1);
      const [event] = rowsOf<{ n: number }>(await fresh.deps.db.execute(sql`select count(*)::int as n from events where type = 'ethogram.imported'`));
      assert.equal(Number(event?.n), 1, 'the import is recorded as one event');
    } finally {
      await fresh.close();
    }
  });
});

describe('reading published ethograms, as each actor', () => {
  for (const who of everyone) {
    test(`${who} reads the list, an ethogram, a version, a behaviour and the export`, async () => {
      const api = clientOf(who);
      assert.equal((await api.get('/ethograms')).status, 200);
      const ethogram = await api.get('/ethograms/llm-starter');
      assert.equal(ethogram.status, 200);
      assert.equal(ethogram.body.versions[0].status, 'published');
      const version = await api.get('/ethograms/llm-starter/versions/1');
      assert.equal(version.status, 200);
      const first = version.body.categories.find((c: { behaviours: unknown[] }) => c.behaviours.length > 0).behaviours[0];
      const one = await api.get(`/ethograms/llm-starter/versions/1/behaviours/${first.code}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.code, first.code);
      assert.equal(one.body.id, first.id);
      const exported = await api.get('/ethograms/llm-starter/versions/1/export');
      assert.equal(exported.status, 200);
      assert.match(exported.headers.get('content-disposition') ?? '', /^attachment; filename="llm-starter-v1\.ethogram\.json"$/);
      assert.equal(exported.body.format, ETHOGRAM_FORMAT);
      assert.equal(exported.body.behaviours.length, version.body.behaviourCount);
    });

    test(`${who} gets 404 for unknown ethograms, versions and behaviours`, async () => {
      const api = clientOf(who);
      assert.equal((await api.get('/ethograms/no-such-ethogram')).status, 404);
      assert.equal((await api.get('/ethograms/llm-starter/versions/99')).status, 404);
      assert.equal((await api.get('/ethograms/llm-starter/versions/abc')).status, 404);
      assert.equal((await api.get('/ethograms/llm-starter/versions/0')).status, 404);
      const missing = await api.get('/ethograms/llm-starter/versions/1/behaviours/NOPE-NOPE');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.id, 'not_found');
    });
  }
});

describe('drafts are visible to researchers and admins only', () => {
  let slug: string;
  before(async () => {
    slug = await draftWithBehaviours();
  });

  for (const who of ['anon', 'contributor'] as const) {
    test(`${who}: a draft-only ethogram does not exist (404) and is not listed`, async () => {
      const api = clientOf(who);
      const list = await api.get('/ethograms');
      assert.ok(!list.body.data.some((e: { slug: string }) => e.slug === slug));
      assert.equal((await api.get(`/ethograms/${slug}`)).status, 404);
      assert.equal((await api.get(`/ethograms/${slug}/versions/1`)).status, 404);
      assert.equal((await api.get(`/ethograms/${slug}/versions/1/export`)).status, 404);
      assert.equal((await api.get(`/ethograms/${slug}/versions/1/behaviours/AAA-ONE`)).status, 404);
      assert.equal((await api.patch(`/ethograms/${slug}/versions/1`, { notes: 'x' })).status, 404);
      assert.equal((await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-ONE`, behaviour('AAA-ONE'))).status, 404);
      assert.equal((await api.delete(`/ethograms/${slug}/versions/1/behaviours/AAA-ONE`)).status, 404);
      assert.equal((await api.post(`/ethograms/${slug}/versions/1/publish`)).status, 404);
      assert.equal((await api.post(`/ethograms/${slug}/versions/1/deprecate`)).status, 404);
      assert.equal((await api.post(`/ethograms/${slug}/drafts`)).status, 404);
      assert.equal((await api.delete(`/ethograms/${slug}/versions/1`)).status, 404);
    });
  }

  for (const who of ['researcher', 'admin'] as const) {
    test(`${who}: sees the draft, its behaviours, its problems and whether it has a draft`, async () => {
      const api = clientOf(who);
      const list = await api.get('/ethograms');
      const entry = list.body.data.find((e: { slug: string }) => e.slug === slug);
      assert.ok(entry);
      assert.equal(entry.hasDraft, true);
      assert.equal(entry.draftVersion, 1);
      assert.equal(entry.latestPublishedVersion, null);
      const version = await api.get(`/ethograms/${slug}/versions/1`);
      assert.equal(version.status, 200);
      assert.equal(version.body.status, 'draft');
      assert.deepEqual(version.body.problems, []);
      assert.deepEqual(version.body.categories[0].behaviours.map((b: { code: string }) => b.code), ['AAA-ONE', 'AAA-TWO']);
    });
  }
});

describe('creating, editing and publishing an ethogram', () => {
  for (const who of ['anon', 'contributor'] as const) {
    test(`${who} cannot create or import an ethogram, and nothing is stored`, async () => {
      const before = await ethogramRowCounts();
      const created = await clientOf(who).post('/ethograms', { slug: freshSlug(), name: 'Nope' });
      assert.equal(created.status, refusedStatus(who));
      const imported = await clientOf(who).post('/ethograms/import', fixtureDocument(freshSlug()));
      assert.equal(imported.status, refusedStatus(who));
      assert.deepEqual(await ethogramRowCounts(), before);
    });
  }

  for (const who of ['researcher', 'admin'] as const) {
    test(`${who} creates an ethogram, edits the draft and publishes it; then everyone can read it`, async () => {
      const api = clientOf(who);
      const slug = freshSlug(who);
      const created = await api.post('/ethograms', { slug, name: 'Persona drift', description: 'Drifts.' });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.headers.get('location'), `/api/v1/ethograms/${slug}`);
      assert.deepEqual(created.body.versions.map((v: { number: number; status: string }) => [v.number, v.status]), [[1, 'draft']]);

      const empty = await api.post(`/ethograms/${slug}/versions/1/publish`);
      assert.equal(empty.status, 422, 'an empty draft cannot be published');
      assert.match(empty.body.error.message, /Add at least one behaviour/);

      const meta = await api.patch(`/ethograms/${slug}/versions/1`, {
        notes: 'First cut',
        categories: [
          { key: 'persona', name: 'Persona', parent: null },
          { key: 'drift', name: 'Drift', parent: 'persona' },
        ],
      });
      assert.equal(meta.status, 200, meta.text);
      assert.equal(meta.body.notes, 'First cut');
      assert.deepEqual(meta.body.categories.map((c: { key: string; depth: number }) => [c.key, c.depth]), [['persona', 0], ['drift', 1]]);

      const add = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/PER-DRIFT`, behaviour('PER-DRIFT', { key: undefined, category: 'drift', hotkey: 'd' }));
      assert.equal(add.status, 201, add.text);
      assert.equal(add.body.key, 'drift.per-drift', 'a missing key is derived from category and code');
      const edit = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/PER-DRIFT`, behaviour('PER-DRIFT', { key: 'drift.per-drift', category: 'drift', name: 'Persona drift', hotkey: 'd' }));
      assert.equal(edit.status, 200, edit.text);
      assert.equal(edit.body.name, 'Persona drift');
      const rename = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/PER-DRIFT`, behaviour('PER-SHIFT', { key: 'drift.per-drift', category: 'drift', hotkey: 'd' }));
      assert.equal(rename.status, 200, rename.text);
      assert.equal(rename.body.code, 'PER-SHIFT');
      assert.equal(rename.body.id, add.body.id, 'a rename keeps the behaviour');
      assert.equal((await api.get(`/ethograms/${slug}/versions/1/behaviours/PER-DRIFT`)).status, 404);

      const published = await api.post(`/ethograms/${slug}/versions/1/publish`);
      assert.equal(published.status, 200, published.text);
      assert.equal(published.body.status, 'published');
      assert.ok(published.body.publishedAt);
      const seen = await actors.anon.get(`/ethograms/${slug}/versions/1`);
      assert.equal(seen.status, 200);
      assert.equal(seen.body.categories[1].behaviours[0].name, `Behaviour PER-SHIFT`);
    });
  }

  for (const who of ['researcher', 'admin'] as const) {
    test(`${who} imports a document as a draft, and as a published version`, async () => {
      const draft = await clientOf(who).post('/ethograms/import', fixtureDocument(freshSlug(who)));
      assert.equal(draft.status, 201, draft.text);
      assert.equal(draft.body.status, 'draft');
      assert.equal(draft.body.behaviourCount, 3);
      assert.deepEqual(draft.body.problems, []);
      const published = await clientOf(who).post('/ethograms/import?publish=true', fixtureDocument(freshSlug(who)));
      assert.equal(published.status, 201, published.text);
      assert.equal(published.body.status, 'published');
      assert.equal((await actors.anon.get(`/ethograms/${published.body.ethogram.slug}/versions/1`)).status, 200);
    });
  }

  test('a bad or taken slug is refused with a field message', async () => {
    const bad = await actors.researcher.api.post('/ethograms', { slug: 'Not A Slug', name: '' });
    assert.equal(bad.status, 422);
    assert.match(bad.body.error.details.fields.slug, /kebab-case/);
    assert.ok(bad.body.error.details.fields.name);
    const taken = await actors.researcher.api.post('/ethograms', { slug: 'llm-starter', name: 'Again' });
    assert.equal(taken.status, 409);
    assert.match(taken.body.error.details.fields.slug, /already taken/);
  });

  test('a new draft copies the latest version; only one draft at a time; who may open one', async () => {
    const slug = freshSlug('copy');
    await importFixture(slug, true);
    assert.equal((await actors.anon.post(`/ethograms/${slug}/drafts`)).status, 401);
    assert.equal((await actors.contributor.api.post(`/ethograms/${slug}/drafts`)).status, 403);
    const draft = await actors.researcher.api.post(`/ethograms/${slug}/drafts`);
    assert.equal(draft.status, 201, draft.text);
    assert.equal(draft.body.number, 2);
    assert.equal(draft.body.status, 'draft');
    assert.equal(draft.body.behaviourCount, 3);
    assert.deepEqual(draft.body.exclusiveGroups, fixtureDocument(slug).exclusiveGroups);
    const v1 = await actors.anon.get(`/ethograms/${slug}/versions/1`);
    const key = (b: { key: string }) => b.key;
    assert.deepEqual(draft.body.categories.flatMap((c: { behaviours: { key: string }[] }) => c.behaviours.map(key)), v1.body.categories.flatMap((c: { behaviours: { key: string }[] }) => c.behaviours.map(key)));
    const second = await actors.admin.api.post(`/ethograms/${slug}/drafts`);
    assert.equal(second.status, 409);
    assert.match(second.body.error.message, /already has a draft: version 2/);
    assert.equal((await actors.anon.get(`/ethograms/${slug}`)).body.versions.length, 1, 'the draft is not listed to anonymous visitors');
    assert.equal((await actors.researcher.api.get(`/ethograms/${slug}`)).body.versions.length, 2);
  });

  test('editing a draft with a stale revision is refused', async () => {
    const slug = await draftWithBehaviours();
    const current = await actors.researcher.api.get(`/ethograms/${slug}/versions/1`);
    const ok = await actors.researcher.api.patch(`/ethograms/${slug}/versions/1`, { notes: 'one', revision: current.body.revision });
    assert.equal(ok.status, 200);
    const stale = await actors.researcher.api.patch(`/ethograms/${slug}/versions/1`, { notes: 'two', revision: current.body.revision });
    assert.equal(stale.status, 409);
    assert.match(stale.body.error.message, /changed since you loaded it/);
    assert.equal((await actors.researcher.api.get(`/ethograms/${slug}/versions/1`)).body.notes, 'one');
  });
});

describe('published versions are immutable', () => {
  for (const who of ['researcher', 'admin'] as const) {
    test(`${who}: every edit of a published version is 409 immutable and nothing changes`, async () => {
      const api = clientOf(who);
      const before = await ethogramRowCounts();
      const exportBefore = await api.get('/ethograms/llm-starter/versions/1/export');
      const code = exportBefore.body.behaviours[0].code;
      const attempts = [
        await api.patch('/ethograms/llm-starter/versions/1', { notes: 'changed' }),
        await api.call('PUT', `/ethograms/llm-starter/versions/1/behaviours/${code}`, { ...exportBefore.body.behaviours[0], name: 'Changed' }),
        await api.call('PUT', '/ethograms/llm-starter/versions/1/behaviours/NEW-ONE', behaviour('NEW-ONE', { category: exportBefore.body.categories[0].key })),
        await api.delete(`/ethograms/llm-starter/versions/1/behaviours/${code}`),
        await api.post('/ethograms/llm-starter/versions/1/publish'),
        await api.delete('/ethograms/llm-starter/versions/1'),
      ];
      for (const res of attempts) {
        assert.equal(res.status, 409, res.text);
        assert.equal(res.body.error.id, 'immutable');
        assert.match(res.body.error.message, /published and cannot be changed/);
      }
      assert.deepEqual(await ethogramRowCounts(), before);
      assert.deepEqual((await api.get('/ethograms/llm-starter/versions/1/export')).body, exportBefore.body);
    });
  }

  for (const who of ['anon', 'contributor'] as const) {
    test(`${who}: edits of a published version are refused before anything else`, async () => {
      const api = clientOf(who);
      const before = await ethogramRowCounts();
      assert.equal((await api.patch('/ethograms/llm-starter/versions/1', { notes: 'x' })).status, refusedStatus(who));
      assert.equal((await api.call('PUT', '/ethograms/llm-starter/versions/1/behaviours/REF-FULL', behaviour('REF-FULL'))).status, refusedStatus(who));
      assert.equal((await api.delete('/ethograms/llm-starter/versions/1/behaviours/REF-FULL')).status, refusedStatus(who));
      assert.equal((await api.post('/ethograms/llm-starter/versions/1/publish')).status, refusedStatus(who));
      assert.equal((await api.post('/ethograms/llm-starter/versions/1/deprecate')).status, refusedStatus(who));
      assert.deepEqual(await ethogramRowCounts(), before);
    });
  }
});

describe('validation', () => {
  test('an invalid document is refused with field paths and nothing is stored', async () => {
    const document = fixtureDocument(freshSlug('invalid'));
    document.behaviours[1]!.code = 'REF-FULL';
    document.behaviours[2]!.category = 'refusals';
    const before = await ethogramRowCounts();
    const res = await actors.researcher.api.post('/ethograms/import?publish=true', document);
    assert.equal(res.status, 422);
    assert.equal(res.body.error.id, 'validation_failed');
    assert.match(res.body.error.details.fields['behaviours.1.code'], /duplicate behaviour code "REF-FULL"/);
    assert.match(res.body.error.details.fields['behaviours.2.category'], /"refusals" does not exist/);
    assert.deepEqual(await ethogramRowCounts(), before);
    const malformed = await actors.researcher.api.post('/ethograms/import', '{"format": ');
    assert.equal(malformed.status, 400);
    assert.deepEqual(await ethogramRowCounts(), before);
  });

  test('a duplicate code, key or hotkey in a draft is a 409 naming the clash; nothing changes', async () => {
    const slug = await draftWithBehaviours();
    const api = actors.researcher.api;
    const before = await ethogramRowCounts();
    const renameOnto = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-TWO`, behaviour('AAA-ONE', { key: 'refusal.aaa-two', hotkey: 'b' }));
    assert.equal(renameOnto.status, 409);
    assert.match(renameOnto.body.error.details.fields.code, /AAA-ONE is already used by "Behaviour AAA-ONE"/);
    const sameHotkey = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-THREE`, behaviour('AAA-THREE', { hotkey: 'a' }));
    assert.equal(sameHotkey.status, 409);
    assert.match(sameHotkey.body.error.details.fields.hotkey, /already used by AAA-ONE/);
    const sameKey = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-THREE`, behaviour('AAA-THREE', { key: 'refusal.aaa-one' }));
    assert.equal(sameKey.status, 409);
    assert.ok(sameKey.body.error.details.fields.key);
    assert.deepEqual(await ethogramRowCounts(), before);
  });

  test('a behaviour with bad fields or unknown references is a 422 with field messages', async () => {
    const slug = await draftWithBehaviours();
    const api = actors.researcher.api;
    const before = await ethogramRowCounts();
    const { definition: _definition, ...noDefinition } = behaviour('AAA-NEW');
    const missing = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-NEW`, { ...noDefinition, colour: 'red', hotkey: 'AB' });
    assert.equal(missing.status, 422);
    const fields = missing.body.error.details.fields;
    assert.ok(fields.definition);
    assert.match(fields.colour, /#rrggbb/);
    assert.match(fields.hotkey, /single lowercase letter/);
    const unknown = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-NEW`, behaviour('AAA-NEW', { category: 'nowhere', modifierSets: ['mood'] }));
    assert.equal(unknown.status, 422);
    assert.match(unknown.body.error.details.fields.category, /not defined in this draft; choose one of: refusal/);
    assert.match(unknown.body.error.details.fields.modifierSets, /"mood"/);
    const extra = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-NEW`, { ...behaviour('AAA-NEW'), severity: 'high' });
    assert.equal(extra.status, 422);
    const mismatch = await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-NEW`, behaviour('AAA-OTHER'));
    assert.equal(mismatch.status, 422);
    assert.ok(mismatch.body.error.details.fields.code);
    assert.deepEqual(await ethogramRowCounts(), before);
  });

  test('removing a category still in use, or a cycle of categories, is refused', async () => {
    const slug = await draftWithBehaviours();
    const api = actors.researcher.api;
    const inUse = await api.patch(`/ethograms/${slug}/versions/1`, { categories: [{ key: 'other', name: 'Other', parent: null }] });
    assert.equal(inUse.status, 422);
    assert.match(inUse.body.error.details.fields.categories, /behaviour AAA-ONE still uses it/);
    const cycle = await api.patch(`/ethograms/${slug}/versions/1`, {
      categories: [
        { key: 'refusal', name: 'Refusal', parent: 'b' },
        { key: 'b', name: 'B', parent: 'refusal' },
      ],
    });
    assert.equal(cycle.status, 422);
    assert.match(JSON.stringify(cycle.body.error.details.fields), /cycle/);
    const version = await api.get(`/ethograms/${slug}/versions/1`);
    assert.deepEqual(version.body.categories.map((c: { key: string }) => c.key), ['refusal']);
  });

  test('publishing a draft that breaks a document rule is 422 listing the problems; it stays a draft', async () => {
    const slug = freshSlug('broken');
    await importFixture(slug, false);
    const api = actors.researcher.api;
    assert.equal((await api.delete(`/ethograms/${slug}/versions/1/behaviours/REF-PART`)).status, 204, 'deleting is allowed in a draft');
    const version = await api.get(`/ethograms/${slug}/versions/1`);
    assert.equal(version.body.problems.length, 1);
    assert.match(version.body.problems[0].message, /exclusive group "extent" lists "REF-PART"/);
    const publish = await api.post(`/ethograms/${slug}/versions/1/publish`);
    assert.equal(publish.status, 422);
    assert.ok(publish.body.error.details.fields['exclusiveGroups.0.behaviours.1']);
    assert.equal((await api.get(`/ethograms/${slug}/versions/1`)).body.status, 'draft');
  });
});

describe('import and export', () => {
  test('round trip: export, import under a new slug, export again gives the same content', async () => {
    const exported = await actors.anon.get('/ethograms/llm-starter/versions/1/export');
    const slug = freshSlug('starter-copy');
    const imported = await actors.researcher.api.post('/ethograms/import?publish=true', { ...exported.body, slug });
    assert.equal(imported.status, 201, imported.text);
    assert.equal(imported.body.status, 'published');
    assert.equal(imported.body.created, true);
    assert.equal(imported.headers.get('location'), `/api/v1/ethograms/${slug}/versions/1`);
    const again = await actors.anon.get(`/ethograms/${slug}/versions/1/export`);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.behaviours, exported.body.behaviours);
    assert.deepEqual(again.body.categories, exported.body.categories);
    assert.deepEqual(again.body.modifierSets, exported.body.modifierSets);
    assert.deepEqual(again.body.exclusiveGroups, exported.body.exclusiveGroups);
    assert.deepEqual({ ...again.body, slug: 'x' }, { ...exported.body, slug: 'x' });
  });

  test('an existing slug is a 409 unless a new version is asked for; not while a draft is open', async () => {
    const slug = freshSlug('versions');
    await importFixture(slug, true);
    const clash = await actors.researcher.api.post('/ethograms/import', fixtureDocument(slug));
    assert.equal(clash.status, 409);
    assert.match(clash.body.error.message, /already exists/);
    const renamed = { ...fixtureDocument(slug), name: 'Renamed fixture' };
    const next = await actors.researcher.api.post('/ethograms/import?newVersion=true', renamed);
    assert.equal(next.status, 201, next.text);
    assert.equal(next.body.number, 2);
    assert.equal(next.body.status, 'draft');
    assert.equal(next.body.created, false);
    assert.equal(next.body.ethogram.name, 'Renamed fixture');
    const whileDraft = await actors.researcher.api.post('/ethograms/import?newVersion=true&publish=true', fixtureDocument(slug));
    assert.equal(whileDraft.status, 409);
    assert.match(whileDraft.body.error.message, /has a draft \(version 2\)/);
    const kept = await scalar(sql`select count(*)::int as n from revisions where entity_type = 'ethogram' and snapshot->>'name' = ${`Fixture ${slug}`}`);
    assert.equal(kept, 1, 'the previous name is kept as a revision');
  });

  test('a draft can be exported by researchers as it stands', async () => {
    const slug = await draftWithBehaviours();
    const res = await actors.researcher.api.get(`/ethograms/${slug}/versions/1/export`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.behaviours.map((b: { code: string }) => b.code), ['AAA-ONE', 'AAA-TWO']);
  });
});

describe('history', () => {
  test('every draft edit keeps a revision of the state before it; deletion leaves a tombstone', async () => {
    const slug = await draftWithBehaviours();
    const api = actors.researcher.api;
    const version = await api.get(`/ethograms/${slug}/versions/1`);
    const versionId = version.body.id as string;
    const one = version.body.categories[0].behaviours[0];
    const versionRevisions = () => scalar(sql`select count(*)::int as n from revisions where entity_type = 'ethogram_version' and entity_id = ${versionId}`);
    // draftWithBehaviours made three edits: the lists and two behaviours.
    assert.equal(await versionRevisions(), 3);
    assert.equal(version.body.revision, 4);

    await api.patch(`/ethograms/${slug}/versions/1`, { notes: 'Second thoughts' });
    assert.equal(await versionRevisions(), 4);
    const [notesBefore] = rowsOf<{ snapshot: { notes: string }; revision: number; actor_id: string }>(
      await app.deps.db.execute(sql`select snapshot, revision, actor_id from revisions where entity_type = 'ethogram_version' and entity_id = ${versionId} order by revision desc limit 1`),
    );
    assert.equal(notesBefore?.snapshot.notes, '');
    assert.equal(notesBefore?.revision, 4);
    assert.equal(notesBefore?.actor_id, actors.researcher.id);

    await api.call('PUT', `/ethograms/${slug}/versions/1/behaviours/AAA-ONE`, behaviour('AAA-ONE', { name: 'Renamed one', hotkey: 'a' }));
    await api.delete(`/ethograms/${slug}/versions/1/behaviours/AAA-ONE`);
    const behaviourRevisions = rowsOf<{ snapshot: { name: string; code: string }; reason: string }>(
      await app.deps.db.execute(sql`select snapshot, reason from revisions where entity_type = 'behaviour' and entity_id = ${one.id} order by revision`),
    );
    assert.deepEqual(behaviourRevisions.map((r) => r.snapshot.name), ['Behaviour AAA-ONE', 'Renamed one']);
    assert.match(behaviourRevisions[1]!.reason, /deleted/);
    assert.equal(await versionRevisions(), 6);
    const events = rowsOf<{ type: string }>(await app.deps.db.execute(sql`select type from events where entity_id = ${one.id} order by id`));
    assert.deepEqual(events.map((e) => e.type), ['behaviour.added', 'behaviour.updated', 'behaviour.deleted']);
  });
});

describe('deprecating and discarding versions', () => {
  test('researchers deprecate a published version: still readable, frozen, and not twice', async () => {
    const slug = freshSlug('deprecate');
    await importFixture(slug, true);
    assert.equal((await actors.anon.post(`/ethograms/${slug}/versions/1/deprecate`)).status, 401);
    assert.equal((await actors.contributor.api.post(`/ethograms/${slug}/versions/1/deprecate`)).status, 403);
    const res = await actors.researcher.api.post(`/ethograms/${slug}/versions/1/deprecate`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'deprecated');
    assert.equal((await actors.anon.get(`/ethograms/${slug}/versions/1`)).body.status, 'deprecated');
    const again = await actors.admin.api.post(`/ethograms/${slug}/versions/1/deprecate`);
    assert.equal(again.status, 409);
    const edit = await actors.researcher.api.patch(`/ethograms/${slug}/versions/1`, { notes: 'x' });
    assert.equal(edit.status, 409);
    assert.equal(edit.body.error.id, 'immutable');
    const list = await actors.anon.get('/ethograms');
    const entry = list.body.data.find((e: { slug: string }) => e.slug === slug);
    assert.equal(entry.latestPublishedVersion, null, 'a deprecated version is not the latest published one');
  });

  test('publishing a new version keeps the earlier one published', async () => {
    const slug = freshSlug('keep');
    await importFixture(slug, true);
    assert.equal((await actors.researcher.api.post(`/ethograms/${slug}/drafts`)).status, 201);
    assert.equal((await actors.researcher.api.post(`/ethograms/${slug}/versions/2/publish`)).status, 200);
    const ethogram = await actors.anon.get(`/ethograms/${slug}`);
    assert.deepEqual(ethogram.body.versions.map((v: { number: number; status: string }) => [v.number, v.status]), [[2, 'published'], [1, 'published']]);
    assert.equal(ethogram.body.latestPublishedVersion, 2);
  });

  test('a draft can be discarded (kept as a tombstone); the only version cannot', async () => {
    const slug = freshSlug('discard');
    await importFixture(slug, true);
    const draft = await actors.researcher.api.post(`/ethograms/${slug}/drafts`);
    assert.equal((await actors.contributor.api.delete(`/ethograms/${slug}/versions/2`)).status, 404);
    assert.equal((await actors.researcher.api.delete(`/ethograms/${slug}/versions/2`)).status, 204);
    assert.equal((await actors.researcher.api.get(`/ethograms/${slug}/versions/2`)).status, 404);
    const tombstone = await scalar(sql`select count(*)::int as n from revisions where entity_id = ${draft.body.id} and reason = 'draft discarded'`);
    assert.equal(tombstone, 1);
    assert.equal((await actors.researcher.api.post(`/ethograms/${slug}/drafts`)).status, 201, 'a new draft can be opened again');

    const only = await draftWithBehaviours();
    const refused = await actors.researcher.api.delete(`/ethograms/${only}/versions/1`);
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /only version/);
  });
});
