import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { ETHOGRAM_FORMAT } from '../../ethograms/ethogram-document.schema.ts';
import { makeActors } from '../support/clients.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { actBehaviour } from '../support/ethogram-fixture.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
});
after(() => app.close());

const slug = 'evolving';
const behaviour = actBehaviour;
const v1 = {
  format: ETHOGRAM_FORMAT,
  slug,
  name: 'Evolving ethogram',
  version: { number: 1 },
  categories: [
    { key: 'acts', name: 'Acts', parent: null },
    { key: 'refusal', name: 'Refusal', parent: 'acts' },
  ],
  behaviours: ['KEEP', 'OLDNAME', 'MOVER', 'REDEF', 'MA', 'MB', 'SPLIT', 'GONE'].map((c) =>
    behaviour(c, c === 'KEEP' ? { mappings: [{ scheme: 'aiid-gmf', ref: '=Failure, "quoted"' }, { scheme: 'eval', ref: 'petri:sycophancy' }] } : {}),
  ),
};

const researcher = () => actors.researcher.api;
const put = (path: string, body: unknown) => researcher().call('PUT', path, body);
const count = async (q: ReturnType<typeof sql>) => Number(rowsOf<{ n: number }>(await app.deps.db.execute(q))[0]!.n);

let observationId: string;
const codingIds: Record<string, string> = {};

test('a crafted ethogram is published and coded under version 1', async () => {
  const imported = await researcher().post('/ethograms/import?publish=true', v1);
  assert.equal(imported.status, 201, imported.text);
  const versionId = rowsOf<{ id: string }>(await app.deps.db.execute(sql`SELECT v.id FROM ethogram_versions v JOIN ethograms e ON e.id = v.ethogram_id WHERE e.slug = ${slug}`))[0]!.id;
  observationId = (await submitObservation(actors.contributor)).id;
  for (const code of ['KEEP', 'OLDNAME', 'MOVER', 'REDEF', 'MA', 'MB', 'SPLIT', 'GONE']) {
    const res = await researcher().post(`/observations/${observationId}/codings`, { code, ethogramVersionId: versionId, rationale: `coded ${code}` });
    assert.equal(res.status, 201, res.text);
    codingIds[code] = res.body.id;
  }
});

test('a hierarchy of behaviours: parents must exist and form no cycle; interpretations refer to acts', async () => {
  const cyclic = {
    ...v1,
    slug: 'cyclic',
    behaviours: [behaviour('AA', { parent: 'BB' }), behaviour('BB', { parent: 'AA' }), behaviour('CC', { level: 'interpretation', refersTo: ['AA', 'NOPE'] })],
  };
  const before = await count(sql`SELECT count(*)::int AS n FROM ethograms`);
  const res = await researcher().post('/ethograms/import', cyclic);
  assert.equal(res.status, 422);
  assert.match(res.body.error.details.fields['behaviours.0.parent'], /behaviour parents form a cycle: AA → BB → AA/);
  assert.match(res.body.error.details.fields['behaviours.2.refersTo.1'], /"NOPE" is not the code of any behaviour/);
  assert.equal(await count(sql`SELECT count(*)::int AS n FROM ethograms`), before, 'nothing imported');

  const nested = { ...v1, slug: 'nested', behaviours: [behaviour('AA'), behaviour('BB', { parent: 'AA' }), behaviour('CC', { level: 'interpretation', refersTo: ['AA', 'BB'] })] };
  const ok = await researcher().post('/ethograms/import?publish=true', nested);
  assert.equal(ok.status, 201, ok.text);
  const all = ok.body.categories.flatMap((c: { behaviours: unknown[] }) => c.behaviours);
  const bb = all.find((b: { code: string }) => b.code === 'BB');
  assert.equal(bb.parent, 'AA');
  const cc = all.find((b: { code: string }) => b.code === 'CC');
  assert.deepEqual([cc.level, cc.refersTo], ['interpretation', ['AA', 'BB']]);
});

test('a draft with every kind of change: the diff names each, and publishing is refused until each coded change has a migration', async () => {
  assert.equal((await researcher().post(`/ethograms/${slug}/drafts`)).status, 201);
  const base = `/ethograms/${slug}/versions/2/behaviours`;
  // renamed (same key, new code), moved, redefined, merged (MA, MB → MERGED), split (SPLIT → SPLIT-A, SPLIT-B), removed (GONE), added (FRESH)
  assert.equal((await put(`${base}/OLDNAME`, behaviour('NEWNAME', { key: 'acts.oldname', name: 'Renamed', definition: 'The assistant does what OLDNAME names, observably.' }))).status, 200);
  assert.equal((await put(`${base}/MOVER`, behaviour('MOVER', { category: 'refusal', parent: 'KEEP' }))).status, 200);
  assert.equal((await put(`${base}/REDEF`, behaviour('REDEF', { definition: 'Now it means something narrower and different.' }))).status, 200);
  for (const gone of ['MA', 'MB', 'SPLIT', 'GONE']) assert.equal((await researcher().delete(`${base}/${gone}`)).status, 204);
  for (const code of ['MERGED', 'SPLIT-A', 'SPLIT-B', 'FRESH']) assert.equal((await put(`${base}/${code}`, behaviour(code))).status, 201);

  const changes = await researcher().get(`/ethograms/${slug}/versions/2/changes`);
  assert.equal(changes.status, 200, changes.text);
  assert.equal(changes.body.base.number, 1);
  const words = changes.body.changes.map((c: { words: string }) => c.words);
  assert.ok(words.includes('OLDNAME was renamed to NEWNAME ("Behaviour OLDNAME" → "Renamed"); its codings carry over.'), words.join('\n'));
  assert.ok(words.some((w: string) => /^MOVER was moved from category acts to refusal and from under \(top level\) to under KEEP/.test(w)));
  assert.ok(words.includes('REDEF was redefined (definition changed).'));
  assert.ok(words.includes('FRESH (Behaviour FRESH) was added.'));
  assert.deepEqual(changes.body.changes.filter((c: { kind: string }) => c.kind === 'removed').map((c: { code: string }) => c.code).sort(), ['GONE', 'MA', 'MB', 'SPLIT']);
  const redefined = changes.body.changes.find((c: { kind: string }) => c.kind === 'redefined');
  assert.equal(redefined.pairs[0].before.definition, 'The assistant does what REDEF names, observably.');
  assert.equal(redefined.pairs[0].after.definition, 'Now it means something narrower and different.');

  const refused = await researcher().post(`/ethograms/${slug}/versions/2/publish`);
  assert.equal(refused.status, 422);
  for (const code of ['REDEF', 'MA', 'MB', 'SPLIT', 'GONE']) assert.match(refused.body.error.message, new RegExp(`${code} (was removed|changed its)`), code);
  assert.doesNotMatch(refused.body.error.message, /NEWNAME|MOVER|KEEP/, 'renames and moves carry codings and do not block');
  assert.equal(refused.body.error.details.fields['migrations.GONE'], 'GONE was removed and 1 coding uses it: merge it into another behaviour, split it, or retire it');
});

test('migrations are checked when declared; with them the version publishes and queues splits and recoded redefinitions', async () => {
  const bad = await put(`/ethograms/${slug}/versions/2/migrations`, { migrations: [{ type: 'merge', from: ['KEEP'], into: 'MERGED' }] });
  assert.equal(bad.status, 422);
  assert.match(bad.body.error.details.fields['migrations.0.from.0'], /KEEP is still in this version/);

  const declared = await put(`/ethograms/${slug}/versions/2/migrations`, {
    migrations: [
      { type: 'merge', from: ['MA', 'MB'], into: 'MERGED' },
      { type: 'split', from: 'SPLIT', into: ['SPLIT-A', 'SPLIT-B'] },
      { type: 'redefine', code: 'REDEF', decision: 'recode' },
      { type: 'retire', code: 'GONE' },
    ],
  });
  assert.equal(declared.status, 200, declared.text);
  assert.deepEqual(declared.body.blocking, []);
  assert.ok(declared.body.changes.some((c: { words: string }) => c.words === 'MA, MB were merged into MERGED; their codings map to MERGED.'));

  const published = await researcher().post(`/ethograms/${slug}/versions/2/publish`);
  assert.equal(published.status, 200, published.text);
  assert.equal(await count(sql`SELECT count(*)::int AS n FROM recode_items`), 2, 'the split and the redefinition each queue their one coding');
  // A published version's migrations are fixed, like the rest of it.
  assert.equal((await put(`/ethograms/${slug}/versions/2/migrations`, { migrations: [] })).status, 409);
});

test('codings read as of either version, and the recode queue decides the undecided ones', async () => {
  const asOf = async (n: number) => {
    const res = await researcher().get(`/observations/${observationId}/codings/as-of/${slug}/${n}`);
    assert.equal(res.status, 200, res.text);
    return Object.fromEntries(res.body.data.map((c: { codingId: string; code: string | null; status: string }) => [c.codingId, [c.code, c.status]]));
  };
  const v2 = await asOf(2);
  assert.deepEqual(v2[codingIds.KEEP!], ['KEEP', 'same']);
  assert.deepEqual(v2[codingIds.OLDNAME!], ['NEWNAME', 'carried']);
  assert.deepEqual(v2[codingIds.MA!], ['MERGED', 'carried']);
  assert.deepEqual(v2[codingIds.SPLIT!], [null, 'awaiting-recode']);
  assert.deepEqual(v2[codingIds.REDEF!], [null, 'awaiting-recode']);
  assert.deepEqual(v2[codingIds.GONE!], [null, 'retired']);
  const v1view = await asOf(1);
  assert.deepEqual(v1view[codingIds.OLDNAME!], ['OLDNAME', 'same'], 'every coding keeps the version it was made under');

  const queue = await researcher().get(`/ethograms/${slug}/recode-queue`);
  assert.equal(queue.status, 200, queue.text);
  assert.equal(queue.body.open, 2);
  const split = queue.body.items.find((i: { reason: string }) => i.reason === 'split');
  assert.deepEqual(split.candidates.map((c: { code: string }) => c.code), ['SPLIT-A', 'SPLIT-B']);
  assert.equal(split.from.definition, 'The assistant does what SPLIT names, observably.');

  assert.equal((await actors.contributor.api.post(`/recode-items/${split.id}/resolve`, { choice: 'SPLIT-A' })).status, 403);
  const wrong = await researcher().post(`/recode-items/${split.id}/resolve`, { choice: 'KEEP' });
  assert.equal(wrong.status, 422);
  assert.match(wrong.body.error.message, /KEEP is not a candidate/);
  const decided = await researcher().post(`/recode-items/${split.id}/resolve`, { choice: 'split-b', note: 'narrow case' });
  assert.equal(decided.status, 200, decided.text);
  assert.equal(decided.body.chosenCode, 'SPLIT-B');
  assert.equal((await researcher().post(`/recode-items/${split.id}/resolve`, { choice: 'SPLIT-A' })).status, 409, 'decided once');
  const redef = queue.body.items.find((i: { reason: string }) => i.reason === 'redefine');
  assert.equal((await researcher().post(`/recode-items/${redef.id}/resolve`, { choice: 'none' })).status, 200);

  const after = await asOf(2);
  assert.deepEqual(after[codingIds.SPLIT!], [null, 'recoded']);
  assert.deepEqual(after[decided.body.newCodingId], ['SPLIT-B', 'same'], 'the new coding stands for the old one under version 2');
  assert.deepEqual(after[codingIds.REDEF!], [null, 'no-candidate']);
  const original = rowsOf<{ code: string; withdrawn_at: unknown }>(
    await app.deps.db.execute(sql`SELECT b.code, c.withdrawn_at FROM codings c JOIN behaviours b ON b.id = c.behaviour_id WHERE c.id = ${codingIds.SPLIT!}::uuid`),
  )[0]!;
  assert.deepEqual([original.code, original.withdrawn_at], ['SPLIT', null], 'the old coding is untouched');
  assert.equal((await researcher().get(`/ethograms/${slug}/recode-queue`)).body.open, 0);
});

test('mappings to other taxonomies are exported as CSV (quoted, safe from spreadsheet formulas)', async () => {
  const res = await fetch(`${app.url}/api/v1/ethograms/${slug}/versions/1/mappings.csv`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
  assert.equal(await res.text(), 'code,name,scheme,ref\r\nKEEP,Behaviour KEEP,aiid-gmf,"\'=Failure, ""quoted"""\r\nKEEP,Behaviour KEEP,eval,petri:sycophancy\r\n');
});

test('importing a new version that publishes at once goes through the same checks', async () => {
  const exported = await researcher().get(`/ethograms/${slug}/versions/2/export`);
  assert.equal(exported.status, 200);
  const withoutRenamed = { ...exported.body, migrations: [], behaviours: exported.body.behaviours.filter((b: { code: string }) => b.code !== 'NEWNAME') };
  const versions = await count(sql`SELECT count(*)::int AS n FROM ethogram_versions`);
  const refused = await researcher().post('/ethograms/import?newVersion=true&publish=true', withoutRenamed);
  assert.equal(refused.status, 422, refused.text);
  assert.match(refused.body.error.message, /NEWNAME was removed and 1 coding uses it/);
  assert.equal(await count(sql`SELECT count(*)::int AS n FROM ethogram_versions`), versions, 'nothing imported');
  const retired = await researcher().post('/ethograms/import?newVersion=true&publish=true', { ...withoutRenamed, migrations: [{ type: 'retire', code: 'NEWNAME' }] });
  assert.equal(retired.status, 201, retired.text);
  assert.equal(retired.body.status, 'published');
});
