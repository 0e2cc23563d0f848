import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake judge received, its JSON body parsed. */
export interface JudgeRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON (any: tests read provider-specific fields freely). */
  body: any;
}

/** One answer: a status, headers and a body (an object sent as JSON, a string sent as it is), after an optional delay. */
export interface JudgeReply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
  delayMs?: number;
}

export type JudgeResponder = (request: JudgeRequest, index: number) => JudgeReply;

export interface FakeJudge {
  url: string;
  /** The baseURL for the openai client (`<url>/v1`). */
  openaiBaseUrl: string;
  /** The baseURL for the Anthropic client (`<url>`: the SDK adds `/v1/messages`). */
  anthropicBaseUrl: string;
  requests: JudgeRequest[];
  /** Queues answers, used in order (one per request) before any responder. */
  script(...replies: JudgeReply[]): void;
  /** Answers every request the script does not cover (e.g. a 50 ms judge for benchmarks). */
  respondWith(responder: JudgeResponder): void;
  close(): Promise<void>;
}

/**
 * A local server speaking the two judge APIs: OpenAI Chat Completions (`POST /v1/chat/completions`) and Anthropic
 * Messages (`POST /v1/messages`). It answers what the test scripts, in order, and records each request so a
 * test can check what the real SDK clients sent (the strict json_schema, the forced tool). With nothing scripted
 * it answers 500 and says so, so a test that forgot a reply fails loudly.
 */
export async function startFakeJudge(): Promise<FakeJudge> {
  const requests: JudgeRequest[] = [];
  const queue: JudgeReply[] = [];
  let responder: JudgeResponder | null = null;
  const server = http.createServer(async (req, res) => {
    const text = await readBody(req);
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const request: JudgeRequest = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, headers: req.headers, body };
    const index = requests.push(request) - 1;
    const known = request.method === 'POST' && (request.path === '/v1/chat/completions' || request.path === '/v1/messages');
    const reply: JudgeReply = !known
      ? { status: 404, body: { error: { message: `fake judge: unknown path ${request.method} ${request.path}`, type: 'invalid_request_error' } } }
      : (queue.shift() ?? responder?.(request, index) ?? { status: 500, body: { error: { message: 'fake judge: no reply scripted for this request', type: 'server_error' } } });
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'x-request-id': `req_judge_${index + 1}`, 'request-id': `req_judge_${index + 1}`, ...reply.headers });
    res.end(payload);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    script: (...replies) => void queue.push(...replies),
    respondWith: (fn) => void (responder = fn),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A finding as a judge writes it. */
export interface FakeFinding {
  messageId: string;
  quote: string;
  rationale: string;
  code: string;
  confidence: number | string;
}

interface OpenAIOptions {
  finishReason?: string;
  refusal?: string | null;
  model?: string;
  /** Null leaves usage out, as some local servers do. */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
}

/** A Chat Completions answer whose message content is `content` (JSON text, or anything else a server might send). */
export function openaiCompletion(content: string | null, options: OpenAIOptions = {}): JudgeReply {
  const usage = options.usage === undefined ? { prompt_tokens: 1200, completion_tokens: 150 } : options.usage;
  return {
    body: {
      id: 'chatcmpl-judge-1',
      object: 'chat.completion',
      created: 1760000000,
      model: options.model ?? 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: options.refusal ?? null }, logprobs: null, finish_reason: options.finishReason ?? 'stop' }],
      ...(usage ? { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } : {}),
    },
  };
}

export const openaiFindings = (findings: FakeFinding[], options: OpenAIOptions = {}) => openaiCompletion(JSON.stringify({ findings }), options);
export const openaiRefusal = (text: string) => openaiCompletion(null, { refusal: text, usage: { prompt_tokens: 1200, completion_tokens: 12 } });
export const openaiTruncated = (partial: string) => openaiCompletion(partial, { finishReason: 'length', usage: { prompt_tokens: 1200, completion_tokens: 64 } });

/** The provider's error JSON with a status (and headers such as retry-after). */
export function openaiError(status: number, message: string, headers: Record<string, string> = {}): JudgeReply {
  return { status, headers, body: { error: { message, type: status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error', code: null } } };
}

interface AnthropicOptions {
  stopReason?: string;
  model?: string;
  usage?: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number };
}

/** A Messages answer with the given content blocks. */
export function anthropicMessage(content: unknown[], options: AnthropicOptions = {}): JudgeReply {
  return {
    body: {
      id: 'msg_judge_1',
      type: 'message',
      role: 'assistant',
      model: options.model ?? 'claude-sonnet-4-5-20250929',
      content,
      stop_reason: options.stopReason ?? 'tool_use',
      stop_sequence: null,
      usage: options.usage ?? { input_tokens: 2000, output_tokens: 300 },
    },
  };
}

export const anthropicToolUse = (input: unknown, options: AnthropicOptions = {}, name = 'record_findings') =>
  anthropicMessage([{ type: 'tool_use', id: 'toolu_judge_1', name, input }], options);
export const anthropicFindings = (findings: FakeFinding[], options: AnthropicOptions = {}) => anthropicToolUse({ findings }, options);
export const anthropicRefusal = (text: string) =>
  anthropicMessage([{ type: 'text', text }], { stopReason: 'refusal', usage: { input_tokens: 2000, output_tokens: 9 } });
export const anthropicTextOnly = (text: string) => anthropicMessage([{ type: 'text', text }], { stopReason: 'end_turn' });
export const anthropicTruncated = (partialInput: unknown) => anthropicToolUse(partialInput, { stopReason: 'max_tokens', usage: { input_tokens: 2000, output_tokens: 64 } });

export function anthropicError(status: number, type: string, message: string, headers: Record<string, string> = {}): JudgeReply {
  return { status, headers, body: { type: 'error', error: { type, message }, request_id: 'req_err' } };
}
