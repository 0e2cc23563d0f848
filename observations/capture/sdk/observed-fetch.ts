import { createHash } from 'node:crypto';
import { FirstTokenWatch } from '../sse/first-token.ts';
import type { OutgoingCapture } from './capture-sender.ts';

/**
 * The fetch wrapper behind `observe()`: it records the raw request and the raw response exactly as they cross
 * (for streams the raw SSE, chunk by chunk as the caller reads it) and hands a capture to `record` when the
 * response ends, is cut short or fails. The caller's request goes out unchanged (except that an
 * `X-Menagerie-Flag` header is taken off it) and the caller reads the same bytes, pulled through on demand:
 * nothing is buffered ahead of the caller or waited for on its behalf.
 */

/** Largest body kept per side (the field log's limit); longer bodies are cut in the capture, never in the call. */
const BODY_LIMIT = 8 * 1024 * 1024;
const HEADER_VALUE_CAP = 8192;

export interface ObservedFetchContext {
  api: 'openai' | 'anthropic';
  upstream: string;
  /** The client's base URL: paths are recorded from the API's root (`/v1/...`), whatever prefix it has. */
  baseURL: string;
  /** The client's own timeout (ms), to tell a timeout from a caller's abort. */
  timeoutMs: () => number | undefined;
  /** The default flag (a per-call `X-Menagerie-Flag` header wins). */
  flag: string | null;
  record: (capture: OutgoingCapture) => void;
}

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Wraps a fetch so every call through it is recorded (see the module comment). */
export function observedFetch(inner: Fetch, ctx: ObservedFetchContext): Fetch {
  return async (input, init) => {
    const startedAt = new Date();
    const t0 = performance.now();
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const flagHeader = headers.get('x-menagerie-flag');
    let forwardInit = init;
    if (flagHeader !== null) {
      headers.delete('x-menagerie-flag');
      forwardInit = { ...init, headers };
    }
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const call = {
      api: ctx.api,
      upstream: ctx.upstream,
      method,
      path: apiPath(url, ctx.baseURL),
      requestHeaders: storable(headers),
      requestBody: bodyText(init?.body),
      startedAt: startedAt.toISOString(),
      keyHash: keyHash(headers),
      flag: decodeFlag(flagHeader) ?? ctx.flag,
    };
    const label = `${method} ${call.path}`;
    const since = () => round(performance.now() - t0);
    const abortReason = () => {
      const limit = ctx.timeoutMs();
      return limit !== undefined && performance.now() - t0 >= limit * 0.98 ? 'timeout' : 'client_abort';
    };

    let response: Response;
    try {
      response = await inner(input, forwardInit);
    } catch (e) {
      const aborted = isAbort(e) || init?.signal?.aborted;
      ctx.record({
        call: label,
        body: { ...call, streamed: false, outcome: 'error', endReason: aborted ? abortReason() : 'network_error', httpStatus: null, error: describe(e), responseBody: '', durationMs: since() },
      });
      throw e;
    }

    const firstByteMs = since();
    const streamed = (response.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream');
    const answered = {
      ...call,
      streamed,
      httpStatus: response.status,
      responseHeaders: storable(response.headers),
      firstByteMs,
    };
    const failedStatus = response.status >= 400;
    if (!response.body) {
      ctx.record({ call: label, body: { ...answered, outcome: failedStatus ? 'error' : 'complete', endReason: failedStatus ? 'upstream_error' : 'done', responseBody: '', durationMs: firstByteMs } });
      return response;
    }

    const tap = new BodyTap();
    const watch = streamed ? new FirstTokenWatch() : null;
    let firstTokenMs: number | null = null;
    let finished = false;
    const finish = (end: { outcome: 'complete' | 'partial' | 'error'; endReason: string; error?: string }) => {
      if (finished) return;
      finished = true;
      ctx.record({
        call: label,
        body: { ...answered, ...end, ...(end.error ? { error: end.error } : {}), responseBody: tap.text(), firstTokenMs, durationMs: since() },
      });
    };
    // A caller that stops reading a stream aborts the request (the SDKs do on `break` or `controller.abort()`),
    // whether or not it ever reads the body again: the capture is then what arrived, marked partial.
    init?.signal?.addEventListener('abort', () => finish({ outcome: 'partial', endReason: abortReason(), error: 'The call was aborted before the response ended.' }), { once: true });

    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (e) {
            finish({ outcome: 'partial', endReason: isAbort(e) ? abortReason() : 'network_error', error: describe(e) });
            controller.error(e);
            return;
          }
          if (chunk.done) {
            finish(failedStatus ? { outcome: 'error', endReason: 'upstream_error', error: `HTTP ${response.status}` } : { outcome: 'complete', endReason: 'done' });
            controller.close();
            return;
          }
          tap.push(chunk.value);
          if (watch && firstTokenMs === null && watch.push(chunk.value)) firstTokenMs = since();
          controller.enqueue(chunk.value);
        },
        cancel(reason) {
          finish({ outcome: 'partial', endReason: 'client_abort', error: 'The caller stopped reading the response.' });
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    const observed = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    Object.defineProperty(observed, 'url', { value: response.url });
    return observed;
  };
}

/** A copy of a body as it passes, up to BODY_LIMIT bytes (chunks are kept by reference, not copied). */
class BodyTap {
  private readonly chunks: Uint8Array[] = [];
  private kept = 0;

  push(chunk: Uint8Array): void {
    if (this.kept >= BODY_LIMIT) return;
    const piece = chunk.byteLength <= BODY_LIMIT - this.kept ? chunk : chunk.subarray(0, BODY_LIMIT - this.kept);
    this.chunks.push(piece);
    this.kept += piece.byteLength;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.kept).toString('utf8');
  }
}

/**
 * The path from the API's root: the base URL's own prefix is dropped except a trailing version segment, so
 * `https://api.openai.com/v1` + `/chat/completions` and `http://127.0.0.1:11434/v1` + the same both read
 * `/v1/chat/completions`, and Anthropic's `https://api.anthropic.com` + `/v1/messages` reads `/v1/messages`.
 */
export function apiPath(url: URL, baseURL: string): string {
  let basePath = '';
  try {
    basePath = new URL(baseURL).pathname.replace(/\/+$/, '');
  } catch {
    // An unreadable base URL: keep the whole path.
  }
  const path = url.pathname;
  if (!basePath || !path.startsWith(`${basePath}/`)) return path;
  const version = /\/v\d+[a-z0-9]*$/i.exec(basePath)?.[0] ?? '';
  return `${version}${path.slice(basePath.length)}`;
}

/** Request bodies the SDKs send as text (JSON); others (uploads, streams) are not read, so never consumed. */
function bodyText(body: RequestInit['body'] | undefined): string {
  if (typeof body === 'string') return body.length > BODY_LIMIT ? body.slice(0, BODY_LIMIT) : body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    return Buffer.from(bytes.subarray(0, BODY_LIMIT)).toString('utf8');
  }
  return '';
}

/**
 * Headers that carry credentials or session state, never sent to Menagerie (which strips its own list again on
 * arrival, whatever a client sends).
 */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'cookie', 'set-cookie']);

function storable(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    const key = name.toLowerCase();
    if (SECRET_HEADERS.has(key) || key.includes('secret') || key.endsWith('-token') || key.endsWith('-key') || key.startsWith('x-menagerie-') || key.length > 200) return;
    out[key] = value.length > HEADER_VALUE_CAP ? value.slice(0, HEADER_VALUE_CAP) : value;
  });
  return out;
}

/** sha256 (hex) of the provider key, hashed the way the recording proxy hashes it, so both attribute alike. */
function keyHash(headers: Headers): string | null {
  const auth = headers.get('authorization');
  const key = headers.get('x-api-key') ?? (auth ? auth.replace(/^\s*(Bearer|Basic|Token)\s+/i, '').trim() : null) ?? headers.get('api-key');
  return key ? createHash('sha256').update(key).digest('hex') : null;
}

/** A per-call flag as `flagged()` writes it (percent-encoded, since header values are bytes). */
function decodeFlag(raw: string | null): string | null {
  const text = raw?.trim();
  if (!text) return null;
  try {
    return decodeURIComponent(text).slice(0, 2000);
  } catch {
    return text.slice(0, 2000);
  }
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

function describe(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.slice(0, 2000);
}

const round = (ms: number) => Math.round(ms * 100) / 100;
