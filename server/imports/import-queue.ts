import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { anonymous, type UserActor } from '../../accounts/actor.ts';
import type { Ctx } from '../../core/context.ts';
import type { Db } from '../../core/db.ts';
import type { ImportView } from '../../observations/import.presenter.ts';
import { listUnfinishedImports } from '../../observations/import.queries.ts';
import { abandonImport, runImport } from '../../observations/run-import.command.ts';
import type { Logger } from '../logger.ts';

/** Progress is broadcast at most this often per import (the last state always goes out). */
export const PROGRESS_INTERVAL_MS = 150;

export interface ImportQueueEvents {
  /** A running import's state, at most every PROGRESS_INTERVAL_MS. */
  progress: [ImportView];
  /** The final state (`done` or `failed`), once. */
  finished: [ImportView];
}

interface Job {
  importId: string;
  actor: UserActor;
  filePath: string;
}

interface Running {
  userId: string;
  abort: AbortController;
  done: Promise<void>;
}

export interface ImportQueueDeps {
  db: Db;
  now: () => Date;
  logger: Logger;
  /** The configured import byte limit the files are read under. */
  maxBytes: number;
}

/**
 * Runs uploaded imports in the server process, in the background: at most `maxRunning` at once and one per person
 * (others wait in upload order), each read from its temporary file, which is deleted when it ends. Holds each
 * running import's latest state for sockets that join mid-import, and emits throttled `progress` and a final
 * `finished` event for the realtime layer to broadcast. On start it ends imports a previous process left
 * unfinished (their files are gone); `close()` stops the running ones between records (they end `failed`, what
 * they filed kept) and fails the waiting ones.
 */
export class ImportQueue {
  private readonly deps: ImportQueueDeps;
  private readonly maxRunning: number;
  readonly events = new EventEmitter<ImportQueueEvents>();
  private readonly waiting: Job[] = [];
  private readonly running = new Map<string, Running>();
  private readonly live = new Map<string, ImportView>();
  private readonly recovered: Promise<void>;
  private closed = false;

  constructor(
    deps: ImportQueueDeps,
    maxRunning = 2,
  ) {
    this.deps = deps;
    this.maxRunning = maxRunning;
    this.recovered = this.endInterrupted().catch((error: unknown) => deps.logger.error('import queue: could not end interrupted imports', { error: String(error) }));
  }

  /** Where this process writes uploads before importing them (its own folder: a file's owner is never in doubt). */
  static readonly uploadDir = path.join(tmpdir(), 'menagerie-imports', String(process.pid));

  /** A fresh path for an upload's temporary file (the folder is made if needed). */
  async newUploadPath(): Promise<string> {
    await mkdir(ImportQueue.uploadDir, { recursive: true });
    return path.join(ImportQueue.uploadDir, `${randomUUID()}.upload`);
  }

  /** Queues a created import; its file now belongs to the queue (deleted when the import ends). */
  enqueue(view: ImportView, actor: UserActor, filePath: string): void {
    this.live.set(view.id, view);
    if (this.closed) {
      void this.failUnstarted({ importId: view.id, actor, filePath });
      return;
    }
    this.waiting.push({ importId: view.id, actor, filePath });
    void this.recovered.then(() => this.pump());
  }

  /** The state of an import this process is running or about to run; undefined once it has ended. */
  liveState(importId: string): ImportView | undefined {
    return this.live.get(importId);
  }

  /** Stops everything: running imports end between records, waiting ones are failed; their files are deleted. */
  async close(): Promise<void> {
    this.closed = true;
    const waiting = this.waiting.splice(0);
    for (const run of this.running.values()) run.abort.abort();
    await Promise.allSettled([...[...this.running.values()].map((r) => r.done), ...waiting.map((job) => this.failUnstarted(job))]);
  }

  private pump(): void {
    if (this.closed) return;
    while (this.running.size < this.maxRunning) {
      const busy = new Set([...this.running.values()].map((r) => r.userId));
      const next = this.waiting.findIndex((job) => !busy.has(job.actor.id));
      if (next === -1) return;
      const [job] = this.waiting.splice(next, 1);
      this.start(job!);
    }
  }

  private start(job: Job): void {
    const abort = new AbortController();
    const throttle = new Throttle(PROGRESS_INTERVAL_MS, (view: ImportView) => this.events.emit('progress', view));
    const done = runImport(this.ctx(job.actor), job.importId, job.filePath, {
      maxBytes: this.deps.maxBytes,
      signal: abort.signal,
      onProgress: (view) => {
        this.live.set(view.id, view);
        if (!view.finished) throttle.push(view);
      },
      onUnexpectedError: (error) => this.deps.logger.error('import stopped on an unexpected error', { importId: job.importId, error: (error as Error)?.stack ?? String(error) }),
    })
      .then(
        (view) => {
          throttle.cancel();
          this.live.delete(view.id);
          this.events.emit('finished', view);
        },
        (error: unknown) => {
          throttle.cancel();
          this.live.delete(job.importId);
          this.deps.logger.error('import failed to run', { importId: job.importId, error: (error as Error)?.stack ?? String(error) });
        },
      )
      .finally(async () => {
        this.running.delete(job.importId);
        await rm(job.filePath, { force: true });
        this.pump();
      });
    this.running.set(job.importId, { userId: job.actor.id, abort, done });
  }

  /** An import that never started because the server is stopping: failed, its file deleted. */
  private async failUnstarted(job: Job): Promise<void> {
    try {
      const view = await abandonImport(this.ctx(job.actor), job.importId, {
        id: 'internal',
        message: 'The server stopped before this import could start. Upload the file again.',
      });
      if (view) this.events.emit('finished', view);
    } catch (error) {
      this.deps.logger.error('could not end a waiting import', { importId: job.importId, error: String(error) });
    } finally {
      this.live.delete(job.importId);
      await rm(job.filePath, { force: true });
    }
  }

  /** Imports a previous process left queued or running can never finish (their files were temporary). */
  private async endInterrupted(): Promise<void> {
    for (const row of await listUnfinishedImports(this.deps.db)) {
      if (this.live.has(row.id)) continue;
      await abandonImport({ db: this.deps.db, actor: anonymous, now: this.deps.now }, row.id, {
        id: 'internal',
        message: 'The server restarted before this import finished. Upload the file again: records already imported are skipped as duplicates.',
      });
    }
  }

  private ctx(actor: UserActor): Ctx {
    return { db: this.deps.db, actor, now: this.deps.now };
  }
}

/** Calls `emit` with the latest value at most once per interval (leading and trailing). */
class Throttle<T> {
  private readonly interval: number;
  private readonly emit: (value: T) => void;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private pending: T | undefined;

  constructor(
    interval: number,
    emit: (value: T) => void,
  ) {
    this.interval = interval;
    this.emit = emit;
  }

  push(value: T): void {
    this.pending = value;
    const wait = this.last + this.interval - Date.now();
    if (wait <= 0) return this.fire();
    this.timer ??= setTimeout(() => this.fire(), wait);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private fire(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const value = this.pending;
    this.pending = undefined;
    this.last = Date.now();
    if (value !== undefined) this.emit(value);
  }
}
