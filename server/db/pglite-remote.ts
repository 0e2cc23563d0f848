import type { Worker } from 'node:worker_threads';
import { messages, type QueryOptions, type Results } from '@electric-sql/pglite';
import { startModuleWorker } from '../../core/module-worker.ts';

/**
 * PGlite running in a worker thread, seen from the main thread.
 *
 * PGlite is Postgres compiled to WASM: every query runs synchronously on the thread that owns it. In the web
 * server's thread that work blocks HTTP parsing, JSON and validation; in a worker it runs on another core.
 * RemotePGlite implements the part of PGlite's API that drizzle-orm's pglite driver and migrator call
 * (`query`, `exec`, `transaction`, `close`), forwarding each call to server/db/pglite-worker.ts.
 */

/** Where the worker's PGlite gets its data: a data folder, a dumped data folder (tar), or neither (memory). */
export interface RemotePGliteSource {
  /** Data folder opened (and created) by PGlite in the worker. */
  dataDir?: string;
  /** A data folder dump (as `dumpDataDir` makes, optionally gzipped) loaded into memory. */
  loadDataDir?: Uint8Array;
  /** Server settings for this start (`-c name=value` after PGlite's own start parameters). */
  settings?: Record<string, string>;
}

/** Query options as they cross to the worker: functions cannot, so parsers travel as type OIDs. */
export interface WireQueryOptions {
  rowMode?: 'array' | 'object';
  /** Type OIDs whose values come back as Postgres text, unparsed (drizzle's parsers for dates and intervals). */
  rawOids?: number[];
  paramTypes?: number[];
}

/** A request to the worker. `txId` routes a statement into an open transaction. */
export type WorkerRequest =
  | { id: number; op: 'query'; txId?: number; sql: string; params: unknown[]; options?: WireQueryOptions }
  | { id: number; op: 'exec'; txId?: number; sql: string; options?: WireQueryOptions }
  | { id: number; op: 'begin' | 'rollback'; txId: number }
  | { id: number; op: 'end'; txId: number; commit: boolean }
  | { id: number; op: 'close' };

/** An error as it crosses threads: structured clone keeps only an Error's message, so fields travel apart. */
export interface WireError {
  message: string;
  stack?: string | undefined;
  /** True for a Postgres error (PGlite's DatabaseError), rebuilt as one on the main thread. */
  database: boolean;
  fields: Record<string, unknown>;
}

/** The worker's answer to one request (`id` 0: the database is open and ready). */
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** What `query` returns; the same shape as PGlite's. */
export type RemoteResults<T = Record<string, unknown>> = Results<T>;

const PROBE = '\u0000menagerie-parser-probe';

/** Translates PGlite query options for the wire; rejects the options a worker cannot honour. */
function toWire(options: QueryOptions | undefined): WireQueryOptions | undefined {
  if (!options) return undefined;
  for (const key of ['serializers', 'blob', 'onNotice'] as const) {
    if (options[key] !== undefined) throw new Error(`PGlite in a worker thread does not support the ${key} query option`);
  }
  const wire: WireQueryOptions = {};
  if (options.rowMode) wire.rowMode = options.rowMode;
  if (options.paramTypes) wire.paramTypes = options.paramTypes;
  if (options.parsers) {
    // Drizzle's parsers all return Postgres's text unchanged; that is the only kind the worker can reproduce.
    wire.rawOids = Object.entries(options.parsers).map(([oid, parse]) => {
      if (parse(PROBE, Number(oid)) !== PROBE) throw new Error(`PGlite in a worker thread only supports parsers that return the text unchanged (type ${oid})`);
      return Number(oid);
    });
  }
  return wire;
}

/** Rebuilds an error from the worker, keeping every field (code, constraint, detail...) our error mapping reads. */
function fromWire(wire: WireError): Error {
  const { length, name, ...fields } = wire.fields;
  const error: Error = wire.database
    ? new messages.DatabaseError(wire.message, Number(length ?? 0), (name ?? 'error') as messages.MessageName)
    : Object.assign(new Error(wire.message), typeof name === 'string' ? { name } : {});
  Object.assign(error, fields);
  if (wire.stack) error.stack = wire.stack;
  return error;
}

/** An open transaction on the worker's PGlite: statements sent through it run inside it, in order. */
export class RemoteTransaction {
  private readonly owner: RemotePGlite;
  private readonly txId: number;
  #closed = false;

  constructor(
    owner: RemotePGlite,
    txId: number,
  ) {
    this.owner = owner;
    this.txId = txId;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    this.#check();
    return this.owner.send({ op: 'query', txId: this.txId, sql, params, options: toWire(options) }) as Promise<Results<T>>;
  }

  async exec(sql: string, options?: QueryOptions): Promise<Results[]> {
    this.#check();
    return this.owner.send({ op: 'exec', txId: this.txId, sql, options: toWire(options) }) as Promise<Results[]>;
  }

  async rollback(): Promise<void> {
    this.#check();
    await this.owner.send({ op: 'rollback', txId: this.txId });
    this.#closed = true;
  }

  /** @internal Marks the transaction finished, so late statements fail as they do on PGlite. */
  finish(): void {
    this.#closed = true;
  }

  #check(): void {
    if (this.#closed) throw new Error('Transaction is closed');
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Outgoing = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

/**
 * The main-thread handle on a PGlite database running in a worker thread. Pass it to drizzle
 * (`drizzle(remote)`) like a PGlite instance. Statements queue in the worker exactly as PGlite queues them:
 * while a transaction is open, other statements wait for it to end.
 */
export class RemotePGlite {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker, ready: Pending) {
    this.#worker = worker;
    this.#pending.set(0, ready);
    worker.on('message', (reply: WorkerReply) => this.#settle(reply));
    worker.on('error', (err) => this.#fail(err));
    this.#exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.#fail(new Error(`The PGlite worker thread stopped (exit code ${code})`));
        resolve();
      }),
    );
  }

  /** Starts a worker thread and opens PGlite in it; resolves once the database is ready for queries. */
  static async create(source: RemotePGliteSource = {}): Promise<RemotePGlite> {
    const worker = startModuleWorker(workerEntry, { source });
    let remote!: RemotePGlite;
    await new Promise((resolve, reject) => {
      remote = new RemotePGlite(worker, { resolve, reject });
    });
    remote.#idle();
    return remote;
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    return this.send({ op: 'query', sql, params, options: toWire(options) }) as Promise<Results<T>>;
  }

  async exec(sql: string, options?: QueryOptions): Promise<Results[]> {
    return this.send({ op: 'exec', sql, options: toWire(options) }) as Promise<Results[]>;
  }

  /**
   * Runs `callback` in a transaction held open in the worker: commits when it resolves, rolls back when it
   * throws (and rethrows), as PGlite's own `transaction` does.
   */
  async transaction<T>(callback: (tx: RemoteTransaction) => Promise<T>): Promise<T> {
    const txId = this.#nextId++;
    await this.send({ op: 'begin', txId });
    const tx = new RemoteTransaction(this, txId);
    let result: T;
    try {
      result = await callback(tx);
    } catch (err) {
      tx.finish();
      await this.send({ op: 'end', txId, commit: false });
      throw err;
    }
    tx.finish();
    await this.send({ op: 'end', txId, commit: true });
    return result;
  }

  /** Closes the database and ends the worker thread. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#worker.ref();
      if (!this.#failure) await this.send({ op: 'close' });
      await this.#exited;
    })();
    return this.#closing;
  }

  /** @internal Sends one request and resolves with the worker's answer. */
  send(request: Outgoing): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id });
    });
  }

  #settle(reply: WorkerReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(fromWire(reply.error));
    this.#idle();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(this.#failure);
    this.#pending.clear();
  }

  /** An idle database must not keep the process alive, just as an in-process PGlite does not. */
  #idle(): void {
    if (this.#pending.size === 0 && !this.#closing) this.#worker.unref();
  }
}

const workerEntry = new URL('./pglite-worker.ts', import.meta.url);
