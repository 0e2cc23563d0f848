// A minimal model API for the proxy benchmark, run in its own process (`node --import tsx bench/lib/model-upstream.ts`)
// so the load generator, the proxy and the upstream each have their own event loop. Prints its port on stdout.
//   POST /v1/chat/completions  {stream:false} -> a chat.completion JSON; {stream:true} -> SSE, first event at once
//   GET  /v1/models            -> a model list
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatCompletion, chatStream } from '../../test/support/model-streams.ts';

const completion = Buffer.from(JSON.stringify(chatCompletion));
const firstEventEnd = chatStream.indexOf('\n\n') + 2;
const streamHead = Buffer.from(chatStream.slice(0, firstEventEnd));
const streamRest = Buffer.from(chatStream.slice(firstEventEnd));
const models = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' }] }));

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': models.length });
      res.end(models);
      return;
    }
    const streamed = Buffer.concat(chunks).includes('"stream":true');
    if (!streamed) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length, 'x-request-id': 'req_bench' });
      res.end(completion);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(streamHead);
    // The rest follows a moment later, as a model's tokens do: time to first byte is measured on the head alone.
    setTimeout(() => res.end(streamRest), 2);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
