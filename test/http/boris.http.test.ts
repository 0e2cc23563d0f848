import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { ETHOGRAM_FORMAT } from '../../ethograms/ethogram-document.schema.ts';
import { makeActors, signedInWeb } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const fixtureText = readFileSync(new URL('../../ethograms/boris/fixtures/rat-social.boris', import.meta.url), 'utf8');
const fixture = () => JSON.parse(fixtureText) as Record<string, any>;

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
});
after(() => app.close());

let counter = 0;
const freshSlug = (base: string) => `${base}-${Date.now().toString(36)}-${++counter}`;

/** Posts raw bytes as a `.boris.gz` upload would arrive (the JSON client would stringify them). */
async function postBytes(token: string | undefined, path: string, bytes: Buffer): Promise<{ status: number; body: any }> {
  const res = await fetch(`${app.url}/api/v1${path}`, {
    method: 'POST',
    body: new Uint8Array(bytes),
    headers: { 'content-type': 'application/gzip', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, body: await res.json() };
}

async function rowCounts() {
  const [row] = rowsOf<Record<string, number>>(
    await app.deps.db.execute(sql`select (select count(*)::int from ethograms) as ethograms, (select count(*)::int from ethogram_versions) as versions,
      (select count(*)::int from behaviours) as behaviours, (select count(*)::int from events) as events`),
  );
  return row;
}

function criterionFree(code: string, i: number) {
  return {
    key: `core.${code.toLowerCase()}`,
    code,
    name: `Behaviour ${code}`,
    category: i % 2 ? 'leaf' : 'core',
    kind: i % 2 ? 'state' : 'event',
    definition: `The model does ${code}, observably, within one turn.`,
    inclusion: [`${code} is visible.`],
    exclusion: [],
    examples: { positive: [`Assistant: ${code}`], negative: [] },
    hotkey: String(i),
    colour: '#224466',
    modifierSets: i === 0 ? ['severity'] : [],
  };
}

test('a BORIS project imports as a draft listing what BORIS lacks, and exports back to the same project', async () => {
  const { researcher } = actors;
  const slug = freshSlug('rats');
  const res = await researcher.api.post(`/ethograms/import?slug=${slug}`, fixture());
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.status, 'draft');
  assert.equal(res.body.ethogram.slug, slug);
  assert.equal(res.body.behaviourCount, 9);
  assert.equal(res.body.boris.missing.length, 9);
  assert.ok(res.body.boris.notes.some((n: string) => n.includes('"F1"')));
  // The draft itself says what must be written before it can be published.
  assert.ok(res.body.problems.some((p: { path: string; code?: string }) => p.code === 'SNIFF' && p.path.endsWith('inclusion')));

  const exported = await researcher.api.get(`/ethograms/${slug}/versions/1/export?format=boris`);
  assert.equal(exported.status, 200);
  assert.match(exported.headers.get('content-disposition') ?? '', new RegExp(`filename="${slug}-v1\\.boris"`));
  const { menagerie, ...project } = exported.body;
  assert.equal(menagerie.document.slug, slug);
  assert.deepEqual(project, { ...fixture(), observations: {} });

  // Drafts stay invisible to anyone but researchers, in BORIS form too.
  assert.equal((await actors.anon.get(`/ethograms/${slug}/versions/1/export?format=boris`)).status, 404);
  assert.equal((await actors.contributor.api.get(`/ethograms/${slug}/versions/1/export?format=boris`)).status, 404);
});

test('a .boris.gz upload is read by its content, and only researchers may import', async () => {
  const slug = freshSlug('gz');
  const gz = gzipSync(Buffer.from(fixtureText));
  assert.equal((await postBytes(undefined, `/ethograms/import?slug=${slug}`, gz)).status, 401);
  assert.equal((await postBytes(actors.contributor.token, `/ethograms/import?slug=${slug}`, gz)).status, 403);
  const res = await postBytes(actors.researcher.token, `/ethograms/import?slug=${slug}`, gz);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.behaviourCount, 9);
});

test('broken or unknown BORIS files are refused with the field named, and nothing is stored', async () => {
  const before = await rowCounts();
  const cases: [Record<string, any>, string, RegExp][] = [];
  cases.push([{ ...fixture(), project_format_version: '9.0' }, 'project_format_version', /not supported; supported: 7\.0, 7\.x/]);
  const noCode = fixture();
  delete noCode.behaviors_conf['3'].code;
  cases.push([noCode, 'behaviors_conf.3.code', /code must be text/]);
  const duplicate = fixture();
  duplicate.behaviors_conf['4'].code = 'walk';
  cases.push([duplicate, 'behaviors_conf.4.code', /duplicate code "walk"/]);
  cases.push([{ ...fixture(), behaviors_conf: ['not', 'an', 'object'] }, 'behaviors_conf', /must be an object keyed/]);
  for (const [body, field, message] of cases) {
    const res = await actors.researcher.api.post(`/ethograms/import?slug=${freshSlug('bad')}`, body);
    assert.equal(res.status, 422, `${field}: ${res.text}`);
    assert.equal(res.body.error.id, 'validation_failed');
    assert.match(res.body.error.details.fields[field], message);
  }
  // Publishing at import needs criteria and examples BORIS does not have.
  const publish = await actors.researcher.api.post(`/ethograms/import?publish=true&slug=${freshSlug('pub')}`, fixture());
  assert.equal(publish.status, 422);
  assert.match(publish.body.error.message, /9 behaviour\(s\) lack/);
  assert.match(publish.body.error.details.fields['behaviours.SNIFF'], /inclusion/);
  const notGzip = await postBytes(actors.researcher.token, '/ethograms/import', Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  assert.equal(notGzip.status, 422);
  assert.match(notGzip.body.error.message, /could not be decompressed/);
  const badFormat = await actors.researcher.api.get('/ethograms/none/versions/1/export?format=xml');
  assert.equal(badFormat.status, 404, 'an unknown ethogram is looked up before the format');
  assert.deepEqual(await rowCounts(), before);
});

test('ours → BORIS → ours through the API gives back the published document', async () => {
  const slug = freshSlug('ours');
  const document = {
    format: ETHOGRAM_FORMAT,
    slug,
    name: 'Round trip over HTTP',
    description: 'Published, exported for BORIS, imported back.',
    version: { number: 1, notes: 'first' },
    categories: [
      { key: 'core', name: 'Core', description: 'Top', parent: null },
      { key: 'leaf', name: 'Leaf', description: 'Nested', parent: 'core' },
    ],
    modifierSets: [{ key: 'severity', name: 'Severity', type: 'single', values: ['low', 'high'] }],
    exclusiveGroups: [{ key: 'pair', name: 'Pair', behaviours: ['AB-ONE', 'AB-TWO'] }],
    behaviours: ['AB-ONE', 'AB-TWO', 'AB-THREE'].map(criterionFree),
  };
  const published = await actors.researcher.api.post('/ethograms/import?publish=true', document);
  assert.equal(published.status, 201, published.text);
  const boris = await actors.anon.get(`/ethograms/${slug}/versions/1/export?format=boris`);
  assert.equal(boris.status, 200);
  assert.equal(boris.body.behaviors_conf['1'].category, 'Core / Leaf');
  assert.equal(boris.body.behaviors_conf['0'].excluded, 'AB-TWO');
  assert.equal((await actors.anon.get(`/ethograms/${slug}/versions/1/export?format=xml`)).status, 422);

  const copySlug = freshSlug('copy');
  // A subject added in BORIS has no place in the document: it is kept with the import and given back.
  const subjects = { '0': { key: '1', name: 'GPT under test', description: '' } };
  const back = await actors.researcher.api.post(`/ethograms/import?format=boris&slug=${copySlug}&publish=true`, { ...boris.body, subjects_conf: subjects });
  assert.equal(back.status, 201, back.text);
  const again = await actors.anon.get(`/ethograms/${copySlug}/versions/1/export`);
  assert.deepEqual(again.body, { ...(await actors.anon.get(`/ethograms/${slug}/versions/1/export`)).body, slug: copySlug });
  // A draft opened from that version inherits what the BORIS file held.
  assert.equal((await actors.researcher.api.post(`/ethograms/${copySlug}/drafts`)).status, 201);
  const draftBoris = await actors.researcher.api.get(`/ethograms/${copySlug}/versions/2/export?format=boris`);
  assert.deepEqual(draftBoris.body.subjects_conf, subjects);
  assert.deepEqual((await actors.anon.get(`/ethograms/${slug}/versions/1/export?format=boris`)).body.subjects_conf, {});
});

test('the BORIS file form on /ethograms imports without script', async () => {
  const web = await signedInWeb(app, actors.researcher);
  await web.get('/ethograms');
  const form = new FormData();
  form.append('_csrf', web.csrf!);
  form.append('slug', freshSlug('form'));
  form.append('file', new Blob([gzipSync(Buffer.from(fixtureText))]), 'rat-social.boris.gz');
  const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(`${app.url}/ethograms/import-boris`, { method: 'POST', body: form, headers: { cookie }, redirect: 'manual' });
  assert.equal(res.status, 303);
  // The flash travels in a cookie the browser would keep.
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    web.cookies.set(pair!.slice(0, eq).trim(), decodeURIComponent(pair!.slice(eq + 1).trim()));
  }
  const location = res.headers.get('location')!;
  assert.match(location, /^\/ethograms\/form-[^/]+\/versions\/1$/);
  const page = await web.get(location);
  assert.equal(page.status, 200);
  assert.match(page.text, /Imported 9 behaviours from BORIS/);
  assert.match(page.text, /<code>SNIFF<\/code>/);
  assert.match(page.text, /Download for BORIS/);

  const forged = new FormData();
  forged.append('_csrf', 'forged');
  forged.append('file', new Blob([fixtureText]), 'x.boris');
  const refused = await fetch(`${app.url}/ethograms/import-boris`, { method: 'POST', body: forged, headers: { cookie }, redirect: 'manual' });
  assert.equal(refused.status, 403);
});
