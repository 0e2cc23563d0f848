import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { operations } from '../../server/http/openapi/operations.ts';
import { makeActors, WebClient } from '../support/clients.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let actors: Awaited<ReturnType<typeof makeActors>>;
before(async () => {
  app = await startTestApp();
  actors = await makeActors(app);
});
after(() => app.close());

test('the OpenAPI 3.1 document is served and well formed', async () => {
  const res = await actors.anon.get('/openapi.json');
  assert.equal(res.status, 200);
  const doc = res.body;
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.info.title);
  const ids = new Set<string>();
  for (const [path, methods] of Object.entries<Record<string, any>>(doc.paths)) {
    assert.match(path, /^\/api\/v1\//);
    for (const [method, op] of Object.entries<any>(methods)) {
      assert.ok(['get', 'post', 'put', 'patch', 'delete'].includes(method));
      assert.ok(op.summary, `${method} ${path} has a summary`);
      assert.ok(Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
      assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
      ids.add(op.operationId);
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        assert.ok(op.parameters.some((p: any) => p.in === 'path' && `{${p.name}}` === name), `${path} declares ${name}`);
      }
    }
  }
  const post = doc.paths['/api/v1/observations'].post;
  const schema = post.requestBody.content['application/json'].schema;
  assert.ok(schema.required.includes('title'), 'request schemas come from the zod schemas');
  assert.ok(post.parameters.some((p: any) => p.name === 'Idempotency-Key'));
});

test('every documented operation is a real route', async () => {
  for (const op of operations) {
    const path = op.example ?? op.path;
    assert.ok(!path.includes(':'), `${op.method} ${op.path} needs an example path`);
    const res = await actors.admin.api.call(op.method.toUpperCase(), path, op.method === 'get' || op.method === 'delete' ? undefined : {});
    const generic = res.status === 404 && /^Nothing lives at/.test(res.body?.error?.message ?? '');
    assert.ok(!generic, `${op.method.toUpperCase()} ${path} is documented but not routed`);
  }
});

test('the API page lists every operation, readable without signing in', async () => {
  const web = new WebClient(app.url);
  const res = await web.get('/api');
  assert.equal(res.status, 200);
  for (const op of operations) {
    const path = '/api/v1' + op.path.replace(/:([A-Za-z]+)/g, '{$1}');
    assert.ok(res.text.includes(`<code>${op.method.toUpperCase()} ${path}</code>`), `${op.method} ${path} on the page`);
  }
});
