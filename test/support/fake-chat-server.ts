import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sseText } from './model-streams.ts';

/** The JSON body of a chat request, with the fields tests usually read typed; anything else stays unknown. */
export interface ChatRequestBody {
  model?: string;
  stream?: boolean;
  messages?: Array<{ role: string; content: unknown }>;
  system?: unknown;
  [field: string]: unknown;
}

/** A request the fake received. */
export interface FakeChatRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: ChatRequestBody;
  /** Set when the client went away before the answer was complete (an abort, a timeout, a closed tab). */
  aborted: boolean;
}

/** The reply's tokens, fixed or computed from the request (e.g. to echo what the model was sent). */
export type ReplyTokens = string[] | ((request: FakeChatRequest) => string[]);

/**
 * How the next request fails: an HTTP error with the provider's error JSON (401 echoes the key it was sent, so
 * tests can check it never reaches a message), a connection destroyed halfway through the tokens, a response
 * ended cleanly halfway (no finish reason, no `[DONE]` or `message_stop`), an in-band error event halfway
 * (Anthropic `event: error`; OpenAI a `data: {"error": ...}` chunk), a stream that stops sending after two
 * tokens, or a request that never gets its headers.
 */
export type FakeChatFailure = 'http-500' | 'http-401' | 'http-429' | 'cut-midway' | 'end-midway' | 'in-band-error' | 'stall' | 'no-answer';

export interface FakeChatServerOptions {
  /** The reply; by default it echoes the last user message ("You said: ..."), a few words per token. */
  tokens?: ReplyTokens;
  /** Milliseconds between two tokens (default 5). */
  delayMs?: number;
  /** Reasoning sent before the reply: OpenAI-style as `delta.reasoning_content`, Anthropic as a thinking block. */
  thinking?: string[];
}

export interface FakeChatServer {
  /** The origin, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** The baseURL for the openai client (`<url>/v1`). */
  openaiBaseUrl: string;
  /** The baseURL for the Anthropic client (`<url>`: the SDK adds `/v1/messages`). */
  anthropicBaseUrl: string;
  requests: FakeChatRequest[];
  /** Replaces the reply (and optionally the delay) for the requests that follow. */
  setReply(tokens: ReplyTokens, delayMs?: number): void;
  /** Makes the next chat request fail this way; several calls queue, one failure per request. */
  failNext(kind: FakeChatFailure): void;
  close(): Promise<void>;
}

/** The default reply's tokens: deterministic, derived from the last user message, words with their spacing. */
export function echoTokens(request: FakeChatRequest): string[] {
  const reply = `You said: ${lastUserText(request.body)}. Here is a longer answer, sent token by token so that everyone watching sees it arrive.`;
  return reply.match(/\S+\s*/g) ?? [reply];
}

/**
 * A local model API for live sessions: OpenAI Chat Completions (`POST /v1/chat/completions`) and Anthropic
 * Messages (`POST /v1/messages`), streamed token by token with a delay between tokens, or whole when the request
 * does not ask for a stream. Max tokens are honoured (the reply is cut and the finish reason says so), usage
 * counts words in and tokens out. It stops writing as soon as a client disconnects, and records it.
 */
export async function startFakeChatServer(options: FakeChatServerOptions = {}): Promise<FakeChatServer> {
  const requests: FakeChatRequest[] = [];
  const failures: FakeChatFailure[] = [];
  let tokens: ReplyTokens = options.tokens ?? echoTokens;
  let delayMs = options.delayMs ?? 5;
  const thinking = options.thinking ?? [];
  // Stalled streams wait on this; close() releases them so the server can shut down.
  let closing = false;
  const waiters = new Set<() => void>();

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end();
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on('error', () => {}); // a client that vanished mid-write is expected here, not a test failure
    // Recorded on arrival, so a client that gives up while its body is still coming in is seen leaving too.
    const request: FakeChatRequest = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, headers: req.headers, body: {}, aborted: false };
    requests.push(request);
    let gone = false;
    const wake = new Set<() => void>();
    res.on('close', () => {
      gone = true;
      if (!res.writableFinished) request.aborted = true;
      for (const w of wake) w();
    });
    const text = await readBody(req);
    if (text === null || gone) return;
    request.body = parseBody(text);
    /** Waits `ms` (or forever when null); false when the client left or the server closed meanwhile. */
    const pause = (ms: number | null) =>
      new Promise<boolean>((resolve) => {
        if (gone || closing) return resolve(false);
        const done = () => {
          if (timer) clearTimeout(timer);
          wake.delete(done);
          waiters.delete(done);
          resolve(!gone && !closing);
        };
        const timer = ms === null ? null : setTimeout(done, ms);
        wake.add(done);
        waiters.add(done);
      });

    const anthropic = request.path === '/v1/messages';
    if (req.method !== 'POST' || (!anthropic && request.path !== '/v1/chat/completions')) {
      return sendJson(res, 404, { error: { message: `fake chat server: unknown path ${req.method} ${request.path}`, type: 'not_found_error' } });
    }
    const failure = failures.shift();
    const reply = typeof tokens === 'function' ? tokens(request) : tokens;
    const limit = maxTokensOf(request.body);
    const sent = limit !== null && limit < reply.length ? reply.slice(0, limit) : reply;
    const truncated = sent.length < reply.length;
    const model = `${request.body.model ?? 'unknown'}-20250101`;
    const usage = { input: countWords(request.body), output: sent.length };

    switch (failure) {
      case 'http-401': {
        const key = String(req.headers['x-api-key'] ?? req.headers.authorization ?? '').replace(/^Bearer /, '');
        return sendError(res, anthropic, 401, anthropic ? 'authentication_error' : 'invalid_api_key', `Incorrect API key provided: ${key}`);
      }
      case 'http-429':
        res.setHeader('retry-after', '2');
        return sendError(res, anthropic, 429, 'rate_limit_error', 'Rate limit reached for requests; try again in 2s.');
      case 'http-500':
        return sendError(res, anthropic, 500, 'api_error', 'The server had an error while processing your request.');
      case 'no-answer':
        await pause(null);
        return void res.destroy();
    }
    if (request.body.stream !== true) {
      const whole = sent.join('');
      return sendJson(res, 200, anthropic ? anthropicMessage(model, whole, truncated, usage) : openaiCompletion(model, whole, truncated, usage));
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const events = anthropic ? anthropicEvents(model, thinking, sent, truncated, usage) : openaiEvents(model, thinking, sent, truncated, usage, includeUsage(request.body));
    res.write(events.head);
    const breakAt = thinking.length + (failure === 'stall' ? Math.min(2, sent.length) : Math.ceil(sent.length / 2));
    for (let i = 0; i <= events.tokens.length; i++) {
      if (failure && i === breakAt) {
        if (failure === 'cut-midway') return void res.destroy();
        if (failure === 'end-midway') return void res.end();
        if (failure === 'in-band-error') return void res.end(events.inBandError);
        await pause(null);
        return void res.destroy();
      }
      if (i === events.tokens.length) break;
      if (!(await pause(delayMs))) return;
      res.write(events.tokens[i]);
    }
    res.end(events.tail);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    setReply(next, nextDelayMs) {
      tokens = next;
      if (nextDelayMs !== undefined) delayMs = nextDelayMs;
    },
    failNext: (kind) => void failures.push(kind),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const w of waiters) w();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Usage {
  input: number;
  output: number;
}

/** A stream's SSE text: what precedes the tokens, one piece per reasoning or reply token, what follows. */
interface StreamEvents {
  head: string;
  tokens: string[];
  tail: string;
  inBandError: string;
}

function openaiEvents(model: string, thinking: string[], reply: string[], truncated: boolean, usage: Usage, withUsage: boolean): StreamEvents {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1760000000, model, system_fingerprint: 'fp_fake' };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => sseText([{ data: { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] } }]);
  const usageChunk = { ...base, choices: [], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } };
  return {
    head: chunk({ role: 'assistant', content: '', refusal: null }),
    // Reasoning as vLLM, SGLang and DeepSeek stream it; OpenAI itself streams none in Chat Completions.
    tokens: [...thinking.map((t) => chunk({ reasoning_content: t })), ...reply.map((t) => chunk({ content: t }))],
    tail: chunk({}, truncated ? 'length' : 'stop') + (withUsage ? sseText([{ data: usageChunk }]) : '') + sseText([{ data: '[DONE]' }]),
    inBandError: sseText([{ data: { error: { message: 'The model is overloaded, please try again.', type: 'server_error', code: null } } }]),
  };
}

function anthropicEvents(model: string, thinking: string[], reply: string[], truncated: boolean, usage: Usage): StreamEvents {
  const event = (name: string, data: Record<string, unknown>) => sseText([{ event: name, data: { type: name, ...data } }]);
  const delta = (index: number, d: Record<string, unknown>) => event('content_block_delta', { index, delta: d });
  const textIndex = thinking.length ? 1 : 0;
  const textStart = event('content_block_start', { index: textIndex, content_block: { type: 'text', text: '' } });
  const start = event('message_start', {
    message: { id: 'msg_fake', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: 1 } },
  });
  const thinkingTokens = thinking.map((t) => delta(0, { type: 'thinking_delta', thinking: t }));
  if (thinkingTokens.length) {
    // The thinking block closes with its signature, and the text block opens, in the same write as the last thought.
    thinkingTokens[thinkingTokens.length - 1] += delta(0, { type: 'signature_delta', signature: 'sig-fake==' }) + event('content_block_stop', { index: 0 }) + textStart;
  }
  return {
    head: start + (thinking.length ? event('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }) : textStart) + sseText([{ event: 'ping', data: { type: 'ping' } }]),
    tokens: [...thinkingTokens, ...reply.map((t) => delta(textIndex, { type: 'text_delta', text: t }))],
    tail:
      event('content_block_stop', { index: textIndex }) +
      event('message_delta', { delta: { stop_reason: truncated ? 'max_tokens' : 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output } }) +
      event('message_stop', {}),
    inBandError: event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
  };
}

function openaiCompletion(model: string, text: string, truncated: boolean, usage: Usage) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1760000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: truncated ? 'length' : 'stop' }],
    usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
  };
}

function anthropicMessage(model: string, text: string, truncated: boolean, usage: Usage) {
  return {
    id: 'msg_fake',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: truncated ? 'max_tokens' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_fake_chat', 'request-id': 'req_fake_chat' });
  res.end(JSON.stringify(value));
}

function sendError(res: ServerResponse, anthropic: boolean, status: number, type: string, message: string): void {
  sendJson(res, status, anthropic ? { type: 'error', error: { type, message } } : { error: { message, type, param: null, code: type } });
}

/** The request body, or null when the client went away before sending all of it. */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
    req.on('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}

function parseBody(text: string): ChatRequestBody {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as ChatRequestBody) : {};
  } catch {
    return {};
  }
}

/** Text of a message content in either API's shape: a string, or an array of parts with `text`. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: unknown) => (typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : '')).join('');
}

function lastUserText(body: ChatRequestBody): string {
  const messages = body.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') return contentText(messages[i]!.content);
  }
  return '';
}

function countWords(body: ChatRequestBody): number {
  const texts = [contentText(body.system), ...(body.messages ?? []).map((m) => contentText(m.content))];
  return texts.join(' ').split(/\s+/).filter(Boolean).length;
}

function maxTokensOf(body: ChatRequestBody): number | null {
  const value = body.max_completion_tokens ?? body.max_tokens;
  return typeof value === 'number' ? value : null;
}

function includeUsage(body: ChatRequestBody): boolean {
  const options = body.stream_options;
  return typeof options === 'object' && options !== null && 'include_usage' in options && options.include_usage === true;
}
