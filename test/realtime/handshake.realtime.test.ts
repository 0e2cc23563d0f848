import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import { makeActors, signedInWeb } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
});
after(() => app.close());

function whoami(socket: Socket): Promise<{ ok: boolean; actor: { id: string; role: string } | null }> {
  return new Promise((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.emit('whoami', resolve);
  });
}

test('a socket authenticated with an API token acts as that user', async () => {
  const socket = connect(app.url, { auth: { token: actors.researcher.token }, transports: ['websocket'], reconnection: false });
  try {
    const reply = await whoami(socket);
    assert.equal(reply.ok, true);
    assert.equal(reply.actor?.id, actors.researcher.id);
    assert.equal(reply.actor?.role, 'researcher');
  } finally {
    socket.close();
  }
});

test('a socket with the browser session cookie acts as the signed-in user', async () => {
  const web = await signedInWeb(app, actors.contributor);
  const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const socket = connect(app.url, { extraHeaders: { cookie }, transports: ['websocket'], reconnection: false });
  try {
    assert.equal((await whoami(socket)).actor?.id, actors.contributor.id);
  } finally {
    socket.close();
  }
});

test('an anonymous socket is anonymous, and a bad token is refused at the handshake', async () => {
  const anon = connect(app.url, { transports: ['websocket'], reconnection: false });
  try {
    assert.equal((await whoami(anon)).actor, null);
  } finally {
    anon.close();
  }
  const bad = connect(app.url, { auth: { token: 'mng_forged' }, transports: ['websocket'], reconnection: false });
  const error = await new Promise<Error>((resolve) => bad.once('connect_error', resolve));
  bad.close();
  assert.equal(error.message, 'unauthenticated');
});
