import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../core/db.ts';
import { ImportQueue } from '../../server/imports/import-queue.ts';
import { makeActors, signedInWeb } from '../support/clients.ts';
import { observationTableCounts } from '../support/db-counts.ts';
import { jsonlFile, jsonlLine, uploadImport, waitForImport } from '../support/imports.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const LIMIT = 64 * 1024;

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false, config: { importMaxBytes: LIMIT } });
  actors = await makeActors(app);
});
after(() => app.close());

/** Three good lines and a malformed one at index 2. */
const JSONL = [jsonlLine('h-1', 'Is 9.11 > 9.9?'), jsonlLine('h-2', 'Capital of France?'), '{"model": "gpt-4o", "messages": [', jsonlLine('h-3', 'Count the rs in strawberry')].join('\n') + '\n';

const importCount = async () => rowsOf<{ n: number }>(await app.deps.db.execute(sql`SELECT count(*)::int AS n FROM imports`))[0]!.n;
const uploads = async () => readdir(ImportQueue.uploadDir).catch(() => [] as string[]);
/**
 * The upload folder once the queue has let go of a finished import: the queue deletes the file just after the
 * import's end is committed (a client can see `done` a moment before), so this waits up to 5 s for it to go.
 */
const uploadsAfterImportEnds = async () => {
  const deadline = Date.now() + 5_000;
  let files = await uploads();
  while (files.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    files = await uploads();
  }
  return files;
};

describe('POST /api/v1/imports and GET /api/v1/imports/:id', () => {
  test('anonymous callers are asked to sign in and nothing is stored', async () => {
    const before = await importCount();
    const res = await uploadImport(app.url, JSONL, { fileName: 'runs.jsonl' });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.id, 'unauthenticated');
    assert.equal(await importCount(), before);
    assert.equal((await actors.anon.get('/imports')).status, 401);
    assert.equal((await actors.anon.get('/imports/00000000-0000-4000-8000-000000000000')).status, 401);
  });

  test('a contributor uploads a file: 202 with the import, which runs in the background to a result', async () => {
    const res = await uploadImport(app.url, JSONL, { token: actors.contributor.token, fileName: 'runs.jsonl' });
    assert.equal(res.status, 202, res.text);
    assert.match(res.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.url, `/imports/${res.body.id}`);
    assert.equal(res.headers.get('location'), `/api/v1/imports/${res.body.id}`);
    assert.equal(res.body.fileName, 'runs.jsonl');
    assert.equal(res.body.byteSize, Buffer.byteLength(JSONL));
    assert.equal(res.body.requestedFormat, null);
    assert.ok(['queued', 'running', 'done'].includes(res.body.status));

    const done = await waitForImport(actors.contributor.api, res.body.id);
    assert.equal(done.status, 'done');
    assert.equal(done.format, 'jsonl');
    assert.deepEqual(done.counts, { processed: 4, imported: 3, duplicates: 0, failed: 1 });
    assert.equal(done.failures.length, 1);
    assert.equal(done.failures[0]!.index, 2);
    assert.ok(done.failures[0]!.reason.length > 10);
    assert.equal(done.observationIds.length, 3);
    assert.equal(done.fraction, 1);
    assert.ok(done.startedAt && done.finishedAt);

    const rows = rowsOf<{ id: string; submitted_by: string; import_id: string }>(
      await app.deps.db.execute(sql`SELECT id, submitted_by, provenance->>'importId' AS import_id FROM observations WHERE provenance->>'importId' = ${done.id} ORDER BY provenance->>'recordId'`),
    );
    assert.deepEqual(rows.map((r) => r.id).sort(), [...done.observationIds].sort());
    assert.ok(rows.every((r) => r.submitted_by === actors.contributor.id));
    const events = rowsOf<{ type: string }>(await app.deps.db.execute(sql`SELECT type FROM events WHERE entity_type = 'import' AND entity_id = ${done.id} ORDER BY id`));
    assert.deepEqual(events.map((e) => e.type), ['import.created', 'import.started', 'import.finished']);
    assert.deepEqual(await uploadsAfterImportEnds(), [], 'the temporary file is deleted when the import ends');

    // The same file again: every record is a duplicate, nothing new is stored.
    const counts = await observationTableCounts(app.deps.db);
    const again = await uploadImport(app.url, JSONL, { token: actors.contributor.token, fileName: 'runs-again.jsonl', format: 'jsonl' });
    assert.equal(again.status, 202);
    assert.equal(again.body.requestedFormat, 'jsonl');
    const second = await waitForImport(actors.contributor.api, again.body.id);
    assert.deepEqual(second.counts, { processed: 4, imported: 0, duplicates: 3, failed: 1 });
    assert.equal((await observationTableCounts(app.deps.db)).observations, counts.observations);
  });

  test('an import is its owner\'s and the admins\': another person gets 404, the list holds only one\'s own', async () => {
    const res = await uploadImport(app.url, jsonlFile('own', 2), { token: actors.contributor.token, fileName: 'own.jsonl' });
    assert.equal(res.status, 202);
    await waitForImport(actors.contributor.api, res.body.id);
    const other = await actors.researcher.api.get(`/imports/${res.body.id}`);
    assert.equal(other.status, 404);
    assert.equal(other.body.error.id, 'not_found');
    const admin = await actors.admin.api.get(`/imports/${res.body.id}`);
    assert.equal(admin.status, 200);
    assert.equal(admin.body.userId, actors.contributor.id);

    const mine = await actors.contributor.api.get('/imports');
    assert.equal(mine.status, 200);
    assert.ok(mine.body.items.some((i: { id: string }) => i.id === res.body.id));
    assert.ok(mine.body.items.every((i: { userId: string }) => i.userId === actors.contributor.id));
    const theirs = await actors.researcher.api.get('/imports');
    assert.ok(!theirs.body.items.some((i: { id: string }) => i.id === res.body.id));
    assert.equal((await actors.contributor.api.get('/imports/not-an-id')).status, 404);
  });

  test('a file over the limit is refused with 413 and a clear message, declared or streamed, and nothing is stored', async () => {
    const big = jsonlFile('big', 1200);
    assert.ok(Buffer.byteLength(big) > LIMIT);
    const before = { imports: await importCount(), tables: await observationTableCounts(app.deps.db), files: await uploads() };

    const declared = await uploadImport(app.url, big, { token: actors.researcher.token, fileName: 'big.jsonl' });
    assert.equal(declared.status, 413);
    assert.equal(declared.body.error.id, 'payload_too_large');
    assert.match(declared.body.error.message, /too large to import: the limit is 64 KiB/);

    // No Content-Length: the limit is found while the bytes arrive.
    const bytes = Buffer.from(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 8192) controller.enqueue(bytes.subarray(at, at + 8192));
        controller.close();
      },
    });
    const streamed = await uploadImport(app.url, stream, { token: actors.researcher.token, fileName: 'big.jsonl' });
    assert.equal(streamed.status, 413);
    assert.match(streamed.body.error.message, /the limit is 64 KiB/);

    assert.equal(await importCount(), before.imports);
    assert.deepEqual(await observationTableCounts(app.deps.db), before.tables);
    assert.deepEqual(await uploads(), before.files, 'no partial upload is left on disk');
  });

  test('bad uploads are refused before anything is stored: no file name, unknown format, empty file', async () => {
    const before = await importCount();
    const noName = await uploadImport(app.url, JSONL, { token: actors.contributor.token });
    assert.equal(noName.status, 422);
    assert.match(noName.body.error.message, /fileName/);
    const badFormat = await uploadImport(app.url, JSONL, { token: actors.contributor.token, fileName: 'a.jsonl', format: 'csv' });
    assert.equal(badFormat.status, 422);
    assert.match(badFormat.body.error.message, /auto or one of: inspect-log, chatgpt-export/);
    const empty = await uploadImport(app.url, '', { token: actors.contributor.token, fileName: 'a.jsonl' });
    assert.equal(empty.status, 422);
    assert.match(empty.body.error.message, /empty/);
    assert.equal(await importCount(), before);
  });

  test('a file of unknown format, and a corrupt archive, end as failed imports that say why', async () => {
    const unknown = await uploadImport(app.url, 'just some words\nand more words\n', { token: actors.contributor.token, fileName: 'notes.txt' });
    assert.equal(unknown.status, 202);
    const failed = await waitForImport(actors.contributor.api, unknown.body.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.id, 'validation_failed');
    assert.match(failed.error!.message, /could not tell what format notes\.txt is in/);
    assert.match(failed.error!.message, /chatgpt-export/);
    assert.equal(failed.counts.processed, 0);

    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]);
    const corrupt = await uploadImport(app.url, zip, { token: actors.contributor.token, fileName: 'run.eval' });
    assert.equal(corrupt.status, 202);
    const broken = await waitForImport(actors.contributor.api, corrupt.body.id);
    assert.equal(broken.status, 'failed');
    assert.equal(broken.format, 'inspect-log');
    assert.ok(broken.error && broken.error.message.length > 10, JSON.stringify(broken.error));
    const events = rowsOf<{ type: string; payload: { status: string } }>(
      await app.deps.db.execute(sql`SELECT type, payload FROM events WHERE entity_type = 'import' AND entity_id = ${broken.id} ORDER BY id`),
    );
    assert.equal(events.at(-1)!.type, 'import.finished');
    assert.equal(events.at(-1)!.payload.status, 'failed');
  });

  test('a truncated export imports the records before the cut and reports the cut one', async () => {
    const conversation = (id: string) => ({ id, title: `Chat ${id}`, create_time: 1700000000, current_node: 'a', mapping: { root: { id: 'root', parent: null, children: ['u'], message: null }, u: { id: 'u', parent: 'root', children: ['a'], message: { id: 'u', author: { role: 'user' }, content: { content_type: 'text', parts: [`Question ${id}`] } } }, a: { id: 'a', parent: 'u', children: [], message: { id: 'a', author: { role: 'assistant' }, content: { content_type: 'text', parts: ['Answer'] }, metadata: { model_slug: 'gpt-4o' } } } } });
    const text = JSON.stringify([conversation('t-1'), conversation('t-2')]);
    const truncated = text.slice(0, text.length - 40);
    const res = await uploadImport(app.url, truncated, { token: actors.contributor.token, fileName: 'conversations.json' });
    const done = await waitForImport(actors.contributor.api, res.body.id);
    assert.equal(done.status, 'done');
    assert.equal(done.format, 'chatgpt-export');
    assert.equal(done.counts.imported, 1);
    assert.equal(done.counts.failed, 1);
    assert.equal(done.failures[0]!.index, 1);
  });
});

describe('the import form (multipart, no script)', () => {
  const multipart = (fields: Record<string, string>, file?: { name: string; content: string }) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    if (file) form.append('file', new Blob([file.content], { type: 'application/octet-stream' }), file.name);
    return form;
  };
  const post = (cookie: string, form: FormData) => fetch(`${app.url}/import`, { method: 'POST', redirect: 'manual', headers: { cookie, accept: 'text/html' }, body: form });

  test('a signed-in person uploads through the form and lands on the import\'s page', async () => {
    const web = await signedInWeb(app, actors.researcher);
    await web.get('/import');
    const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await post(cookie, multipart({ _csrf: web.csrf!, format: 'auto' }, { name: 'form-runs.jsonl', content: jsonlFile('form', 3) }));
    assert.equal(res.status, 303);
    const location = res.headers.get('location')!;
    assert.match(location, /^\/imports\/[0-9a-f-]{36}$/);
    const done = await waitForImport(actors.researcher.api, location.split('/').pop()!);
    assert.equal(done.fileName, 'form-runs.jsonl');
    assert.equal(done.counts.imported, 3);
  });

  test('the form needs its CSRF token before the file is stored, and a file', async () => {
    const web = await signedInWeb(app, actors.contributor);
    await web.get('/import');
    const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const before = { imports: await importCount(), files: await uploads() };
    const forged = await post(cookie, multipart({ _csrf: 'forged', format: 'auto' }, { name: 'x.jsonl', content: jsonlFile('csrf', 2) }));
    assert.equal(forged.status, 403);
    const noFile = await post(cookie, multipart({ _csrf: web.csrf!, format: 'auto' }));
    assert.equal(noFile.status, 422);
    assert.match(await noFile.text(), /Choose a file to import/);
    const tooBig = await post(cookie, multipart({ _csrf: web.csrf!, format: 'auto' }, { name: 'big.jsonl', content: jsonlFile('bigform', 1200) }));
    assert.equal(tooBig.status, 413);
    assert.match(await tooBig.text(), /too large to import/);
    assert.equal(await importCount(), before.imports);
    assert.deepEqual(await uploads(), before.files);
  });

  test('anonymous visitors cannot upload through the form', async () => {
    const res = await fetch(`${app.url}/import`, { method: 'POST', redirect: 'manual', headers: { accept: 'text/html' }, body: multipart({ format: 'auto' }, { name: 'x.jsonl', content: jsonlFile('anon', 1) }) });
    assert.equal(res.status, 401);
  });
});
