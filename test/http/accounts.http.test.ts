import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiClient, makeActors, makeUser, WebClient } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp({ loadStarter: false });
  actors = await makeActors(app);
});
after(() => app.close());

describe('sign up, sign in, sign out', () => {
  test('the first account on a fresh instance becomes admin; later ones are contributors', async () => {
    const fresh = await startTestApp({ loadStarter: false });
    try {
      const first = new WebClient(fresh.url);
      await first.get('/signup');
      const r1 = await first.form('/signup', { email: 'first@example.org', password: 'correct horse battery', displayName: 'First' });
      assert.equal(r1.status, 303);
      const me1 = await first.json('GET', '/api/v1/me');
      assert.equal(me1.body.role, 'admin');
      const second = new WebClient(fresh.url);
      await second.get('/signup');
      await second.form('/signup', { email: 'second@example.org', password: 'correct horse battery', displayName: 'Second' });
      assert.equal((await second.json('GET', '/api/v1/me')).body.role, 'contributor');
    } finally {
      await fresh.close();
    }
  });

  test('session cookie is httpOnly and sameSite', async () => {
    const web = new WebClient(app.url);
    await web.get('/signup');
    const res = await web.form('/signup', { email: 'cookie@example.org', password: 'correct horse battery', displayName: 'C' });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('mng_session='));
    assert.ok(setCookie, 'a session cookie is set');
    assert.match(setCookie!, /HttpOnly/i);
    assert.match(setCookie!, /SameSite=Lax/i);
  });

  test('a sign-up with problems re-renders the form with messages and keeps the input', async () => {
    const web = new WebClient(app.url);
    await web.get('/signup');
    const res = await web.form('/signup', { email: 'not-an-email', password: 'short', displayName: '<b>Eve</b>' });
    assert.equal(res.status, 422);
    assert.match(res.text, /Enter an email address/);
    assert.match(res.text, /at least 10 characters/);
    assert.match(res.text, /value="not-an-email"/);
    assert.match(res.text, /value="&lt;b&gt;Eve&lt;/, 'input is kept, escaped');
  });

  test('duplicate email is a conflict', async () => {
    const web = new WebClient(app.url);
    await web.get('/signup');
    const res = await web.form('/signup', { email: actors.contributor.email.toUpperCase(), password: 'correct horse battery', displayName: 'X' });
    assert.equal(res.status, 409);
    assert.match(res.text, /already registered/);
  });

  test('wrong password and sign out', async () => {
    const web = new WebClient(app.url);
    await web.get('/login');
    const bad = await web.form('/login', { email: actors.contributor.email, password: 'nope-nope-nope' });
    assert.equal(bad.status, 401);
    assert.match(bad.text, /do not match/);
    const good = await web.form('/login', { email: actors.contributor.email, password: actors.contributor.password });
    assert.equal(good.status, 303);
    assert.equal((await web.json('GET', '/api/v1/me')).status, 200);
    await web.get('/account');
    await web.form('/logout', {});
    assert.equal((await web.json('GET', '/api/v1/me')).status, 401);
  });

  test('a form posted without or with a wrong CSRF token is refused and stores nothing', async () => {
    const web = new WebClient(app.url);
    await web.get('/signup');
    const none = await web.form('/signup', { _csrf: '', email: 'csrf@example.org', password: 'correct horse battery', displayName: 'C' });
    assert.equal(none.status, 403);
    assert.match(none.text, /did not come from this site/);
    const wrong = await web.form('/signup', { _csrf: 'forged', email: 'csrf@example.org', password: 'correct horse battery', displayName: 'C' });
    assert.equal(wrong.status, 403);
    const users = await actors.admin.api.get('/users');
    assert.ok(!users.body.data.some((u: { email: string }) => u.email === 'csrf@example.org'));
  });

  test('an expired session asks to sign in again', async () => {
    const user = await makeUser(app, 'contributor', 'expiring');
    const web = new WebClient(app.url);
    await web.get('/login');
    await web.form('/login', { email: user.email, password: user.password });
    app.clock.offsetMs = 30 * 86_400_000;
    try {
      const api = await web.json('GET', '/api/v1/me');
      assert.equal(api.status, 401);
      assert.equal(api.body.error.id, 'session_expired');
    } finally {
      app.clock.offsetMs = 0;
    }
  });
});

describe('API tokens', () => {
  test('create, use, list, revoke; a revoked token gets 401 token_revoked', async () => {
    const created = await actors.contributor.api.post('/tokens', { name: 'script' });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^mng_/);
    const client = new ApiClient(app.url, created.body.token);
    assert.equal((await client.get('/me')).body.email, actors.contributor.email);
    const list = await actors.contributor.api.get('/tokens');
    assert.ok(list.body.data.some((t: { id: string }) => t.id === created.body.id));
    assert.ok(!JSON.stringify(list.body).includes(created.body.token), 'the token itself is never listed');
    assert.equal((await client.delete(`/tokens/${created.body.id}`)).status, 204);
    const after = await client.get('/me');
    assert.equal(after.status, 401);
    assert.equal(after.body.error.id, 'token_revoked');
  });

  test('an unknown token and a malformed header are 401', async () => {
    assert.equal((await new ApiClient(app.url, 'mng_nope').get('/me')).status, 401);
    const res = await fetch(`${app.url}/api/v1/me`, { headers: { authorization: 'Basic abc' } });
    assert.equal(res.status, 401);
  });

  test('the account page creates a token and shows it once', async () => {
    const { signedInWeb } = await import('../support/clients.ts');
    const web = await signedInWeb(app, actors.researcher);
    const res = await web.form('/account/tokens', { name: 'page token' });
    assert.equal(res.status, 201);
    const token = /data-testid="new-token">([^<]+)</.exec(res.text)?.[1];
    assert.ok(token);
    assert.equal((await new ApiClient(app.url, token).get('/me')).status, 200);
    const again = await web.get('/account');
    assert.ok(!again.text.includes(token!));
  });
});

describe('users and roles', () => {
  for (const who of ['anon', 'contributor', 'researcher'] as const) {
    test(`${who} cannot list users or change roles`, async () => {
      const client = who === 'anon' ? actors.anon : actors[who].api;
      const expected = who === 'anon' ? 401 : 403;
      assert.equal((await client.get('/users')).status, expected);
      assert.equal((await client.patch(`/users/${actors.contributor.id}`, { role: 'admin' })).status, expected);
    });
  }

  test('admin changes a role; a bad role is 422; the last admin cannot be demoted', async () => {
    const target = await makeUser(app, 'contributor', 'promotee');
    const ok = await actors.admin.api.patch(`/users/${target.id}`, { role: 'researcher' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.role, 'researcher');
    assert.equal((await target.api.get('/me')).body.role, 'researcher');
    const bad = await actors.admin.api.patch(`/users/${target.id}`, { role: 'overlord' });
    assert.equal(bad.status, 422);
    assert.ok(bad.body.error.details.fields.role);
    const last = await actors.admin.api.patch(`/users/${actors.admin.id}`, { role: 'contributor' });
    assert.equal(last.status, 409);
    assert.equal(last.body.error.id, 'conflict');
  });
});
