// Types of `menagerie/sdk` for TypeScript projects (the implementation is observe.ts, loaded by index.js).
// The SDK test checks that these declarations and observe.ts describe the same API.

/** What went wrong sending one capture, for `onError`: never the provider key or the Menagerie token. */
export interface CaptureSendFailure {
  /** `queue_full`: dropped unsent; `rejected`: Menagerie answered an error; `unreachable`: no answer in time or at all. */
  kind: 'queue_full' | 'rejected' | 'unreachable';
  /** The HTTP status Menagerie answered, for `rejected`. */
  status?: number;
  /** The call the capture was of, e.g. `POST /v1/chat/completions`. */
  call: string;
}

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

/**
 * Wraps an `openai` or `@anthropic-ai/sdk` client in place and returns it: every call made with it (streaming
 * too) is sent to Menagerie's field log as a capture, in the background; the calls themselves are unchanged.
 */
export declare function observe<Client extends object>(client: Client, options: ObserveOptions): Client;

/** Resolves when every capture of the client's calls so far has been sent or given up on; call it before exiting. */
export declare function flushObserved(client: object): Promise<{ sent: number; lost: number }>;

/** Request options that flag one call for review: `client.chat.completions.create(body, flagged('odd refusal'))`. */
export declare function flagged<Options extends { headers?: Record<string, string> }>(
  note: string,
  options?: Options,
): Options & { headers: Record<string, string> };
