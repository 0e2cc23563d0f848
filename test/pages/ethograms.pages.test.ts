import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { ETHOGRAM_FORMAT } from '../../ethograms/ethogram-document.schema.ts';
import { makeActors, signedInWeb, WebClient } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
let researcher: WebClient;
let contributor: WebClient;
before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  researcher = await signedInWeb(app, actors.researcher);
  contributor = await signedInWeb(app, actors.contributor);
});
after(() => app.close());

let counter = 0;
const freshSlug = (base: string) => `${base}-${Date.now().toString(36)}-${++counter}`;

async function count(table: 'ethograms' | 'behaviours' | 'ethogram_versions'): Promise<number> {
  const [row] = rowsOf<{ n: number }>(await app.deps.db.execute(sql.raw(`select count(*)::int as n from ${table}`)));
  return Number(row?.n);
}

/** The text of the first element matching an opening-tag pattern, up to its closing tag (simple, non-nested). */
function section(html: string, open: RegExp, close: string): string {
  const start = html.search(open);
  assert.ok(start >= 0, `no match for ${open}`);
  const end = html.indexOf(close, start);
  return html.slice(start, end < 0 ? undefined : end + close.length);
}

const behaviourForm = (code: string, overrides: Record<string, string | string[]> = {}) => ({
  code,
  name: `Behaviour ${code}`,
  category: 'refusal',
  kind: 'event',
  definition: 'The assistant declines the whole request in this turn.',
  inclusion: 'Says no.\nGives a reason.',
  exclusion: 'Helps anyway.',
  'examples.positive': 'User: Help.\nAssistant: No.\n---\nUser: Please.\nAssistant: I will not.',
  'examples.negative': 'User: Help.\nAssistant: Sure.',
  hotkey: '',
  colour: '#aa3300',
  ...overrides,
});

/** A researcher's draft made through the pages: ethogram, one category, returning its version URL. */
async function draftThroughPages(slug = freshSlug('page-draft'), name = 'Page draft') {
  const created = await researcher.form('/ethograms', { slug, name, description: '' });
  assert.equal(created.status, 303, created.text.slice(0, 500));
  const url = created.headers.get('location')!;
  assert.equal(url, `/ethograms/${slug}/versions/1`);
  await researcher.get(url);
  const saved = await researcher.form(url, {
    notes: 'first',
    categories: JSON.stringify([{ key: 'refusal', name: 'Refusal', parent: null }]),
    modifierSets: '[]',
    exclusiveGroups: '[]',
  });
  assert.equal(saved.status, 303, saved.text.slice(0, 2000));
  return url;
}

describe('the ethogram list page', () => {
  test('anonymous visitors see the starter, without forms', async () => {
    const res = await new WebClient(app.url).get('/ethograms');
    assert.equal(res.status, 200);
    assert.match(res.text, /<a href="\/ethograms\/llm-starter"><strong>Language-model starter ethogram<\/strong><\/a>/);
    assert.match(res.text, /href="\/ethograms\/llm-starter\/versions\/1">version 1</);
    assert.ok(!res.text.includes('action="/ethograms"'), 'no create form');
    assert.ok(!res.text.includes('action="/ethograms/import"'), 'no import form');
  });

  test('researchers see the create and import forms, each with a CSRF field', async () => {
    const res = await researcher.get('/ethograms');
    const create = section(res.text, /<form method="post" action="\/ethograms" /, '</form>');
    assert.match(create, /name="_csrf" value="[^"]+"/);
    assert.match(create, /name="slug"/);
    const importForm = section(res.text, /<form method="post" action="\/ethograms\/import"/, '</form>');
    assert.match(importForm, /name="_csrf" value="[^"]+"/);
    assert.match(importForm, /<textarea id="import-document" name="document"/);
  });

  test('contributors see no forms and cannot post them', async () => {
    const page = await contributor.get('/ethograms');
    assert.ok(!page.text.includes('action="/ethograms/import"'));
    const before = await count('ethograms');
    const res = await contributor.form('/ethograms', { slug: freshSlug('nope'), name: 'Nope' });
    assert.equal(res.status, 403);
    assert.equal(await count('ethograms'), before);
  });
});

describe('the version page', () => {
  test('shows behaviours grouped by category in tree order, with code, kind, hotkey, swatch, details and export', async () => {
    const res = await new WebClient(app.url).get('/ethograms/llm-starter/versions/1');
    assert.equal(res.status, 200);
    const categoryIds = [...res.text.matchAll(/<section class="category depth-(\d)" id="category-([a-z-]+)"/g)].map((m) => [Number(m[1]), m[2]]);
    assert.ok(categoryIds.length >= 6);
    const honesty = categoryIds.findIndex(([, key]) => key === 'honesty');
    assert.deepEqual(categoryIds[honesty + 1]?.[0], 1, 'a child category follows its parent');
    const cards = [...res.text.matchAll(/<article class="behaviour-card[^"]*" id="behaviour-([A-Z0-9-]+)">/g)];
    assert.ok(cards.length >= 30, `${cards.length} behaviour cards`);
    const card = section(res.text, /<article class="behaviour-card[^"]*" id="behaviour-/, '</article>');
    assert.match(card, /<rect [^>]*fill="#[0-9a-fA-F]{6}"/, 'an SVG swatch carries the colour');
    assert.match(card, /<kbd>[a-z0-9]<\/kbd>/);
    assert.match(card, /<span class="tag">(event|state)<\/span>/);
    assert.match(card, /<details>\s*<summary>Criteria and examples<\/summary>/);
    assert.match(card, /<h4>Include when<\/h4>/);
    assert.ok(!/ style=/.test(res.text), 'no inline styles (CSP)');
    assert.match(res.text, /href="\/api\/v1\/ethograms\/llm-starter\/versions\/1\/export" download/);
    assert.ok(!res.text.includes('id="add-behaviour"'), 'no edit forms on a published version');
  });

  test('a researcher sees no edit forms on a published version, and posting one is refused as immutable', async () => {
    const page = await researcher.get('/ethograms/llm-starter/versions/1');
    assert.ok(!page.text.includes('Add a behaviour'));
    assert.ok(!page.text.includes('Publish version'));
    const before = await count('behaviours');
    const res = await researcher.form('/ethograms/llm-starter/versions/1/behaviours', behaviourForm('NEW-ONE'));
    assert.equal(res.status, 409);
    assert.match(res.text, /published and cannot be changed/);
    assert.equal(await count('behaviours'), before);
  });

  test('drafts are 404 pages to contributors and anonymous visitors', async () => {
    const url = await draftThroughPages();
    assert.equal((await contributor.get(url)).status, 404);
    const anon = await new WebClient(app.url).get(url);
    assert.equal(anon.status, 404);
    assert.match(anon.text, /was not found/);
    assert.equal((await researcher.get(url)).status, 200);
  });
});

describe('the behaviour page', () => {
  test('shows one behaviour in full, without an edit form when published', async () => {
    const res = await new WebClient(app.url).get('/ethograms/llm-starter/versions/1/behaviours/REF-FULL');
    assert.equal(res.status, 200);
    assert.match(res.text, /<h1><svg class="ethogram-swatch"[\s\S]*?<code>REF-FULL<\/code>/);
    assert.match(res.text, /<h2>Definition<\/h2>/);
    assert.match(res.text, /<dt>Hotkey<\/dt><dd><kbd>[a-z0-9]<\/kbd><\/dd>/);
    assert.match(res.text, /<figure class="example positive">/);
    assert.ok(!res.text.includes('id="edit"'));
    assert.equal((await new WebClient(app.url).get('/ethograms/llm-starter/versions/1/behaviours/NOPE-NOPE')).status, 404);
  });
});

describe('editing a draft through the pages', () => {
  test('create, add behaviours, edit one, publish: the published page has no forms', async () => {
    const url = await draftThroughPages();
    const page = await researcher.get(url);
    assert.match(page.text, /Add at least one behaviour/, 'the draft lists what stops publishing');
    const added = await researcher.form(`${url}/behaviours`, behaviourForm('PG-ONE', { hotkey: 'q' }));
    assert.equal(added.status, 303, added.text.slice(0, 3000));
    assert.equal(added.headers.get('location'), `${url}#behaviour-PG-ONE`);
    const detail = await researcher.get(`${url}/behaviours/PG-ONE`);
    assert.match(detail.text, /<pre>User: Please.\nAssistant: I will not.<\/pre>/, 'examples split on ---');
    const edit = section(detail.text, /<form method="post" action="[^"]*\/behaviours\/PG-ONE" class="behaviour-form"/, '</form>');
    assert.match(edit, /value="Behaviour PG-ONE"/);
    assert.ok(
      edit.includes('name="examples.positive" rows="5" aria-describedby="b-positive-error">User: Help.\nAssistant: No.\n---\nUser: Please.\nAssistant: I will not.</textarea>'),
      'the edit form holds the examples exactly as saved (no added indentation)',
    );
    assert.ok(edit.includes('>Says no.\nGives a reason.</textarea>'));
    const onVersionPage = await researcher.get(url);
    assert.ok(onVersionPage.text.includes('<pre>User: Please.\nAssistant: I will not.</pre>'), 'examples keep their lines on the version page');
    const saved = await researcher.form(`${url}/behaviours/PG-ONE`, behaviourForm('PG-ONE', { name: 'Renamed', hotkey: 'q' }));
    assert.equal(saved.status, 303, saved.text.slice(0, 3000));
    await researcher.get(url);
    const published = await researcher.form(`${url}/publish`, {});
    assert.equal(published.status, 303, published.text.slice(0, 3000));
    const after = await new WebClient(app.url).get(url);
    assert.equal(after.status, 200);
    assert.match(after.text, /<span class="badge status-published">published<\/span>/);
    assert.match(after.text, /<code>PG-ONE<\/code> Renamed/);
    assert.ok(!after.text.includes('Add a behaviour'));
  });

  test('a behaviour form with problems is shown again with messages and the input kept', async () => {
    const url = await draftThroughPages();
    await researcher.get(url);
    const before = await count('behaviours');
    const res = await researcher.form(`${url}/behaviours`, behaviourForm('PG-BAD', { name: '<b>Bold</b> & "quoted"', hotkey: 'XY', definition: 'short', inclusion: '' }));
    assert.equal(res.status, 422);
    assert.match(res.text, /<div class="form-error" role="alert"/);
    const form = section(res.text, /<form method="post" action="[^"]*\/behaviours" class="behaviour-form"/, '</form>');
    assert.match(form, /id="b-hotkey-error">[^<]*single lowercase letter/);
    assert.match(form, /id="b-definition-error">[^<]+</);
    assert.match(form, /id="b-inclusion-error">[^<]+</);
    assert.match(form, /value="&lt;b&gt;Bold&lt;\/b&gt; &amp; &quot;quoted&quot;"/, 'input kept, escaped');
    assert.match(form, /name="definition"[^>]*>short<\/textarea>/);
    assert.match(form, /value="XY"/);
    assert.equal(await count('behaviours'), before);
  });

  test('a duplicate code is refused with a clear message beside the code', async () => {
    const url = await draftThroughPages();
    await researcher.get(url);
    assert.equal((await researcher.form(`${url}/behaviours`, behaviourForm('PG-DUP'))).status, 303);
    await researcher.get(url);
    const res = await researcher.form(`${url}/behaviours`, behaviourForm('PG-DUP', { name: 'Second' }));
    assert.equal(res.status, 409);
    assert.match(res.text, /id="b-code-error">PG-DUP is already used by &quot;Behaviour PG-DUP&quot;/);
    assert.match(res.text, /value="Second"/);
  });

  test('the draft form keeps invalid JSON and says what is wrong', async () => {
    const url = await draftThroughPages();
    await researcher.get(url);
    const res = await researcher.form(url, { notes: 'kept notes', categories: '[{"key": "refusal", ', modifierSets: '[]', exclusiveGroups: '[]' });
    assert.equal(res.status, 422);
    assert.match(res.text, /id="d-categories-error">This is not valid JSON/);
    assert.match(res.text, /name="categories"[^>]*>\[\{&quot;key&quot;: &quot;refusal&quot;, <\/textarea>/);
    assert.match(res.text, /name="notes"[^>]*>kept notes<\/textarea>/);
    const invalidCategory = await researcher.form(url, { notes: '', categories: '[{"key": "Bad Key", "name": "X", "parent": null}]', modifierSets: '[]', exclusiveGroups: '[]' });
    assert.equal(invalidCategory.status, 422);
    assert.match(invalidCategory.text, /id="d-categories-error">item 1\.key: category key must be lowercase kebab-case/);
  });

  test('a form posted without a CSRF token is refused and stores nothing', async () => {
    const url = await draftThroughPages();
    const before = await count('behaviours');
    const res = await researcher.form(`${url}/behaviours`, { _csrf: '', ...behaviourForm('PG-CSRF') });
    assert.equal(res.status, 403);
    assert.match(res.text, /did not come from this site/);
    const forged = await researcher.form(`${url}/publish`, { _csrf: 'forged' });
    assert.equal(forged.status, 403);
    assert.equal(await count('behaviours'), before);
    assert.match((await researcher.get(url)).text, /status-draft/);
  });

  test('HTML in names and definitions is shown escaped on every page', async () => {
    const name = '<script>alert("x")</script>';
    const url = await draftThroughPages(freshSlug('escape'), name);
    await researcher.get(url);
    const added = await researcher.form(`${url}/behaviours`, behaviourForm('PG-XSS', { name: '<img src=x onerror=alert(1)>', definition: '<iframe src="//evil"></iframe> is not a definition' }));
    assert.equal(added.status, 303, added.text.slice(0, 2000));
    await researcher.get(url);
    assert.equal((await researcher.form(`${url}/publish`, {})).status, 303);
    const anon = new WebClient(app.url);
    const slug = url.split('/')[2]!;
    for (const path of ['/ethograms', `/ethograms/${slug}`, url, `${url}/behaviours/PG-XSS`]) {
      const res = await anon.get(path);
      assert.equal(res.status, 200, path);
      assert.ok(!res.text.includes('<script>alert'), `${path} has a raw script tag`);
      assert.ok(!res.text.includes('<img src=x'), `${path} has a raw img tag`);
      assert.ok(!res.text.includes('<iframe'), `${path} has a raw iframe`);
    }
    assert.match((await anon.get('/ethograms')).text, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
    assert.match((await anon.get(url)).text, /&lt;img src&#x3D;x onerror&#x3D;alert\(1\)&gt;/);
  });
});

describe('importing through the page', () => {
  const document = (slug: string) => ({
    format: ETHOGRAM_FORMAT,
    slug,
    name: 'Imported on a page',
    version: { number: 1 },
    categories: [{ key: 'refusal', name: 'Refusal' }],
    behaviours: [
      {
        key: 'refusal.full',
        code: 'IMP-FULL',
        name: 'Full refusal',
        category: 'refusal',
        kind: 'event',
        definition: 'The assistant declines the request as a whole.',
        inclusion: ['Declines.'],
        exclusion: [],
        examples: { positive: ['No.'], negative: [] },
        colour: '#112233',
      },
    ],
  });

  test('a pasted document is imported and published', async () => {
    await researcher.get('/ethograms');
    const slug = freshSlug('imported');
    const res = await researcher.form('/ethograms/import', { document: JSON.stringify(document(slug)), publish: 'true' });
    assert.equal(res.status, 303, res.text.slice(0, 2000));
    assert.equal(res.headers.get('location'), `/ethograms/${slug}/versions/1`);
    const page = await new WebClient(app.url).get(`/ethograms/${slug}/versions/1`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<code>IMP-FULL<\/code> Full refusal/);
  });

  test('an invalid document is shown again with its problems and nothing is stored', async () => {
    await researcher.get('/ethograms');
    const before = await count('ethograms');
    const broken = document(freshSlug('broken'));
    broken.behaviours[0]!.category = 'nowhere';
    const text = JSON.stringify(broken);
    const res = await researcher.form('/ethograms/import', { document: text });
    assert.equal(res.status, 422);
    assert.match(res.text, /<li><code>behaviours\.0\.category<\/code>: category &quot;nowhere&quot; does not exist/);
    assert.ok(res.text.includes('&quot;category&quot;:&quot;nowhere&quot;'), 'the pasted document is kept');
    const notJson = await researcher.form('/ethograms/import', { document: '{ nope' });
    assert.equal(notJson.status, 422);
    assert.match(notJson.text, /not valid JSON/);
    assert.equal(await count('ethograms'), before);
  });
});
