import { CaptureSender, type CaptureSendFailure } from './capture-sender.ts';
import { observedFetch } from './observed-fetch.ts';

/**
 * The SDK helper: `observe(client, options)` makes every call an `openai` (OpenAI) or `@anthropic-ai/sdk`
 * (Anthropic) client sends a capture in Menagerie's field log, streaming included. It hooks the client's HTTP
 * layer (its `fetch`), so what is recorded is the raw request and the raw response or SSE exactly as they crossed;
 * Menagerie rebuilds the message and transcript from them, as it does for the recording proxy.
 *
 * The caller's calls are unchanged: the same requests go out, the same bytes come back (a stream is passed through
 * chunk by chunk as the caller reads it), and sending the capture happens afterwards, in the background, through a
 * bounded queue with a timeout. If Menagerie is down, slow or refuses a capture, the call is neither broken nor
 * slowed; `onError` hears about it. The provider key is never sent: only its sha256, for attribution.
 *
 * Exported as `menagerie/sdk`.
 */

export type { CaptureSendFailure } from './capture-sender.ts';

export interface ObserveOptions {
  /** Menagerie's base URL, e.g. `http://localhost:3000`. */
  menagerieUrl: string;
  /** A Menagerie API token (create one on your account page); sent only to Menagerie. */
  token: string;
  /** A note attached to every call's capture, marking it for review (per call: `flagged(note)`). */
  flag?: string;
  /** The upstream's name in the field log (default: the client's base URL host, e.g. `api.openai.com`). */
  upstream?: string;
  /** Which API the client speaks (default: `anthropic` for an Anthropic client, else `openai`). */
  api?: 'openai' | 'anthropic';
  /** Abandon sending one capture after this long (default 10 s). */
  timeoutMs?: number;
  /** Captures waiting to be sent, at most (default 200); past it, captures are dropped and reported. */
  maxQueue?: number;
  /** Captures sent at once (default 2). */
  concurrency?: number;
  /** Told about every capture that could not be sent (never with the provider key or the token). */
  onError?: (error: Error, failure: CaptureSendFailure) => void;
  /** The fetch used to reach Menagerie (default: the global fetch). */
  fetch?: typeof fetch;
}

/** The parts of an SDK client observe() uses: both SDKs keep their fetch, base URL and timeout on the instance. */
interface ObservableClient {
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  baseURL: string;
  timeout?: number;
}

const OBSERVED = Symbol.for('menagerie.observed');

/**
 * Wraps the client in place and returns it: every call made with it (and with clients it derives through
 * `withOptions`) is captured. Observing an observed client again changes nothing.
 */
export function observe<Client extends object>(client: Client, options: ObserveOptions): Client {
  const target = client as Client & Partial<ObservableClient> & { [OBSERVED]?: CaptureSender };
  if (target[OBSERVED]) return client;
  if (typeof target.fetch !== 'function' || typeof target.baseURL !== 'string') {
    throw new TypeError('observe() takes an OpenAI client (from "openai") or an Anthropic client (from "@anthropic-ai/sdk").');
  }
  if (!options?.menagerieUrl || !options.token) throw new TypeError('observe() needs options.menagerieUrl and options.token (a Menagerie API token).');
  const sender = new CaptureSender(options);
  const baseURL = target.baseURL;
  target.fetch = observedFetch(target.fetch.bind(undefined), {
    api: options.api ?? apiOf(client),
    upstream: options.upstream ?? hostOf(baseURL),
    baseURL,
    timeoutMs: () => (typeof target.timeout === 'number' ? target.timeout : undefined),
    flag: options.flag?.trim() || null,
    record: (capture) => sender.enqueue(capture),
  });
  Object.defineProperty(target, OBSERVED, { value: sender, enumerable: false });
  return client;
}

/**
 * Resolves when every capture of the client's calls so far has been sent or given up on (each send is bounded by
 * `timeoutMs`): call it before a script exits. Also tells how many were sent and lost.
 */
export async function flushObserved(client: object): Promise<{ sent: number; lost: number }> {
  const sender = (client as { [OBSERVED]?: CaptureSender })[OBSERVED];
  if (!sender) return { sent: 0, lost: 0 };
  await sender.flush();
  return { sent: sender.sent, lost: sender.lost };
}

/**
 * Request options that flag one call for review: `client.chat.completions.create(body, flagged('odd refusal'))`.
 * The note travels in an `X-Menagerie-Flag` header that observe() takes off before the request leaves.
 */
export function flagged<Options extends { headers?: Record<string, string> }>(note: string, options?: Options): Options & { headers: Record<string, string> } {
  return { ...(options ?? ({} as Options)), headers: { ...options?.headers, 'X-Menagerie-Flag': encodeURIComponent(note) } };
}

function apiOf(client: object): 'openai' | 'anthropic' {
  const c = client as { messages?: unknown; chat?: unknown };
  return c.messages && !c.chat ? 'anthropic' : 'openai';
}

function hostOf(baseURL: string): string {
  try {
    return new URL(baseURL).host || baseURL;
  } catch {
    return baseURL;
  }
}
