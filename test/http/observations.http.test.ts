import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { makeActors, makeUser, type TestUser } from '../support/clients.ts';
import { observationTableCounts } from '../support/db-counts.ts';
import { ensureStarterEthogram } from '../support/ethogram-fixture.ts';
import { observationBody, submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  await ensureStarterEthogram(app.deps.db);
  actors = await makeActors(app);
});
after(() => app.close());

const clientOf = (who: 'anon' | 'contributor' | 'researcher' | 'admin') => (who === 'anon' ? actors.anon : actors[who].api);

describe('POST /observations', () => {
  test('concurrent submissions share statements, and each keeps its own codings and event', async () => {
    const bodies = Array.from({ length: 30 }, (_, i) => observationBody({ title: `Concurrent ${i}`, codes: i % 3 === 0 ? ['REF-FULL'] : [] }));
    const results = await Promise.all(bodies.map((b) => actors.researcher.api.post('/observations', b)));
    assert.deepEqual(results.map((r) => r.status), bodies.map(() => 201));
    const ids = results.map((r) => r.body.id as string);
    const idList = sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);
    const rows = rowsOf<{ id: string; title: string; tx: string; codings: number; events: number }>(
      await app.deps.db.execute(sql`SELECT o.id, o.title, o.xmin::text AS tx,
          (SELECT count(*)::int FROM codings c WHERE c.observation_id = o.id) AS codings,
          (SELECT count(*)::int FROM events e WHERE e.entity_id = o.id::text AND e.type = 'observation.recorded') AS events
        FROM observations o WHERE o.id IN (${idList})`),
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    ids.forEach((id, i) => {
      const row = byId.get(id);
      assert.equal(row?.title, `Concurrent ${i}`);
      assert.equal(row?.codings, i % 3 === 0 ? 1 : 0, `codings of submission ${i}`);
      assert.equal(row?.events, 1, `events of submission ${i}`);
    });
    // Rows written by one statement share its transaction id.
    assert.ok(new Set(rows.map((r) => r.tx)).size < ids.length, 'some submissions were written together');
  });

  test('anonymous visitors are asked to sign in and nothing is stored', async () => {
    const before = await observationTableCounts(app.deps.db);
    const res = await actors.anon.post('/observations', observationBody());
    assert.equal(res.status, 401);
    assert.equal(res.body.error.id, 'unauthenticated');
    assert.deepEqual(await observationTableCounts(app.deps.db), before);
  });

  for (const who of ['contributor', 'researcher', 'admin'] as const) {
    test(`${who} records an observation: 201, Location, the normalised transcript, provenance and codings`, async () => {
      const body = observationBody({
        codes: ['REF-FULL', 'fab-fact', 'REF-FULL'],
        tags: ['PDF', ' pdf', 'Citations'],
        interface: 'chat-app',
        sampling: { temperature: 0.7 },
        runtime: 'ollama',
        quantization: 'q4_k_m',
        evidenceLinks: ['https://example.org/shot.png'],
      });
      const res = await clientOf(who).post('/observations', body);
      assert.equal(res.status, 201, res.text);
      const o = res.body;
      assert.equal(res.headers.get('location'), `/api/v1/observations/${o.id}`);
      assert.equal(o.title, body.title);
      assert.equal(o.status, 'submitted');
      assert.equal(o.visibility, 'members');
      assert.equal(o.revision, 1);
      assert.equal(o.submittedBy.id, actors[who].id);
      assert.equal(o.submittedBy.email, undefined, 'no email in public views');
      assert.deepEqual(o.tags, ['pdf', 'citations']);
      assert.equal(o.transcript.format, 'openai-chat');
      assert.deepEqual(o.transcript.messages.map((m: { id: string }) => m.id), ['m1', 'm2', 'm3']);
      assert.equal(o.provenance.capture, 'api');
      assert.equal(o.provenance.interface, 'chat-app');
      assert.equal(o.provenance.runtime, 'ollama');
      assert.equal(o.provenance.quantization, 'q4_k_m');
      assert.deepEqual(o.provenance.sampling, { temperature: 0.7 });
      assert.equal(o.provenance.systemPromptSha256, createHash('sha256').update('You are a helpful assistant.').digest('hex'));
      assert.equal(o.rawSha256, createHash('sha256').update(JSON.stringify(body)).digest('hex'));
      assert.equal(o.observedAt, '2025-03-04T00:00:00.000Z');
      assert.deepEqual(o.codings.map((c: { behaviour: { code: string } }) => c.behaviour.code), ['REF-FULL', 'FAB-FACT']);
      const expectedStatus = who === 'contributor' ? 'proposed' : 'accepted';
      for (const c of o.codings) {
        assert.equal(c.status, expectedStatus);
        assert.equal(c.method, 'manual');
        assert.equal(c.span, null);
        assert.equal(c.coder.id, actors[who].id);
        assert.equal(c.ethogramVersion.slug, 'llm-starter');
      }
      // What the POST answered is what a later GET reads.
      const got = await clientOf(who).get(`/observations/${o.id}`);
      assert.equal(got.status, 200);
      assert.deepEqual({ ...got.body, codings: got.body.codings.map((c: { id: string }) => c.id) }, { ...o, codings: o.codings.map((c: { id: string }) => c.id) });
    });
  }

  test('a plain-text transcript is parsed and kept as pasted; the record event is written', async () => {
    const pasted = 'User: What is 2+2?\n\nAssistant: Five, obviously.';
    const o = await submitObservation(actors.contributor, { transcript: pasted });
    assert.equal(o.transcript.format, 'plain');
    assert.equal(o.transcript.messages.length, 2);
    const raw = await actors.contributor.api.get(`/observations/${o.id}/raw`);
    assert.equal(raw.status, 200);
    const sent = JSON.stringify(observationBody({ transcript: pasted }));
    assert.match(raw.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(raw.headers.get('x-content-sha256'), o.rawSha256);
    assert.equal(createHash('sha256').update(raw.text).digest('hex'), o.rawSha256);
    assert.equal(JSON.parse(raw.text).transcript, pasted);
    assert.ok(sent.length > 0);
    const events = rowsOf<{ type: string }>(await app.deps.db.execute(sql`SELECT type FROM events WHERE entity_id = ${o.id}`));
    assert.deepEqual(events.map((e) => e.type), ['observation.recorded']);
  });
});

describe('reading one observation', () => {
  let membersOnly: any;
  let publicOne: any;
  before(async () => {
    membersOnly = await submitObservation(actors.contributor, { visibility: 'members' });
    publicOne = await submitObservation(actors.contributor, { visibility: 'public' });
  });

  test('anonymous: public ones 200, members-only ones 401', async () => {
    assert.equal((await actors.anon.get(`/observations/${publicOne.id}`)).status, 200);
    const res = await actors.anon.get(`/observations/${membersOnly.id}`);
    assert.equal(res.status, 401);
    assert.equal((await actors.anon.get(`/observations/${membersOnly.id}/raw`)).status, 401);
    assert.equal((await actors.anon.get(`/observations/${membersOnly.id}/history`)).status, 401);
    assert.equal((await actors.anon.get(`/observations/${membersOnly.id}/codings`)).status, 401);
  });

  for (const who of ['contributor', 'researcher', 'admin'] as const) {
    test(`${who} reads members-only observations, raw payload, history and codings`, async () => {
      const c = clientOf(who);
      const res = await c.get(`/observations/${membersOnly.id}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.id, membersOnly.id);
      assert.equal(res.body.rawPayload, undefined, 'the raw payload has its own endpoint');
      assert.equal((await c.get(`/observations/${membersOnly.id}/raw`)).status, 200);
      assert.equal((await c.get(`/observations/${membersOnly.id}/history`)).status, 200);
      assert.equal((await c.get(`/observations/${membersOnly.id}/codings`)).status, 200);
    });
  }

  test('unknown and malformed ids are 404', async () => {
    assert.equal((await actors.admin.api.get('/observations/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await actors.admin.api.get('/observations/not-a-uuid')).status, 404);
  });
});

describe('listing, filtering and searching', () => {
  let lister: TestUser;
  const ids: Record<string, string> = {};
  before(async () => {
    lister = await makeUser(app, 'researcher', 'lister');
    // A provider unique to this block so the other tests' rows do not interfere.
    const p = 'listprov';
    ids.a = (await submitObservation(lister, { provider: p, model: 'Model-A', title: 'Alpha aardvark hallucination', observedAt: '2025-01-10', tags: ['alpha'], visibility: 'public', codes: ['FAB-CITE'] })).id;
    ids.b = (await submitObservation(lister, { provider: p, model: 'Model-B', title: 'Bravo bison refusal', observedAt: '2025-02-10', tags: ['bravo'], codes: ['REF-FULL'] })).id;
    ids.c = (await submitObservation(lister, { provider: p, model: 'Model-A', title: 'Charlie capybara', surprise: 'The aardvark appears only in the surprise.', observedAt: '2025-03-10', tags: ['alpha', 'charlie'], visibility: 'public' })).id;
    ids.d = (await submitObservation(lister, { provider: p, model: 'Model-B', title: 'Delta dugong', observedAt: '2025-04-10', transcript: 'User: tell me about aardvarks\nAssistant: no' })).id;
    ids.deleted = (await submitObservation(lister, { provider: p, model: 'Model-A', title: 'Echo aardvark deleted', observedAt: '2025-05-10', visibility: 'public' })).id;
    assert.equal((await lister.api.delete(`/observations/${ids.deleted}`)).status, 204);
    await actors.researcher.api.post(`/observations/${ids.b}/triage`, { status: 'triaged' });
  });
  const idsOf = (res: { body: { data: { id: string }[] } }) => res.body.data.map((o) => o.id);

  test('anonymous visitors see public ones only; deleted ones are never listed', async () => {
    const res = await actors.anon.get('/observations?provider=listprov');
    assert.equal(res.status, 200);
    assert.deepEqual(idsOf(res), [ids.c, ids.a]);
    assert.equal(res.body.total, 2);
    for (const who of ['contributor', 'researcher', 'admin'] as const) {
      const all = await clientOf(who).get('/observations?provider=listprov');
      assert.deepEqual(idsOf(all), [ids.d, ids.c, ids.b, ids.a], who);
    }
  });

  test('list items carry what a results page needs, without the transcript', async () => {
    const res = await lister.api.get('/observations?provider=listprov&model=Model-A');
    const item = res.body.data.find((o: { id: string }) => o.id === ids.a);
    assert.equal(item.title, 'Alpha aardvark hallucination');
    assert.equal(item.transcript, undefined);
    assert.deepEqual(item.tags, ['alpha']);
    assert.deepEqual(item.behaviours.map((b: { code: string }) => b.code), ['FAB-CITE']);
    assert.equal(item.submittedBy.displayName, 'lister');
    assert.equal(item.snippet, null);
  });

  test('each filter narrows the list', async () => {
    const list = async (qs: string) => idsOf(await lister.api.get(`/observations?provider=listprov&${qs}`));
    assert.deepEqual(await list('model=Model-A'), [ids.c, ids.a]);
    assert.deepEqual(await list('behaviour=REF-FULL'), [ids.b]);
    assert.deepEqual(await list('behaviour=fab-cite'), [ids.a], 'codes match case-insensitively');
    assert.deepEqual(await list('category=fabrication'), [ids.a]);
    assert.deepEqual(await list('tag=alpha'), [ids.c, ids.a]);
    assert.deepEqual(await list('tag=CHARLIE'), [ids.c]);
    assert.deepEqual(await list('status=triaged'), [ids.b]);
    assert.deepEqual(await list('status=coded'), [], 'codes given on submission do not mark it coded');
    assert.deepEqual(await list('from=2025-02-10&to=2025-03-10'), [ids.c, ids.b], 'from and to are inclusive days');
    assert.deepEqual(await list('from=2025-03-11'), [ids.d]);
    assert.deepEqual(await list('model=nope'), []);
    const repeated = await lister.api.get('/observations?provider=a&provider=b');
    assert.equal(repeated.status, 422, 'a repeated filter is refused rather than guessed');
  });

  test('full-text search over title, surprise and transcript; snippets are plain-text segments', async () => {
    await app.drainSearchIndex();
    const res = await lister.api.get('/observations?provider=listprov&q=aardvark');
    assert.equal(res.status, 200);
    assert.deepEqual(new Set(idsOf(res)), new Set([ids.a, ids.c, ids.d]));
    assert.equal(res.body.data[0].id, ids.a, 'relevance is the default with q: a title hit ranks first');
    for (const item of res.body.data) {
      assert.ok(Array.isArray(item.snippet));
      assert.ok(item.snippet.some((s: { text: string; match: boolean }) => s.match && /aardvark/i.test(s.text)), JSON.stringify(item.snippet));
      assert.equal(typeof item.rank, 'number');
    }
    const phrase = await lister.api.get(`/observations?provider=listprov&q=${encodeURIComponent('"bison refusal"')}`);
    assert.deepEqual(idsOf(phrase), [ids.b]);
    const negated = await lister.api.get(`/observations?provider=listprov&q=${encodeURIComponent('aardvark -charlie')}`);
    assert.deepEqual(new Set(idsOf(negated)), new Set([ids.a, ids.d]));
  });

  test('sorts: observed (both ways), created, relevance', async () => {
    const sorted = async (sort: string, extra = '') => idsOf(await lister.api.get(`/observations?provider=listprov&sort=${sort}${extra}`));
    assert.deepEqual(await sorted('observed_desc'), [ids.d, ids.c, ids.b, ids.a]);
    assert.deepEqual(await sorted('observed_asc'), [ids.a, ids.b, ids.c, ids.d]);
    assert.deepEqual(await sorted('created_desc'), [ids.d, ids.c, ids.b, ids.a]);
    assert.deepEqual(await sorted('relevance'), [ids.d, ids.c, ids.b, ids.a], 'relevance without q falls back to newest observed');
    const byDate = await sorted('observed_desc', '&q=aardvark');
    assert.deepEqual(byDate, [ids.d, ids.c, ids.a]);
  });

  test('pagination: page, pageSize, total and totalPages', async () => {
    const p1 = await lister.api.get('/observations?provider=listprov&pageSize=3');
    assert.deepEqual(idsOf(p1), [ids.d, ids.c, ids.b]);
    assert.equal(p1.body.total, 4);
    assert.equal(p1.body.totalPages, 2);
    assert.equal(p1.body.totalCapped, false);
    const p2 = await lister.api.get('/observations?provider=listprov&pageSize=3&page=2');
    assert.deepEqual(idsOf(p2), [ids.a]);
    assert.equal(p2.body.page, 2);
    const beyond = await lister.api.get('/observations?provider=listprov&pageSize=3&page=5');
    assert.deepEqual(idsOf(beyond), []);
    assert.equal(beyond.body.total, 4);
  });

  test('bad filters are 422 naming the field', async () => {
    for (const qs of ['status=lost', 'from=yesterday', 'sort=random', 'pageSize=1000', 'page=0']) {
      const res = await lister.api.get(`/observations?${qs}`);
      assert.equal(res.status, 422, qs);
      assert.ok(res.body.error.details.fields[qs.split('=')[0]!], qs);
    }
  });

  test('filter options list providers and models of visible observations', async () => {
    const res = await lister.api.get('/observations/filter-options');
    assert.equal(res.status, 200);
    assert.ok(res.body.providers.includes('listprov'));
    assert.ok(res.body.models.includes('Model-A') && res.body.models.includes('Model-B'));
    const anon = await actors.anon.get('/observations/filter-options');
    assert.ok(anon.body.models.includes('Model-A'));
    assert.ok(!anon.body.models.includes('Model-B'), 'members-only models are not shown to anonymous visitors');
  });
});

describe('large result sets', () => {
  test('counts are capped ("300+" for searches); pages still come back in order', async () => {
    const seed = await submitObservation(actors.researcher, { provider: 'bulkprov', title: 'Quetzal seed', visibility: 'public' });
    // 1,100 copies straight in SQL (the API would take too long for a test), with distinct dates.
    await app.deps.db.execute(sql`INSERT INTO observations (title, surprise, status, visibility, provider, model, provenance, observed_at,
        submitted_by, raw_payload, raw_sha256, transcript, evidence_links, tags, search)
      SELECT o.title || ' ' || g, o.surprise, o.status, o.visibility, o.provider, o.model, o.provenance,
        o.observed_at - make_interval(days => g), o.submitted_by, o.raw_payload, o.raw_sha256, o.transcript, o.evidence_links, o.tags, o.search
      FROM observations o, generate_series(1, 1100) g WHERE o.id = ${seed.id}::uuid`);
    const listed = await actors.anon.get('/observations?provider=bulkprov&pageSize=50&page=3');
    assert.equal(listed.body.total, 1101, 'lists count exactly up to 10,000');
    assert.equal(listed.body.totalCapped, false);
    assert.equal(listed.body.totalPages, 23);
    assert.equal(listed.body.data.length, 50);
    const dates = listed.body.data.map((o: { observedAt: string }) => o.observedAt);
    assert.deepEqual(dates, [...dates].sort().reverse());

    await app.drainSearchIndex();
    const searched = await actors.anon.get('/observations?q=quetzal&pageSize=10');
    assert.equal(searched.body.total, 300);
    assert.equal(searched.body.totalCapped, true, 'searches say "300+"');
    assert.equal(searched.body.totalPages, 30);
    assert.equal(searched.body.data.length, 10);
    assert.equal(searched.body.data[0].id, seed.id, 'equal ranks fall back to the newest');
    const deep = await actors.anon.get('/observations?q=quetzal&sort=observed_asc&pageSize=100&page=11');
    assert.equal(deep.status, 200);
    assert.equal(deep.body.data.length, 100, 'pages past the counted 300 still list matches');
    const phrase = await actors.anon.get(`/observations?q=${encodeURIComponent('"quetzal seed"')}&pageSize=5`);
    assert.equal(phrase.body.totalCapped, true);
    assert.equal(phrase.body.total, 200, 'phrase searches count fewer');
    assert.equal(phrase.body.data.length, 5);
  });
});

describe('editing', () => {
  test('the owner edits: revision goes up, the previous state is kept, search follows the new text', async () => {
    const o = await submitObservation(actors.contributor, { title: 'Original wombat title' });
    const res = await actors.contributor.api.patch(`/observations/${o.id}`, { title: 'Edited quokka title', revision: 1, tags: ['Edited'] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.title, 'Edited quokka title');
    assert.equal(res.body.revision, 2);
    assert.deepEqual(res.body.tags, ['edited']);
    assert.equal(res.body.visibility, o.visibility, 'absent fields are unchanged');
    assert.deepEqual(res.body.transcript, o.transcript);
    const history = await actors.contributor.api.get(`/observations/${o.id}/history`);
    assert.equal(history.body.revisions.length, 1);
    assert.equal(history.body.revisions[0].snapshot.title, 'Original wombat title');
    assert.equal(history.body.revisions[0].revision, 1);
    assert.equal(history.body.revisions[0].actor.displayName, 'contributor');
    assert.deepEqual(history.body.events.map((e: { type: string }) => e.type), ['observation.updated', 'observation.recorded']);
    await app.drainSearchIndex();
    const found = await actors.contributor.api.get('/observations?q=quokka');
    assert.deepEqual(found.body.data.map((x: { id: string }) => x.id), [o.id]);
    assert.equal((await actors.contributor.api.get('/observations?q=wombat')).body.data.length, 0);
  });

  test('provenance fields are edited one by one; the capture path and the others stay', async () => {
    const o = await submitObservation(actors.contributor, { runtime: 'ollama', quantization: 'q4_k_m' });
    const res = await actors.contributor.api.patch(`/observations/${o.id}`, { runtime: 'vllm' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.provenance, { ...o.provenance, runtime: 'vllm' });
  });

  test('a stale revision is a 409 that stores nothing', async () => {
    const o = await submitObservation(actors.contributor);
    assert.equal((await actors.contributor.api.patch(`/observations/${o.id}`, { title: 'first edit', revision: 1 })).status, 200);
    const stale = await actors.admin.api.patch(`/observations/${o.id}`, { title: 'second edit', revision: 1 });
    assert.equal(stale.status, 409);
    assert.match(stale.body.error.message, /Someone else edited/);
    assert.equal(stale.body.error.details.currentRevision, 2);
    assert.equal((await actors.contributor.api.get(`/observations/${o.id}`)).body.title, 'first edit');
  });

  test('a new transcript is read again; an unreadable one is 422 on transcript', async () => {
    const o = await submitObservation(actors.contributor);
    const res = await actors.contributor.api.patch(`/observations/${o.id}`, { transcript: 'User: hi\nAssistant: hello there' });
    assert.equal(res.status, 200);
    assert.equal(res.body.transcript.format, 'plain');
    assert.notEqual(res.body.rawSha256, o.rawSha256);
    const bad = await actors.contributor.api.patch(`/observations/${o.id}`, { transcript: 'no role labels here at all' });
    assert.equal(bad.status, 422);
    assert.ok(bad.body.error.details.fields.transcript);
    assert.equal((await actors.contributor.api.get(`/observations/${o.id}`)).body.revision, 2);
  });

  test('who may edit: owner and admin yes; others 403; anonymous 401', async () => {
    const o = await submitObservation(actors.contributor, { visibility: 'public' });
    const other = await makeUser(app, 'contributor', 'other');
    assert.equal((await other.api.patch(`/observations/${o.id}`, { title: 'hijack' })).status, 403);
    assert.equal((await actors.researcher.api.patch(`/observations/${o.id}`, { title: 'hijack' })).status, 403);
    assert.equal((await actors.anon.patch(`/observations/${o.id}`, { title: 'hijack' })).status, 401);
    const byAdmin = await actors.admin.api.patch(`/observations/${o.id}`, { title: 'moderated' });
    assert.equal(byAdmin.status, 200);
    assert.equal((await actors.anon.get(`/observations/${o.id}`)).body.title, 'moderated');
  });

  test('an empty edit is 422', async () => {
    const o = await submitObservation(actors.contributor);
    const res = await actors.contributor.api.patch(`/observations/${o.id}`, { revision: 1 });
    assert.equal(res.status, 422);
  });
});

describe('triage', () => {
  test('researchers and admins triage; contributors 403; anonymous 401', async () => {
    const o = await submitObservation(actors.contributor, { visibility: 'public' });
    assert.equal((await actors.contributor.api.post(`/observations/${o.id}/triage`, { status: 'triaged' })).status, 403);
    assert.equal((await actors.anon.post(`/observations/${o.id}/triage`, { status: 'triaged' })).status, 401);
    const res = await actors.researcher.api.post(`/observations/${o.id}/triage`, { status: 'triaged' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'triaged');
    assert.equal(res.body.revision, 2);
    const rejected = await actors.admin.api.post(`/observations/${o.id}/triage`, { status: 'rejected' });
    assert.equal(rejected.body.status, 'rejected');
    const history = await actors.admin.api.get(`/observations/${o.id}/history`);
    assert.deepEqual(history.body.revisions.map((r: { snapshot: { status: string } }) => r.snapshot.status), ['triaged', 'submitted']);
  });

  test('duplicate needs an existing other observation', async () => {
    const o = await submitObservation(actors.contributor);
    const original = await submitObservation(actors.contributor);
    const missing = await actors.researcher.api.post(`/observations/${o.id}/triage`, { status: 'duplicate' });
    assert.equal(missing.status, 422);
    assert.ok(missing.body.error.details.fields.duplicateOf);
    const self = await actors.researcher.api.post(`/observations/${o.id}/triage`, { status: 'duplicate', duplicateOf: o.id });
    assert.equal(self.status, 422);
    const unknown = await actors.researcher.api.post(`/observations/${o.id}/triage`, { status: 'duplicate', duplicateOf: '00000000-0000-4000-8000-000000000000' });
    assert.equal(unknown.status, 422);
    const ok = await actors.researcher.api.post(`/observations/${o.id}/triage`, { status: 'duplicate', duplicateOf: original.id });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.duplicateOf, original.id);
  });
});

describe('deletion is a tombstone; admins restore', () => {
  test('delete, hide, list in the trash, restore', async () => {
    const o = await submitObservation(actors.contributor, { visibility: 'public', title: 'Tombstone target' });
    const other = await makeUser(app, 'contributor', 'not-owner');
    assert.equal((await other.api.delete(`/observations/${o.id}`)).status, 403);
    assert.equal((await actors.researcher.api.delete(`/observations/${o.id}`)).status, 403);
    assert.equal((await actors.anon.delete(`/observations/${o.id}`)).status, 401);
    assert.equal((await actors.contributor.api.delete(`/observations/${o.id}`)).status, 204);

    for (const who of ['anon', 'contributor', 'researcher'] as const) {
      assert.equal((await clientOf(who).get(`/observations/${o.id}`)).status, 404, who);
      assert.equal((await clientOf(who).post(`/observations/${o.id}/restore`)).status, 404, who);
    }
    assert.equal((await actors.contributor.api.delete(`/observations/${o.id}`)).status, 404, 'deleting twice');
    const asAdmin = await actors.admin.api.get(`/observations/${o.id}`);
    assert.equal(asAdmin.status, 200);
    assert.ok(asAdmin.body.deletedAt);
    assert.equal(asAdmin.body.revision, 2);
    const row = rowsOf<{ deleted_by: string }>(await app.deps.db.execute(sql`SELECT deleted_by FROM observations WHERE id = ${o.id}::uuid`))[0];
    assert.equal(row?.deleted_by, actors.contributor.id, 'the row stays, marked');

    assert.equal((await actors.researcher.api.get('/trash/observations')).status, 403);
    const trash = await actors.admin.api.get('/trash/observations');
    assert.ok(trash.body.data.some((t: { id: string; deletedBy: { id: string } }) => t.id === o.id && t.deletedBy.id === actors.contributor.id));

    const restored = await actors.admin.api.post(`/observations/${o.id}/restore`);
    assert.equal(restored.status, 200);
    assert.equal(restored.body.deletedAt, null);
    assert.equal(restored.body.revision, 3);
    assert.equal((await actors.anon.get(`/observations/${o.id}`)).status, 200);
    assert.equal((await actors.admin.api.post(`/observations/${o.id}/restore`)).status, 409, 'not deleted any more');
    const history = await actors.admin.api.get(`/observations/${o.id}/history`);
    assert.deepEqual(history.body.events.map((e: { type: string }) => e.type), ['observation.restored', 'observation.deleted', 'observation.recorded']);
    assert.deepEqual(history.body.revisions.map((r: { reason: string }) => r.reason), ['restore', 'delete']);
  });

  test('admins delete anyone\'s observation', async () => {
    const o = await submitObservation(actors.contributor);
    assert.equal((await actors.admin.api.delete(`/observations/${o.id}`)).status, 204);
  });
});

describe('tags', () => {
  test('owner and researchers tag; other contributors 403; anonymous 401; counts only visible ones', async () => {
    const o = await submitObservation(actors.contributor, { visibility: 'public', tags: ['zeta-tag'] });
    const hidden = await submitObservation(actors.contributor, { visibility: 'members', tags: ['hidden-tag'] });
    const other = await makeUser(app, 'contributor', 'tagger');
    assert.equal((await other.api.post(`/observations/${o.id}/tags`, { tags: ['x'] })).status, 403);
    assert.equal((await actors.anon.post(`/observations/${o.id}/tags`, { tags: ['x'] })).status, 401);
    const owner = await actors.contributor.api.post(`/observations/${o.id}/tags`, { tags: ['Eta-Tag', 'zeta-tag'] });
    assert.equal(owner.status, 200);
    assert.deepEqual(owner.body.tags, ['zeta-tag', 'eta-tag']);
    const researcher = await actors.researcher.api.post(`/observations/${o.id}/tags`, { tags: ['theta-tag'] });
    assert.deepEqual(researcher.body.tags, ['zeta-tag', 'eta-tag', 'theta-tag']);
    const admin = await actors.admin.api.delete(`/observations/${o.id}/tags/ETA-TAG`);
    assert.equal(admin.status, 200);
    assert.deepEqual(admin.body.tags, ['zeta-tag', 'theta-tag']);
    assert.equal((await other.api.delete(`/observations/${o.id}/tags/zeta-tag`)).status, 403);
    const again = await actors.admin.api.delete(`/observations/${o.id}/tags/eta-tag`);
    assert.deepEqual(again.body.tags, ['zeta-tag', 'theta-tag'], 'removing a missing tag changes nothing');
    const bad = await actors.contributor.api.post(`/observations/${o.id}/tags`, { tags: ['<b>'] });
    assert.equal(bad.status, 422);
    assert.ok(bad.body.error.details.fields['tags.0']);

    const anonTags = await actors.anon.get('/tags');
    assert.equal(anonTags.status, 200);
    const names = anonTags.body.data.map((t: { tag: string }) => t.tag);
    assert.ok(names.includes('theta-tag'));
    assert.ok(!names.includes('hidden-tag'), 'members-only tags are not shown to anonymous visitors');
    const memberTags = await actors.contributor.api.get('/tags');
    assert.ok(memberTags.body.data.some((t: { tag: string; count: number }) => t.tag === 'hidden-tag' && t.count === 1));
    assert.ok(hidden.id);
    const history = await actors.admin.api.get(`/observations/${o.id}/history`);
    assert.deepEqual(history.body.revisions.map((r: { reason: string }) => r.reason), ['untag', 'tag', 'tag']);
  });
});

describe('Idempotency-Key', () => {
  test('a retry with the same key returns the first result, marked as replayed, and stores one row', async () => {
    const body = observationBody({ title: 'Idempotent once' });
    const headers = { 'Idempotency-Key': 'retry-1' };
    const first = await actors.contributor.api.post('/observations', body, headers);
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const counts = await observationTableCounts(app.deps.db);
    const second = await actors.contributor.api.post('/observations', { ...body }, headers);
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.headers.get('location'), first.headers.get('location'));
    assert.deepEqual(second.body, first.body);
    assert.deepEqual(await observationTableCounts(app.deps.db), counts);
  });

  test('the same key with a different body is 422 idempotency_conflict and stores nothing', async () => {
    const headers = { 'Idempotency-Key': 'retry-2' };
    assert.equal((await actors.contributor.api.post('/observations', observationBody(), headers)).status, 201);
    const counts = await observationTableCounts(app.deps.db);
    const res = await actors.contributor.api.post('/observations', observationBody(), headers);
    assert.equal(res.status, 422);
    assert.equal(res.body.error.id, 'idempotency_conflict');
    assert.deepEqual(await observationTableCounts(app.deps.db), counts);
  });

  test('keys are per person: another person\'s same key is a new request', async () => {
    const headers = { 'Idempotency-Key': 'shared-key' };
    const a = await actors.contributor.api.post('/observations', observationBody(), headers);
    const b = await actors.researcher.api.post('/observations', observationBody(), headers);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.id, b.body.id);
  });

  test('concurrent double submit with one key creates one row', async () => {
    const body = observationBody({ title: `Concurrent ${Date.now()}` });
    const headers = { 'Idempotency-Key': `concurrent-${Date.now()}` };
    const results = await Promise.all(Array.from({ length: 4 }, () => actors.contributor.api.post('/observations', body, headers)));
    assert.deepEqual(results.map((r) => r.status), [201, 201, 201, 201]);
    assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    assert.equal(results.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 3);
    const rows = rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM observations WHERE title = ${body.title as string}`));
    assert.equal(Number(rows[0]!.n), 1);
  });

  test('a refused request stores no key, so fixing it and retrying with the same key works', async () => {
    const headers = { 'Idempotency-Key': 'fix-and-retry' };
    const bad = await actors.contributor.api.post('/observations', observationBody({ codes: ['NOPE'] }), headers);
    assert.equal(bad.status, 422);
    const good = await actors.contributor.api.post('/observations', observationBody(), headers);
    assert.equal(good.status, 201);
    assert.equal(good.headers.get('idempotent-replayed'), null);
  });

  test('an over-long key is 422', async () => {
    const counts = await observationTableCounts(app.deps.db);
    const res = await actors.contributor.api.post('/observations', observationBody(), { 'Idempotency-Key': 'k'.repeat(201) });
    assert.equal(res.status, 422);
    assert.ok(res.body.error.details.fields['Idempotency-Key']);
    assert.deepEqual(await observationTableCounts(app.deps.db), counts);
  });
});
