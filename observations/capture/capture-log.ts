import type { UserActor } from '../../accounts/actor.ts';
import { AppError } from '../../core/errors.ts';
import type { Db } from '../../core/db.ts';
import type { CaptureInput } from './capture.input.ts';
import { recordCapture } from './record-capture.command.ts';

/** Where the log reports what it could not do (the server's logger fits). */
export interface CaptureLogReporter {
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface CaptureLogOptions {
  db: Db;
  now: () => Date;
  logger: CaptureLogReporter;
  /** First wait after a failed write; doubles per consecutive failure up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Captures written at the same time (a PostgreSQL pool takes several; PGlite serialises them anyway). */
  writers?: number;
}

interface Pending {
  actor: UserActor;
  build: () => CaptureInput | Promise<CaptureInput>;
  input?: CaptureInput;
  attempts: number;
  writing: boolean;
}

/** What the log has done since it started, for tests, the benchmark and the shutdown message. */
export interface CaptureLogStats {
  recorded: number;
  retried: number;
  /** Captures refused as invalid (never retried: the same input would fail again). */
  dropped: number;
  queued: number;
}

/**
 * The field log's write queue: the recording proxy hands each finished exchange here and answers the caller at
 * once; captures are written in the background with `recordCapture`, so a slow database never delays a model's
 * answer. A write that fails for a database reason (connection lost, server restarting, a deadlock) is retried
 * with exponential backoff, oldest first, for as long as the process lives: no capture is lost to an outage. Only a
 * capture the command refuses as invalid is dropped (and logged), since retrying cannot fix it.
 *
 * Exchanges still in progress are counted (`begin` ... `record`/`abandon`), so `drain()` also waits for calls
 * that have started but not finished, and `close()` at shutdown writes everything that is left.
 */
export class CaptureLog {
  private readonly queue: Pending[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly writers: number;
  private active = 0;
  private inProgress = 0;
  private failures = 0;
  private pausedUntil = 0;
  private wake: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly counts = { recorded: 0, retried: 0, dropped: 0 };

  constructor(private readonly options: CaptureLogOptions) {
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.writers = options.writers ?? 4;
  }

  /** An exchange has started: `drain()` waits for it to be recorded or abandoned. */
  begin(): void {
    this.inProgress++;
  }

  /** An exchange begun with `begin()` ended without anything to record. */
  abandon(): void {
    this.inProgress = Math.max(0, this.inProgress - 1);
    this.settle();
  }

  /**
   * Queues a capture by the actor. `build` turns what crossed into the capture's input; it runs in the
   * background, once, so decoding and copying bodies stay off the request's path. Ends a `begin()`.
   */
  record(actor: UserActor, build: () => CaptureInput | Promise<CaptureInput>, options: { begun?: boolean } = { begun: true }): void {
    if (options.begun !== false) this.inProgress = Math.max(0, this.inProgress - 1);
    this.queue.push({ actor, build, attempts: 0, writing: false });
    this.schedule(0);
  }

  get stats(): CaptureLogStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /** Resolves once every begun exchange is recorded (or abandoned) and the queue is empty. */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * At shutdown: writes what is left, waiting up to `timeoutMs` (a database that stays down would otherwise
   * hold the process forever), and reports how many captures could not be written.
   */
  async close(timeoutMs = 10_000): Promise<CaptureLogStats> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.closed = true;
    if (this.wake) clearTimeout(this.wake);
    this.wake = null;
    const stats = this.stats;
    if (stats.queued > 0 || this.inProgress > 0) {
      this.options.logger.error('capture log closed with captures unwritten', { unwritten: stats.queued, inProgress: this.inProgress });
    }
    return stats;
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.active === 0 && this.inProgress === 0;
  }

  private settle(): void {
    if (!this.idle()) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private schedule(delayMs: number): void {
    if (this.wake || this.closed) return;
    // setImmediate-like: after the current request's response has been written, never inside it.
    this.wake = setTimeout(() => {
      this.wake = null;
      this.pump();
    }, delayMs);
  }

  private pump(): void {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      this.schedule(wait);
      return;
    }
    for (const item of this.queue) {
      if (this.active >= this.writers || (this.failures > 0 && this.active > 0)) break;
      if (item.writing) continue;
      item.writing = true;
      this.active++;
      void this.write(item);
      // After a failure, one write probes the database before the others follow.
      if (this.failures > 0) break;
    }
  }

  private async write(item: Pending): Promise<void> {
    let retry = false;
    try {
      item.input ??= await buildInput(item);
      await recordCapture({ db: this.options.db, actor: item.actor, now: this.options.now }, item.input);
      this.counts.recorded++;
      this.failures = 0;
    } catch (err) {
      item.attempts++;
      if (isPermanent(err)) {
        this.counts.dropped++;
        this.options.logger.error('capture refused, not retried', { error: err instanceof Error ? err.message : String(err), details: (err as AppError).details });
      } else {
        retry = true;
        this.counts.retried++;
        this.failures++;
        const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(this.failures - 1, 20));
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
        if (item.attempts === 1 || item.attempts % 20 === 0) {
          this.options.logger.error('capture write failed; retrying', { error: describe(err), attempts: item.attempts, queued: this.queue.length, retryInMs: delay });
        }
      }
    } finally {
      this.active--;
      item.writing = false;
      if (!retry) this.queue.splice(this.queue.indexOf(item), 1);
      if (this.queue.length > 0) this.schedule(0);
      this.settle();
    }
  }
}

/** A capture whose input cannot even be built is refused like invalid input (the same build would fail again). */
async function buildInput(item: Pending): Promise<CaptureInput> {
  try {
    return await item.build();
  } catch (err) {
    throw new AppError('validation_failed', `The capture could not be prepared: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** SQLSTATE classes worth retrying: connection (08), rollback/deadlock (40), resources (53), operator intervention (57), system (58). */
const TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58']);

/**
 * Invalid input (an AppError from the command) or a data error from the database (SQLSTATE 22xxx, 23xxx...)
 * fails the same way every time; anything else (no connection, a server going down, a pool timeout) may pass later.
 */
function isPermanent(err: unknown): boolean {
  if (err instanceof AppError) return err.id !== 'internal';
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return !TRANSIENT_CLASSES.has(code.slice(0, 2)) && code !== '55P03' && code !== '55006';
  }
  return false;
}

function describe(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  return cause instanceof Error ? `${message.slice(0, 200)} (${cause.message})` : message.slice(0, 300);
}
