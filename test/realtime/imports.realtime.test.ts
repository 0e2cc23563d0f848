import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import type { ImportView } from '../../observations/import.presenter.ts';
import { makeActors, signedInWeb } from '../support/clients.ts';
import { jsonlFile, uploadImport, waitForImport } from '../support/imports.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
});
after(() => app.close());

type JoinReply = { ok?: true; import?: ImportView; error?: { id: string; message: string } };

function open(auth: { token?: string; cookie?: string }): Socket {
  return connect(app.url, {
    transports: ['websocket'],
    reconnection: false,
    ...(auth.token ? { auth: { token: auth.token } } : {}),
    ...(auth.cookie ? { extraHeaders: { cookie: auth.cookie } } : {}),
  });
}

const join = (socket: Socket, importId: string) => new Promise<JoinReply>((resolve) => socket.emit('import:join', { importId }, resolve));

test('the uploader joins an import\'s room, gets its current state first, then progress and the result', async () => {
  // One import at a time per person: the second waits behind the first, so its room is joined before it starts.
  const first = await uploadImport(app.url, jsonlFile('rt-first', 300), { token: actors.contributor.token, fileName: 'first.jsonl' });
  const second = await uploadImport(app.url, jsonlFile('rt-second', 40), { token: actors.contributor.token, fileName: 'second.jsonl' });
  assert.equal(second.status, 202);
  const socket = open({ token: actors.contributor.token });
  const progress: ImportView[] = [];
  const finished = new Promise<ImportView>((resolve) => socket.on('import:finished', resolve));
  socket.on('import:progress', (view: ImportView) => progress.push(view));
  try {
    const reply = await join(socket, second.body.id);
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.equal(reply.import!.id, second.body.id);
    assert.equal(reply.import!.status, 'queued', 'the state at the moment of joining');

    const done = await finished;
    assert.equal(done.status, 'done');
    assert.deepEqual(done.counts, { processed: 40, imported: 40, duplicates: 0, failed: 0 });
    assert.equal(done.fraction, 1);
    assert.ok(progress.length >= 1, 'progress arrived while it ran');
    assert.ok(progress.every((p) => p.id === second.body.id && p.status === 'running'));
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.counts.processed >= progress[i - 1]!.counts.processed, 'progress only moves forward');
    await waitForImport(actors.contributor.api, first.body.id);
  } finally {
    socket.close();
  }
});

test('a page opened mid-import gets the running state first, over the browser session', async () => {
  const upload = await uploadImport(app.url, jsonlFile('rt-mid', 1500), { token: actors.researcher.token, fileName: 'mid.jsonl' });
  const web = await signedInWeb(app, actors.researcher);
  const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  // Wait until it is running and has filed some records, as a person opening the page late would find it.
  let state: ImportView;
  do {
    await new Promise((r) => setTimeout(r, 20));
    state = (await actors.researcher.api.get(`/imports/${upload.body.id}`)).body;
  } while (state.status === 'queued' || (state.status === 'running' && state.counts.processed === 0));
  const socket = open({ cookie });
  try {
    const finished = new Promise<ImportView>((resolve) => socket.on('import:finished', resolve));
    const reply = await join(socket, upload.body.id);
    assert.equal(reply.ok, true, JSON.stringify(reply));
    if (reply.import!.status === 'running') {
      assert.ok(reply.import!.counts.processed > 0, 'the live counts, not a blank page');
      assert.ok(reply.import!.fraction! > 0 && reply.import!.fraction! < 1);
      const done = await finished;
      assert.equal(done.counts.imported, 1500);
    } else {
      // A fast machine finished first: the ack then carries the result.
      assert.equal(reply.import!.status, 'done');
      assert.equal(reply.import!.counts.imported, 1500);
    }
  } finally {
    socket.close();
  }
});

test('another person, and an anonymous socket, cannot join someone else\'s import', async () => {
  const upload = await uploadImport(app.url, jsonlFile('rt-private', 3), { token: actors.contributor.token, fileName: 'private.jsonl' });
  const other = open({ token: actors.researcher.token });
  const anon = open({});
  const admin = open({ token: actors.admin.token });
  const leaked: unknown[] = [];
  other.on('import:progress', (v) => leaked.push(v));
  other.on('import:finished', (v) => leaked.push(v));
  try {
    const refused = await join(other, upload.body.id);
    assert.equal(refused.ok, undefined);
    assert.equal(refused.error?.id, 'not_found');
    assert.equal((await join(anon, upload.body.id)).error?.id, 'unauthenticated');
    assert.equal((await join(other, 'not-an-id')).error?.id, 'not_found');
    assert.equal((await join(admin, upload.body.id)).ok, true, 'admins may follow any import');
    await waitForImport(actors.contributor.api, upload.body.id);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(leaked, [], 'nothing of it reached the refused socket');
  } finally {
    other.close();
    anon.close();
    admin.close();
  }
});
