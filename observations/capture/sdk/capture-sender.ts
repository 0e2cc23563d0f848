/**
 * Sends captures to Menagerie off the caller's path: a bounded queue drained by a few background POSTs, each with
 * a timeout. Nothing here ever throws into the caller or makes it wait: a full queue drops the capture, a failed
 * or slow POST is abandoned, and both are reported to `onError` (which itself may not throw into us either).
 */

/** What went wrong sending one capture, for `onError`: never the provider key or the Menagerie token. */
export interface CaptureSendFailure {
  /** `queue_full`: dropped unsent; `rejected`: Menagerie answered an error; `unreachable`: no answer in time or at all. */
  kind: 'queue_full' | 'rejected' | 'unreachable';
  /** The HTTP status Menagerie answered, for `rejected`. */
  status?: number;
  /** The call the capture was of, e.g. `POST /v1/chat/completions`. */
  call: string;
}

export interface CaptureSenderOptions {
  /** Where captures go: `{menagerieUrl}/api/v1/captures`. */
  menagerieUrl: string;
  /** A Menagerie API token (create one on your account page). */
  token: string;
  /** Abandon a POST to Menagerie after this long (default 10 s). */
  timeoutMs?: number;
  /** Captures waiting to be sent, at most (default 200); past it new captures are dropped and reported. */
  maxQueue?: number;
  /** POSTs in flight at once (default 2). */
  concurrency?: number;
  onError?: (error: Error, failure: CaptureSendFailure) => void;
  /** The fetch used to reach Menagerie (default: the global one; never the wrapped client's). */
  fetch?: typeof fetch;
}

/** A capture as `POST /api/v1/captures` takes it (see captureInputSchema); `call` is only for messages. */
export interface OutgoingCapture {
  call: string;
  body: Record<string, unknown>;
}

export class CaptureSender {
  private readonly options: CaptureSenderOptions;
  private readonly queue: OutgoingCapture[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  private readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly send: typeof fetch;
  /** Captures Menagerie accepted, and captures lost (dropped or failed), since this sender began. */
  sent = 0;
  lost = 0;

  constructor(options: CaptureSenderOptions) {
    this.options = options;
    this.endpoint = `${options.menagerieUrl.replace(/\/+$/, '')}/api/v1/captures`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxQueue = options.maxQueue ?? 200;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.send = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Queues a capture; returns at once. The POST starts on a later turn of the event loop, never in the caller's. */
  enqueue(capture: OutgoingCapture): void {
    if (this.queue.length >= this.maxQueue) {
      this.lost++;
      this.report(new Error(`Menagerie capture dropped: ${this.maxQueue} captures are already waiting to be sent.`), { kind: 'queue_full', call: capture.call });
      return;
    }
    this.queue.push(capture);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  /** Resolves when every queued capture has been sent or given up on (for scripts about to exit, and tests). */
  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0 && !this.scheduled;
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const capture = this.queue.shift()!;
      this.inFlight++;
      void this.post(capture).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.idle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
    if (this.idle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async post(capture: OutgoingCapture): Promise<void> {
    try {
      const res = await this.send(this.endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(capture.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      if (res.ok) {
        this.sent++;
        return;
      }
      this.lost++;
      this.report(new Error(`Menagerie refused the capture of ${capture.call} (HTTP ${res.status}): ${errorMessage(text)}`), { kind: 'rejected', status: res.status, call: capture.call });
    } catch (e) {
      this.lost++;
      const why = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : describe(e);
      this.report(new Error(`Menagerie could not be reached to capture ${capture.call}: ${why}`), { kind: 'unreachable', call: capture.call });
    }
  }

  private report(error: Error, failure: CaptureSendFailure): void {
    try {
      this.options.onError?.(error, failure);
    } catch {
      // The caller's error handler failing must not become our caller's problem either.
    }
  }
}

function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message.slice(0, 500);
  } catch {
    // Not the JSON error shape: show the start of the text.
  }
  return text.slice(0, 200);
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
  return code ? `${e.message} (${code})` : e.message;
}
