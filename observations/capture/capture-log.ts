import type { UserActor } from '../../accounts/actor.ts';
import type { Db } from '../../core/db.ts';
import { AppError } from '../../core/errors.ts';
import type { CaptureInput } from './capture.input.ts';
import { captureRecord, type CaptureRecord } from './record-capture.command.ts';
import { insertCaptureRecords } from './record-captures.command.ts';

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
  /** Batches written at the same time. */
  writers?: number;
  /** Most captures in one batch (one transaction). */
  batchSize?: number;
  /**
   * How long a capture may wait for others to share its batch (group commit): while calls keep coming, fewer and
   * fuller transactions cost the database, and the machine the proxy runs on, much less than one per call.
   */
  lingerMs?: number;
}

/** Body text a batch may carry before it is cut (bodies are up to 8 MB each). */
const BATCH_BODY_CHARS = 4 * 1024 * 1024;

interface Pending {
  actor: UserActor;
  build: () => CaptureInput | Promise<CaptureInput>;
  input?: CaptureInput;
  attempts: number;
  writing: boolean;
  /** Written in a batch of its own, after its batch failed with an error the database will repeat. */
  alone: boolean;
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
 * once; captures are written in the background, in batches (one transaction per batch, `insertCaptureRecords`), so a
 * slow database never delays a model's answer and a busy proxy costs the database a few statements per batch
 * rather than four per call. A write that fails for a database reason (connection lost, server restarting, a
 * deadlock) is retried with exponential backoff, oldest first, for as long as the process lives: no capture is
 * lost to an outage. Only a capture the command refuses as invalid is dropped (and logged), since retrying cannot
 * fix it.
 *
 * Exchanges still in progress are counted (`begin` ... `record`/`abandon`), so `drain()` also waits for calls
 * that have started but not finished, and `close()` at shutdown writes everything that is left.
 */
export class CaptureLog {
  private readonly options: CaptureLogOptions;
  private readonly queue: Pending[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly writers: number;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private active = 0;
  private inProgress = 0;
  private failures = 0;
  private pausedUntil = 0;
  private wake: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly counts = { recorded: 0, retried: 0, dropped: 0 };

  constructor(options: CaptureLogOptions) {
    this.options = options;
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.writers = options.writers ?? 2;
    this.batchSize = options.batchSize ?? 100;
    this.lingerMs = options.lingerMs ?? 50;
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
   * background, once, so decoding and copying bodies stay off the request's path. Ends a `begin()` unless
   * `begun: false`.
   */
  record(actor: UserActor, build: () => CaptureInput | Promise<CaptureInput>, options: { begun?: boolean } = {}): void {
    if (options.begun !== false) this.inProgress = Math.max(0, this.inProgress - 1);
    this.queue.push({ actor, build, attempts: 0, writing: false, alone: false });
    this.schedule(this.queue.length >= this.batchSize ? 0 : this.lingerMs);
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
    // A timer, not a microtask: the write starts after the current request's response has been handed to the socket.
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
    // After a failure, one batch probes the database before the others follow.
    const writers = this.failures > 0 ? 1 : this.writers;
    while (this.active < writers) {
      const batch = this.nextBatch();
      if (batch.length === 0) return;
      this.active++;
      void this.write(batch);
    }
  }

  /** The oldest waiting captures, up to the batch size and body budget; a capture marked `alone` goes by itself. */
  private nextBatch(): Pending[] {
    const batch: Pending[] = [];
    let chars = 0;
    for (const item of this.queue) {
      if (item.writing) continue;
      if (item.alone && batch.length > 0) break;
      const size = item.input ? item.input.requestBody.length + (item.input.responseBody?.length ?? 0) : 0;
      if (batch.length > 0 && chars + size > BATCH_BODY_CHARS) break;
      item.writing = true;
      batch.push(item);
      chars += size;
      if (item.alone || batch.length >= this.batchSize) break;
    }
    return batch;
  }

  private async write(batch: Pending[]): Promise<void> {
    const done = new Set<Pending>();
    try {
      const records: CaptureRecord[] = [];
      const written: Pending[] = [];
      for (const item of batch) {
        // Each capture is prepared in its own turn of the event loop, so calls arriving meanwhile are not held up.
        await new Promise((resolve) => setImmediate(resolve));
        try {
          item.input ??= await item.build();
        } catch (err) {
          this.drop(item, done, `The capture could not be prepared: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
        try {
          records.push(captureRecord({ db: this.options.db, actor: item.actor, now: this.options.now }, item.input));
          written.push(item);
        } catch (err) {
          // Refused (not allowed, invalid) or not rebuildable: the same capture would fail the same way again.
          if (err instanceof AppError) this.drop(item, done, err.message, err.details);
          else this.drop(item, done, `The capture could not be rebuilt: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        }
      }
      await insertCaptureRecords(this.options.db, records);
      for (const item of written) done.add(item);
      this.counts.recorded += written.length;
      this.failures = 0;
    } catch (err) {
      this.failed(batch.filter((item) => !done.has(item)), err, done);
    } finally {
      this.active--;
      for (const item of batch) item.writing = false;
      if (done.size > 0) {
        for (let i = this.queue.length - 1; i >= 0; i--) if (done.has(this.queue[i]!)) this.queue.splice(i, 1);
      }
      if (this.queue.length > 0) this.schedule(this.queue.length >= this.batchSize ? 0 : this.lingerMs);
      this.settle();
    }
  }

  private failed(batch: Pending[], err: unknown, done: Set<Pending>): void {
    if (isPermanent(err)) {
      // The database refuses something in this batch and would again: write each capture alone to find which.
      if (batch.length === 1) this.drop(batch[0]!, done, describe(err));
      else for (const item of batch) item.alone = true;
      return;
    }
    this.counts.retried += batch.length;
    this.failures++;
    const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(this.failures - 1, 20));
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
    const attempts = Math.max(...batch.map((item) => ++item.attempts));
    if (attempts === 1 || attempts % 20 === 0) {
      this.options.logger.error('capture write failed; retrying', { error: describe(err), attempts, queued: this.queue.length, retryInMs: delay });
    }
  }

  private drop(item: Pending, done: Set<Pending>, reason: string, details?: unknown): void {
    done.add(item);
    this.counts.dropped++;
    this.options.logger.error('capture refused, not retried', { error: reason, ...(details ? { details } : {}) });
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
