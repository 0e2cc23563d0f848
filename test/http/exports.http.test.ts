import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { readdir } from 'node:fs/promises';
import { DestinationClosed, exportObservations } from '../../observations/export/export-observations.ts';
import { exportBatches } from '../../observations/export/export.queries.ts';
import { openZip } from '../../observations/importers/zip-reader.ts';
import { listFiltersSchema } from '../../observations/observation.input.ts';
import { makeActors, signedInWeb } from '../support/clients.ts';
import { uploadImport, waitForImport } from '../support/imports.ts';
import { submitObservation } from '../support/observation-factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/** Open-data exports over HTTP: JSONL, CSV and the ZIP dataset, who gets what, filters, the JSONL round trip. */
let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
const dir = mkdtempSync(path.join(tmpdir(), 'menagerie-exports-http-'));
const ids: Record<'pub' | 'members' | 'other' | 'deleted', string> = { pub: '', members: '', other: '', deleted: '' };
let withdrawnCodingId = '';

const anthropicTranscript = {
  system: 'Answer in one line.',
  messages: [
    { role: 'user', content: 'Which is larger, 9.11 or 9.9?' },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 'Compare decimals.', signature: 'sig' }, { type: 'text', text: '9.11 is larger, "obviously".' }] },
  ],
};

before(async () => {
  app = await startTestApp({ loadStarter: true });
  actors = await makeActors(app);
  const pub = await submitObservation(actors.contributor, {
    title: '=HYPERLINK("http://evil.example","click") decimal comparison',
    surprise: 'It compared decimals as strings, then insisted.',
    provider: 'anthropic',
    model: 'claude-x',
    modelVersion: '2026-01-01',
    transcript: anthropicTranscript,
    visibility: 'public',
    tags: ['arithmetic', 'persistent error'],
    sampling: { temperature: 0.2 },
    harness: 'manual, with "quotes"',
  });
  ids.pub = pub.id;
  ids.members = (await submitObservation(actors.contributor, { tags: ['summary'], codes: ['REF-FULL'] })).id;
  ids.other = (await submitObservation(actors.researcher, { provider: 'local', model: 'llama', title: 'Local loop' })).id;
  ids.deleted = (await submitObservation(actors.contributor, { title: 'Deleted one' })).id;
  assert.equal((await actors.contributor.api.delete(`/observations/${ids.deleted}`)).status, 204);
  const span = { messageId: pub.transcript.messages[2].id, partIndex: 1, start: 0, end: 4 };
  const coded = await actors.researcher.api.post(`/observations/${ids.pub}/codings`, { code: 'REF-OVER', span, modifiers: { severity: 'mild' }, rationale: '-1 for arithmetic', confidence: 0.75 });
  assert.equal(coded.status, 201, coded.text);
  const withdrawn = await actors.researcher.api.post(`/observations/${ids.pub}/codings`, { code: 'REF-PART' });
  withdrawnCodingId = withdrawn.body.id;
  assert.equal((await actors.researcher.api.delete(`/codings/${withdrawnCodingId}`)).status, 200);
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

async function download(format: string, query = '', token?: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(`${app.url}/api/v1/observations/export.${format}${query ? `?${query}` : ''}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
const lines = (bytes: Buffer) => bytes.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('GET /api/v1/observations/export.*', () => {
  test('JSONL: every observation the caller may see (deleted never, members-only to signed-in people), with codings, tags and provenance', async () => {
    const res = await download('jsonl', '', actors.researcher.token);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/x-ndjson/);
    assert.match(res.headers.get('content-disposition')!, /^attachment; filename="menagerie-observations-\d{8}-\d{6}\.jsonl"$/);
    assert.match(res.headers.get('cache-control')!, /no-transform/);
    const all = lines(res.bytes);
    assert.deepEqual(all.map((o) => o.id).sort(), [ids.pub, ids.members, ids.other].sort());
    const pub = all.find((o) => o.id === ids.pub);
    assert.deepEqual([pub.format, pub.provider, pub.model, pub.modelVersion, pub.visibility, pub.tags], ['menagerie.observation/v1', 'anthropic', 'claude-x', '2026-01-01', 'public', ['arithmetic', 'persistent error']]);
    assert.deepEqual([pub.metadata.capture, pub.metadata.sampling, pub.metadata.harness], ['api', { temperature: 0.2 }, 'manual, with "quotes"']);
    assert.deepEqual(pub.messages.map((m: any) => m.role), ['system', 'user', 'assistant']);
    assert.equal(pub.codings.length, 1, 'the withdrawn coding is left out');
    const coding = pub.codings[0];
    assert.deepEqual([coding.behaviour.code, coding.ethogram.version, coding.method, coding.status, coding.confidence, coding.modifiers, coding.rationale], ['REF-OVER', 1, 'manual', 'accepted', 0.75, { severity: 'mild' }, '-1 for arithmetic']);
    assert.deepEqual(coding.span, { messageId: pub.messages[2].id, partIndex: 1, start: 0, end: 4, quote: coding.span.quote });
    assert.equal(coding.coder.id, actors.researcher.id);
    assert.ok(all.find((o) => o.id === ids.members).codings.some((c: any) => c.behaviour.code === 'REF-FULL'));

    const anon = lines((await download('jsonl')).bytes);
    assert.deepEqual(anon.map((o) => o.id), [ids.pub], 'anonymous visitors export public observations only');
  });

  test('the list filters apply to the whole set; bad filters are a 422 naming the field, before any byte', async () => {
    assert.deepEqual(lines((await download('jsonl', 'provider=local', actors.contributor.token)).bytes).map((o) => o.id), [ids.other]);
    assert.deepEqual(lines((await download('jsonl', 'tag=summary', actors.contributor.token)).bytes).map((o) => o.id), [ids.members]);
    assert.deepEqual(lines((await download('jsonl', 'behaviour=REF-OVER', actors.contributor.token)).bytes).map((o) => o.id), [ids.pub]);
    assert.deepEqual(lines((await download('jsonl', 'behaviour=REF-PART', actors.contributor.token)).bytes), [], 'a withdrawn coding does not match');
    assert.equal((await download('jsonl', 'provider=nobody', actors.contributor.token)).bytes.length, 0);
    const bad = await download('csv', 'from=someday', actors.contributor.token);
    assert.equal(bad.status, 422);
    const body = JSON.parse(bad.bytes.toString());
    assert.equal(body.error.id, 'validation_failed');
    assert.match(body.error.details.fields.from, /YYYY-MM-DD/);
  });

  test('keyset pagination reads every row once across batches, ties on the creation time included', async () => {
    await app.deps.db.execute(sql`UPDATE observations SET created_at = '2026-01-01T00:00:00.123456Z' WHERE id IN (${ids.pub}::uuid, ${ids.members}::uuid)`);
    const ctx = { db: app.deps.db, actor: { kind: 'user', id: actors.admin.id, email: actors.admin.email, displayName: 'admin', role: 'admin', via: 'token' } as const, now: () => new Date() };
    const seen: string[] = [];
    for await (const batch of exportBatches(ctx, listFiltersSchema.parse({}), { batchSize: 1 })) seen.push(...batch.map((o) => o.id));
    assert.equal(seen.length, 3);
    assert.deepEqual([...seen].sort(), [ids.pub, ids.members, ids.other].sort());
  });

  test('a destination that closes fails the export and removes the ZIP\'s temporary files; a client that leaves ends the walk', async () => {
    const ctx = { db: app.deps.db, actor: { kind: 'user', id: actors.admin.id, email: actors.admin.email, displayName: 'admin', role: 'admin', via: 'token' } as const, now: () => new Date() };
    const tempDirs = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('menagerie-export-')).sort();
    const before = await tempDirs();
    let writes = 0;
    const closing = async () => {
      if (++writes > 1) throw new DestinationClosed();
    };
    await assert.rejects(exportObservations(ctx, listFiltersSchema.parse({}), 'zip', closing, { batchSize: 1 }), DestinationClosed);
    assert.deepEqual(await tempDirs(), before, 'the spooled CSVs are gone');
    const stopped = new AbortController();
    let batches = 0;
    await assert.rejects(async () => {
      for await (const _ of exportBatches(ctx, listFiltersSchema.parse({}), { batchSize: 1, signal: stopped.signal })) {
        batches++;
        stopped.abort();
      }
    }, /abort/i);
    assert.equal(batches, 1, 'an aborted signal ends the walk at the next batch');
  });

  test('CSV: one row per observation, RFC 4180 quoting, formulas defused', async () => {
    const res = await download('csv', '', actors.researcher.token);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/csv/);
    const text = res.bytes.toString('utf8');
    const header = text.slice(0, text.indexOf('\r\n')).split(',');
    assert.deepEqual(header.slice(0, 4), ['id', 'title', 'surprise', 'status']);
    assert.deepEqual(header.slice(-3), ['transcript_excerpt', 'transcript_chars', 'transcript_sha256']);
    assert.ok(header.includes('codes') && header.includes('provenance_json'));
    const plain = 'system: Answer in one line.\n\nuser: Which is larger, 9.11 or 9.9?\n\nassistant: [reasoning: Compare decimals.]\n9.11 is larger, "obviously".';
    const pubRow = text.split('\r\n').find((l) => l.startsWith(ids.pub))!;
    assert.ok(text.includes(`"${plain.replace(/"/g, '""')}",${plain.length},${createHash('sha256').update(plain).digest('hex')}\r\n`), pubRow);
    assert.ok(text.includes(`${ids.pub},"'=HYPERLINK(""http://evil.example"",""click"") decimal comparison"`), 'the title is quoted and prefixed');
    assert.ok(text.includes('arithmetic|persistent error'));
    assert.equal(text.match(new RegExp(`^(${[ids.pub, ids.members, ids.other].join('|')}),`, 'gm'))?.length, 3);
  });

  test('ZIP dataset: JSONL, both CSVs, the ethogram version and a README, read by yauzl and unzip', async () => {
    const res = await download('zip', 'from=2020-01-01', actors.researcher.token);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    const file = path.join(dir, 'export.zip');
    writeFileSync(file, res.bytes);
    const archive = await openZip({ path: file }, 'export.zip');
    const files = new Map<string, string>();
    for (const e of archive.entries) files.set(e.name, (await e.read()).toString('utf8'));
    archive.close();
    const starter = [...files.keys()].find((n) => n.startsWith('ethograms/'))!;
    assert.deepEqual([...files.keys()], ['observations.jsonl', 'observations.csv', 'codings.csv', starter, 'README.md']);
    assert.match(starter, /^ethograms\/[a-z0-9-]+-v1\.json$/);
    assert.equal(JSON.parse(files.get(starter)!).format, 'menagerie.ethogram/v1');
    assert.equal(lines(Buffer.from(files.get('observations.jsonl')!)).length, 3);
    const codingRows = files.get('codings.csv')!.trim().split('\r\n');
    assert.equal(codingRows.length, 1 + 2, 'header, the REF-OVER coding and the REF-FULL one');
    assert.ok(!files.get('codings.csv')!.includes(withdrawnCodingId));
    assert.ok(files.get('codings.csv')!.includes(`"'-1 for arithmetic"`) || files.get('codings.csv')!.includes(`'-1 for arithmetic`));
    const readme = files.get('README.md')!;
    assert.match(readme, /Filters: `from=2020-01-01`/);
    assert.match(readme, /Observations: 3 /);
    assert.match(readme, /Codings: 2 /);
    assert.ok(readme.includes(`\`${starter}\``));
    for (const column of ['transcript_excerpt', 'behaviour_key', 'modifiers_json', 'messages', 'metadata']) assert.ok(readme.includes(`\`${column}\``), column);
    if (spawnSync('unzip', ['-v']).status === 0) assert.match(execFileSync('unzip', ['-t', file]).toString(), /No errors detected/);
  });

  test('round trip: the JSONL export imports back (POST /imports) as the same observations', async () => {
    const exported = await download('jsonl', '', actors.researcher.token);
    const originals = lines(exported.bytes);
    const upload = await uploadImport(app.url, exported.bytes, { token: actors.admin.token, fileName: 'export.jsonl' });
    assert.equal(upload.status, 202, upload.text);
    const done = await waitForImport(actors.admin.api, upload.body.id);
    assert.equal(done.status, 'done', JSON.stringify(done));
    assert.deepEqual([done.counts.imported, done.counts.failed], [3, 0]);
    const back = rowsOf<any>(await app.deps.db.execute(sql`SELECT id, title, surprise, provider, model, model_version, tags, provenance, transcript
      FROM observations WHERE provenance->>'capture' = 'import' AND deleted_at IS NULL`));
    assert.equal(back.length, 3);
    for (const original of originals) {
      const copy = back.find((r) => r.provenance.recordId === original.id);
      assert.ok(copy, `observation ${original.id} came back`);
      assert.deepEqual(
        [copy.title, copy.surprise, copy.provider, copy.model, copy.model_version, copy.tags],
        [original.title, original.surprise, original.provider, original.model, original.modelVersion, original.tags],
      );
      assert.deepEqual(copy.transcript.messages, original.messages, 'the transcript, message ids included');
      assert.deepEqual(copy.provenance.source, original.metadata, 'the provenance facts');
      assert.equal(copy.provenance.sourceFormat, 'jsonl');
    }
    const again = await uploadImport(app.url, exported.bytes, { token: actors.admin.token, fileName: 'export.jsonl' });
    assert.equal((await waitForImport(actors.admin.api, again.body.id)).counts.duplicates, 3, 'importing the same export twice files nothing new');
  });

  test('the list page links to the three exports with its filters, for anyone', async () => {
    const web = await signedInWeb(app, actors.contributor);
    const page = await web.get('/observations?provider=anthropic&sort=observed_asc');
    assert.equal(page.status, 200);
    const hrefs = [...page.text.matchAll(/<a href="([^"]+)" download>/g)].map((m) => m[1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'));
    assert.deepEqual(hrefs, ['jsonl', 'csv', 'zip'].map((format) => `/api/v1/observations/export.${format}?provider=anthropic`), 'the filters, without sort or page');
    const viaSession = await fetch(`${app.url}/api/v1/observations/export.jsonl?provider=anthropic`, { headers: { cookie: [...web.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    assert.equal(lines(Buffer.from(await viaSession.arrayBuffer())).length, 2, 'the link works with the session (the copy imported above included)');
    const empty = await web.get('/observations?provider=nobody');
    assert.ok(!empty.text.includes('export.jsonl'), 'no export links for an empty selection');
  });
});
