// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { errorBody, toAppError } from '../../server/http/middleware/errors.ts';
import { errorStatus } from '../../server/http/error-status.ts';
import { jsonBody } from '../../server/http/middleware/json-body.ts';

/** A real express app with the JSON body reader, echoing what it read, and the app's own error mapping. */
let base = '';
let close: () => Promise<void>;
before(async () => {
  const app = express();
  app.use(jsonBody(1024));
  app.post('/echo', (req, res) => res.json({ body: req.body ?? null, rawBody: req.rawBody ?? null }));
  app.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const appErr = toAppError(err, req);
    res.status(errorStatus[appErr.id]).json(errorBody(appErr));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((r) => server.close(() => r()));
});
after(() => close());

const post = async (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
  const res = await fetch(`${base}/echo`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return { status: res.status, json: (await res.json()) as any };
};

describe('JSON request bodies', () => {
  test('parses the body and keeps the text exactly as sent', async () => {
    const text = '{ "title": "Ünïcode ✓", "n": [1, 2] }';
    const res = await post(text);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.body, { title: 'Ünïcode ✓', n: [1, 2] });
    assert.equal(res.json.rawBody, text);
  });

  test('reads +json types, gzip bodies, a leading BOM and an empty body', async () => {
    assert.deepEqual((await post('[1]', { 'content-type': 'application/vnd.api+json; charset=UTF-8' })).json.body, [1]);
    const gz = await post(gzipSync('{"zipped":true}'), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.deepEqual(gz.json, { body: { zipped: true }, rawBody: '{"zipped":true}' });
    assert.deepEqual((await post('\uFEFF{"bom":1}')).json.body, { bom: 1 });
    assert.deepEqual((await post('')).json.body, {});
  });

  test('leaves other content types to other parsers', async () => {
    const res = await post('{"a":1}', { 'content-type': 'text/plain' });
    assert.deepEqual(res.json, { body: null, rawBody: null });
  });

  test('refuses bad bodies with a precise error', async () => {
    const cases: [string | Buffer, Record<string, string> | undefined, number, string, RegExp][] = [
      ['{"title": "unterminated', undefined, 400, 'malformed_json', /not valid JSON/],
      ['"just a string"', undefined, 400, 'malformed_json', /must be an object or an array/],
      ['   ', undefined, 400, 'malformed_json', /only whitespace/],
      [JSON.stringify({ big: 'x'.repeat(2000) }), undefined, 413, 'payload_too_large', /larger than the limit of 1 KB/],
      ['{"a":1}', { 'content-type': 'application/json; charset=latin1' }, 415, 'unsupported_media_type', /UTF-8 .*latin1/],
    ];
    for (const [body, headers, status, id, message] of cases) {
      const res = await post(body, headers);
      assert.equal(res.status, status, `${String(body).slice(0, 30)}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error.id, id);
      assert.match(res.json.error.message, message);
    }
  });
});
