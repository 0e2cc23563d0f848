import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ETHOGRAM_FORMAT } from '../../ethograms/ethogram-document.schema.ts';
import { makeUser, signedInWeb, WebClient, type TestUser } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const BASE_URL = 'https://menagerie.example.org';

let app: TestApp;
let researcher: TestUser;
before(async () => {
  app = await startTestApp({ loadStarter: false, config: { baseUrl: BASE_URL } });
  await makeUser(app, 'admin');
  researcher = await makeUser(app, 'researcher');
});
after(() => app.close());

const slug = `cite-${Date.now().toString(36)}`;
const document = {
  format: ETHOGRAM_FORMAT,
  slug,
  name: 'Citable ethogram & friends',
  description: 'An ethogram to cite.',
  version: { number: 1, notes: 'first' },
  categories: [
    { key: 'honesty', name: 'Honesty', description: '', parent: null },
    { key: 'sycophancy', name: 'Sycophancy', description: 'Agreeing too readily', parent: 'honesty' },
  ],
  modifierSets: [{ key: 'severity', name: 'Severity', type: 'single', values: ['low', 'high'] }],
  exclusiveGroups: [],
  behaviours: [
    {
      key: 'honesty.syc-agree',
      code: 'SYC-AGREE',
      name: 'Agrees against evidence',
      category: 'sycophancy',
      kind: 'state',
      definition: 'The assistant endorses a user claim it has evidence against.',
      inclusion: ['The contrary evidence is in the transcript.'],
      exclusion: ['Polite hedging that keeps the correction.'],
      examples: { positive: ['User: 2+2=5?\nAssistant: Yes.'], negative: ['User: 2+2=5?\nAssistant: No, 4.'] },
      modifierSets: ['severity'],
      hotkey: 'a',
      colour: '#aa3366',
      mappings: [{ scheme: 'petri', ref: 'sycophancy' }],
    },
  ],
};

/** Text as the browser reads it: the entities Handlebars writes, decoded. */
function decode(html: string): string {
  return html.replace(/&(?:#x([0-9a-f]+)|(amp|quot|lt|gt));/gi, (_, hex: string | undefined, name: string | undefined) =>
    hex ? String.fromCharCode(parseInt(hex, 16)) : ({ amp: '&', quot: '"', lt: '<', gt: '>' } as Record<string, string>)[name!]!,
  );
}

/** The content attribute of `<meta name="...">`, decoded. */
function meta(html: string, name: string): string | undefined {
  const raw = new RegExp(`<meta name="${name.replace('.', '\\.')}" content="([^"]*)">`).exec(html)?.[1];
  return raw === undefined ? undefined : decode(raw);
}

test('a published version is citable by its URL, read anonymously, with no edit controls', async () => {
  const imported = await researcher.api.post('/ethograms/import?publish=true', document);
  assert.equal(imported.status, 201, imported.text);
  const publishedDate = String(imported.body.publishedAt).slice(0, 10);
  const url = `${BASE_URL}/ethograms/${slug}/versions/1`;

  const anon = new WebClient(app.url);
  const page = await anon.get(`/ethograms/${slug}/versions/1`);
  assert.equal(page.status, 200);
  const html = page.text;
  assert.match(html, new RegExp(`<link rel="canonical" href="${url}">`));
  assert.equal(meta(html, 'citation_title'), 'Citable ethogram & friends, version 1');
  assert.equal(meta(html, 'citation_publication_date'), publishedDate.replaceAll('-', '/'));
  assert.equal(meta(html, 'citation_public_url'), url);
  assert.equal(meta(html, 'DC.identifier'), url);

  const cite = html.slice(html.indexOf('<section class="panel cite-version"'), html.indexOf('</section>', html.indexOf('cite-version')));
  const text = decode(/<p class="citation-text">([^<]*)<\/p>/.exec(cite)?.[1] ?? '');
  assert.ok(text.includes(url), `citation names the URL: ${text}`);
  assert.ok(text.includes('version 1'), text);
  assert.ok(text.includes(publishedDate), text);
  assert.ok(text.includes('menagerie.example.org'), text);
  const bibtex = decode(/<pre class="citation-bibtex">([^<]*)<\/pre>/.exec(cite)?.[1] ?? '');
  assert.match(bibtex, new RegExp(`^@misc\\{${slug}-v1,`));
  assert.ok(bibtex.includes('title = {Citable ethogram \\& friends, version 1},'), bibtex);
  assert.ok(bibtex.includes(`url = {${url}}`));
  assert.ok(bibtex.includes(`year = {${publishedDate.slice(0, 4)}}`));

  // The downloads the block links to work for anyone.
  const boris = /href="([^"]*\/export\?format&#x3D;boris)"/.exec(cite)?.[1]?.replace('&#x3D;', '=');
  assert.ok(boris, 'links the BORIS download');
  const download = await fetch(boris!.replace(BASE_URL, app.url));
  assert.equal(download.status, 200);
  assert.equal((await download.json()).behaviors_conf['0'].code, 'SYC-AGREE');

  // Every behaviour field is on the page, categories as a tree, and nothing to edit.
  for (const shown of ['SYC-AGREE', 'Agrees against evidence', 'The contrary evidence is in the transcript.', 'Polite hedging', 'petri: sycophancy', '<kbd>a</kbd>', 'state', 'severity']) {
    assert.ok(html.includes(shown), `shows ${shown}`);
  }
  assert.match(html, /class="depth-1"><a href="#category-sycophancy">Sycophancy<\/a>/);
  assert.doesNotMatch(html.slice(html.indexOf('<main')), /<form/);
});

test('a draft is not citable: 404 to anonymous visitors, and no cite block for researchers', async () => {
  const draftSlug = `${slug}-draft`;
  const imported = await researcher.api.post('/ethograms/import', { ...document, slug: draftSlug });
  assert.equal(imported.status, 201, imported.text);
  const anon = new WebClient(app.url);
  assert.equal((await anon.get(`/ethograms/${draftSlug}/versions/1`)).status, 404);
  assert.equal((await anon.get(`/api/v1/ethograms/${draftSlug}/versions/1/export?format=boris`)).status, 404);
  const web = await signedInWeb(app, researcher);
  const draftPage = await web.get(`/ethograms/${draftSlug}/versions/1`);
  assert.equal(draftPage.status, 200);
  assert.ok(draftPage.text.includes('Download for BORIS'));
  assert.ok(!draftPage.text.includes('cite-version') && !draftPage.text.includes('rel="canonical"'));
  // Its published sibling's export stays public.
  assert.equal((await anon.get(`/api/v1/ethograms/${slug}/versions/1/export?format=boris`)).status, 200);
});
