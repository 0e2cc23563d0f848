// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
// The benchmark's HTTP load client (bench/lib/load.ts) against a real node:http server: the figures the benchmark
// prints are only as good as its count of answers and their statuses.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ResponseReader, runLoad } from '../../bench/lib/load.ts';

const body = JSON.stringify({ text: 'ünïcödé '.repeat(2000) });

describe('bench load client', () => {
  let server: http.Server;
  let url: string;
  const seen = { requests: 0, sockets: 0, badBodies: 0 };

  before(async () => {
    server = http.createServer((req, res) => {
      seen.requests++;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received = Buffer.concat(chunks).toString('utf8');
        if (req.url === '/echo') {
          // The request arrives whole: method, path, header and a multi-byte body of the declared length.
          const ok = req.method === 'POST' && req.headers.authorization === 'Bearer t' && req.headers['content-type'] === 'application/json' && received === body;
          if (!ok) seen.badBodies++;
          res.writeHead(ok ? 201 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        } else if (req.url === '/chunked') {
          res.writeHead(200, { 'content-type': 'text/plain' }); // no length: node frames the body in chunks
          res.write('a'.repeat(5000));
          setImmediate(() => {
            res.write('b'.repeat(70000));
            res.end('c');
          });
        } else if (req.url === '/close') {
          res.writeHead(200, { connection: 'close', 'content-length': 2 });
          res.end('ok');
        } else if (req.url === '/empty') {
          res.writeHead(204);
          res.end();
        } else {
          res.writeHead(404, { 'content-length': 9 });
          res.end('not found');
        }
      });
    });
    server.on('connection', () => seen.sockets++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends each request whole over keep-alive connections and counts each answer', async () => {
    const [requests0, sockets0] = [seen.requests, seen.sockets];
    const r = await runLoad({ url, concurrency: 4, total: 60, expectStatus: 201, request: () => ({ method: 'POST', path: '/echo', body, headers: { authorization: 'Bearer t' } }) });
    assert.equal(seen.badBodies, 0);
    assert.equal(seen.requests - requests0, 60);
    assert.equal(seen.sockets - sockets0, 4, 'one socket per client, reused');
    assert.deepEqual(r.statuses, { 201: 60 });
    assert.equal(r.errors, 0);
    assert.equal(r.latenciesMs.filter((ms) => ms > 0).length, 60);
  });

  it('reads chunked answers to their end, and counts statuses other than the one expected as errors', async () => {
    const r = await runLoad({ url, concurrency: 2, total: 10, expectStatus: 200, request: (i) => ({ method: 'GET', path: i % 2 ? '/chunked' : '/missing' }) });
    assert.deepEqual(r.statuses, { 200: 5, 404: 5 });
    assert.equal(r.errors, 5);
  });

  it('opens a new socket after an answer that closes the connection, and reads bodiless answers', async () => {
    const sockets0 = seen.sockets;
    const r = await runLoad({ url, concurrency: 1, total: 6, expectStatus: 200, request: (i) => ({ method: 'GET', path: i < 3 ? '/close' : '/empty' }) });
    assert.deepEqual(r.statuses, { 200: 3, 204: 3 });
    assert.equal(seen.sockets - sockets0, 4, 'three closed by the server, then one kept');
  });

  it('counts every request as an error when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await runLoad({ url: `http://127.0.0.1:${port}`, concurrency: 2, total: 8, expectStatus: 200, request: () => ({ method: 'GET', path: '/' }) });
    assert.equal(r.errors, 8);
    assert.deepEqual(r.statuses, {});
  });
});

describe('ResponseReader', () => {
  const answer = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\n' + 'x'.repeat(26) + '\r\n0\r\nX-Trailer: y\r\n\r\n');

  it('finishes on the last byte of a chunked answer with a trailer, fed one byte at a time', () => {
    const reader = new ResponseReader();
    for (let i = 0; i < answer.length - 1; i++) assert.equal(reader.push(answer.subarray(i, i + 1)), null, `byte ${i}`);
    assert.deepEqual(reader.push(answer.subarray(answer.length - 1)), { status: 200, close: false });
  });

  it('finishes on the last byte of a Content-Length body split anywhere', () => {
    const text = Buffer.from('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789');
    for (const cut of [5, 40, text.length - 10, text.length - 1]) {
      const reader = new ResponseReader();
      assert.equal(reader.push(text.subarray(0, cut)), null);
      assert.deepEqual(reader.push(text.subarray(cut)), { status: 503, close: true });
    }
  });

  it('refuses an answer it cannot frame', () => {
    assert.throws(() => new ResponseReader().push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody')), /neither Content-Length nor chunked/);
    assert.throws(() => new ResponseReader().push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), /not an HTTP/);
  });
});
