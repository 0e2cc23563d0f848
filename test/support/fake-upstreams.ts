import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { anthropicErrorStream, anthropicMessage, anthropicStream, chatCompletion, chatRefusalStream, chatStream, responsesFinal, responsesStream } from './model-streams.ts';

/** A request the fake upstream received, as it arrived. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Set when the connection closed before the fake had finished answering (the proxy aborted it). */
  aborted?: boolean;
}

/** What the fake upstream sent for a request: status, headers and the exact body bytes (for streams, all of them). */
export interface SentResponse {
  status: number;
  body: Buffer;
}

export interface FakeUpstream {
  url: string;
  requests: SeenRequest[];
  /** The answers, in the order requests arrived (a stream's entry fills in as it is written). */
  sent: SentResponse[];
  /** Lets a `hold-after-first-event` stream send the rest. */
  release(): void;
  /** Resolves when a held stream has sent its first event. */
  held(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A local stand-in for the model APIs the recording proxy forwards to. It speaks OpenAI Chat Completions,
 * Responses, completions, embeddings and models, and Anthropic Messages and count_tokens, streaming included,
 * with the hand-written answers of model-streams.ts. Streams are written in small pieces cut at awkward byte
 * offsets, a few milliseconds apart, as real upstreams deliver them.
 *
 * The requested `model` picks a misbehaviour: `error-400`, `error-429`, `error-500` (the provider's error
 * JSON), `never-answers`, `cut-midway` (a stream whose connection is destroyed halfway), `stall-midway` (a
 * stream that stops sending), `in-band-error` (Anthropic's `event: error` after a 200), `refusal` (a streamed
 * refusal without usage), `hold-after-first-event` (waits for `release()`), `gzip` (a gzip-encoded answer),
 * `huge` (a 9 MB answer).
 */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: SeenRequest[] = [];
  const sent: SentResponse[] = [];
  let heldGate = deferred();
  let firstEventSent = deferred();
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const seen: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
    requests.push(seen);
    res.on('close', () => {
      if (!res.writableFinished) seen.aborted = true;
    });
    const record: SentResponse = { status: 0, body: Buffer.alloc(0) };
    sent.push(record);
    // Large bodies are only scanned for their model: parsing megabytes would make the fake slower than the proxy's timeout.
    const json = body.length < 1_000_000 ? parseJson(body) : { model: /"model":"([^"]*)"/.exec(body.slice(0, 500))?.[1] };
    const model = typeof json.model === 'string' ? json.model : '';
    const anthropic = (req.url ?? '').startsWith('/v1/messages');
    const write = (status: number, headers: Record<string, string>, payload: string | Buffer) => {
      record.status = status;
      record.body = Buffer.from(payload);
      res.writeHead(status, { 'x-request-id': 'req_fake_1', 'set-cookie': 'upstream_session=secret-cookie', ...headers });
      res.end(payload);
    };
    const sendJson = (status: number, value: unknown) => write(status, { 'content-type': 'application/json' }, JSON.stringify(value));
    const sendStream = async (text: string, how: 'whole' | 'cut' | 'stall' | 'hold' = 'whole') => {
      record.status = 200;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_fake_stream' });
      const bytes = Buffer.from(text);
      const half = Math.floor(bytes.length / 2);
      const firstEventEnd = text.indexOf('\n\n') + 2;
      for (let at = 0; at < bytes.length; ) {
        const size = at === 0 && how === 'hold' ? firstEventEnd : 37 + (at % 11);
        const piece = bytes.subarray(at, at + size);
        if (how !== 'whole' && how !== 'hold' && at >= half) {
          if (how === 'cut') res.socket?.destroy();
          return; // 'stall': never another byte
        }
        res.write(piece);
        record.body = Buffer.concat([record.body, piece]);
        at += piece.length;
        if (how === 'hold' && at === piece.length) {
          firstEventSent.resolve();
          await heldGate.promise;
        } else await new Promise((r) => setTimeout(r, 1));
      }
      res.end();
    };

    const wantsStream = json.stream === true;
    switch (model) {
      case 'error-400':
        return anthropic
          ? sendJson(400, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' }, request_id: 'req_bad' })
          : sendJson(400, { error: { message: "Invalid value for 'temperature'.", type: 'invalid_request_error', param: 'temperature', code: null } });
      case 'error-429':
        return write(429, { 'content-type': 'application/json', 'retry-after': '20' }, JSON.stringify({ error: { message: 'Rate limit reached.', type: 'requests', code: 'rate_limit_exceeded' } }));
      case 'error-500':
        return anthropic
          ? sendJson(500, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } })
          : sendJson(500, { error: { message: 'The server had an error while processing your request.', type: 'server_error' } });
      case 'never-answers':
        return; // holds the request open without a byte
      case 'gzip':
        return write(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(JSON.stringify({ ...chatCompletion, model: 'gzip' })));
      case 'huge':
        return write(200, { 'content-type': 'application/json' }, (hugeAnswer ??= JSON.stringify({ ...chatCompletion, choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(9 * 1024 * 1024) }, finish_reason: 'length' }] })));
    }
    const path = (req.url ?? '').split('?')[0];
    switch (`${req.method} ${path}`) {
      case 'POST /v1/chat/completions':
        if (!wantsStream) return sendJson(200, chatCompletion);
        if (model === 'refusal') return sendStream(chatRefusalStream);
        return sendStream(chatStream, model === 'cut-midway' ? 'cut' : model === 'stall-midway' ? 'stall' : model === 'hold-after-first-event' ? 'hold' : 'whole');
      case 'POST /v1/responses':
        return wantsStream ? sendStream(responsesStream) : sendJson(200, responsesFinal);
      case 'POST /v1/completions':
        return sendJson(200, { id: 'cmpl-1', object: 'text_completion', created: 1760000003, model: 'gpt-3.5-turbo-instruct', choices: [{ index: 0, text: ' upon a time', finish_reason: 'length', logprobs: null }], usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 } });
      case 'POST /v1/embeddings':
        return sendJson(200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 2, total_tokens: 2 } });
      case 'GET /v1/models':
        return sendJson(200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' }] });
      case 'POST /v1/messages':
        if (!wantsStream) return sendJson(200, anthropicMessage);
        if (model === 'in-band-error') return sendStream(anthropicErrorStream);
        return sendStream(anthropicStream, model === 'cut-midway' ? 'cut' : model === 'stall-midway' ? 'stall' : 'whole');
      case 'POST /v1/messages/count_tokens':
        return sendJson(200, { input_tokens: 42 });
      default:
        return sendJson(404, { error: { message: `Unknown path ${req.method} ${req.url}`, type: 'invalid_request_error' } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sent,
    release() {
      heldGate.resolve();
      heldGate = deferred();
    },
    held: () => firstEventSent.promise.then(() => {
      firstEventSent = deferred();
    }),
    close: () =>
      new Promise<void>((resolve) => {
        heldGate.resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let hugeAnswer: string | undefined;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
