/**
 * Worker-thread entry that owns a PGlite database and serves requests from server/db/pglite-remote.ts, so
 * the database's WASM work runs off the web server's thread. Started by `RemotePGlite.create`, never directly.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, messages, type ParserOptions, type QueryOptions, type Transaction } from '@electric-sql/pglite';
import type { RemotePGliteSource, WireError, WireQueryOptions, WorkerReply, WorkerRequest } from './pglite-remote.ts';

interface OpenTransaction {
  tx: Transaction;
  /** Lets PGlite's transaction callback return (commit) or throw (roll back). */
  finish: (commit: boolean) => void;
  done: Promise<void>;
}

const ROLLBACK = Symbol('rollback');
const port = parentPort!;
const source = (workerData as { source: RemotePGliteSource }).source;
const transactions = new Map<number, OpenTransaction>();
const rawParsers = new Map<string, ParserOptions>();
const keepText = (text: string) => text;

const post = (reply: WorkerReply) => port.postMessage(reply);

function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { message: String(err), database: false, fields: {} };
  const fields: Record<string, unknown> = { name: err.name };
  // queryOptions may hold functions (parsers), which cannot be cloned; the caller has them anyway.
  for (const [key, value] of Object.entries(err)) if (key !== 'queryOptions' && typeof value !== 'function') fields[key] = value;
  return { message: err.message, stack: err.stack, database: err instanceof messages.DatabaseError, fields };
}

/** Rebuilds query options: drizzle's parsers (keep the text of dates and intervals) become identity parsers. */
function fromWire(wire: WireQueryOptions | undefined): QueryOptions | undefined {
  if (!wire) return undefined;
  const options: QueryOptions = {};
  if (wire.rowMode) options.rowMode = wire.rowMode;
  if (wire.paramTypes) options.paramTypes = wire.paramTypes;
  if (wire.rawOids) {
    const key = wire.rawOids.join(',');
    let parsers = rawParsers.get(key);
    if (!parsers) rawParsers.set(key, (parsers = Object.fromEntries(wire.rawOids.map((oid) => [oid, keepText]))));
    options.parsers = parsers;
  }
  return options;
}

function target(pg: PGlite, txId: number | undefined): PGlite | Transaction {
  if (txId === undefined) return pg;
  const open = transactions.get(txId);
  if (!open) throw new Error('Transaction is closed');
  return open.tx;
}

/** Opens a transaction and holds it until the main thread sends `end`; replies once BEGIN has run. */
function begin(pg: PGlite, request: { id: number; txId: number }): void {
  let began = false;
  const open = {} as OpenTransaction;
  open.done = pg.transaction(async (tx) => {
    open.tx = tx;
    began = true;
    transactions.set(request.txId, open);
    post({ id: request.id, ok: true, value: null });
    const commit = await new Promise<boolean>((resolve) => (open.finish = resolve));
    if (!commit) throw ROLLBACK;
  });
  open.done.catch((err: unknown) => {
    if (!began) post({ id: request.id, ok: false, error: toWireError(err) });
  });
}

/** Closes the database, answers, then lets the thread end (nothing else keeps it alive). */
async function close(pg: PGlite, id: number): Promise<void> {
  try {
    await pg.close();
    post({ id, ok: true, value: null });
  } catch (err) {
    post({ id, ok: false, error: toWireError(err) });
  }
  port.close();
}

async function serve(pg: PGlite, request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'query':
      return target(pg, request.txId).query(request.sql, request.params, fromWire(request.options));
    case 'exec':
      return target(pg, request.txId).exec(request.sql, fromWire(request.options));
    case 'rollback':
      return (target(pg, request.txId) as Transaction).rollback();
    case 'end': {
      const open = transactions.get(request.txId);
      if (!open) throw new Error('Transaction is closed');
      transactions.delete(request.txId);
      open.finish(request.commit);
      await open.done.catch((err: unknown) => {
        if (err !== ROLLBACK) throw err;
      });
      return null;
    }
    case 'begin':
    case 'close':
      throw new Error(`${request.op} is answered by its own handler`);
  }
}

let pg: PGlite;
try {
  pg = source.loadDataDir
    ? await PGlite.create({ loadDataDir: new Blob([source.loadDataDir as Uint8Array<ArrayBuffer>]) })
    : await PGlite.create(source.dataDir);
} catch (err) {
  post({ id: 0, ok: false, error: toWireError(err) });
  port.close();
  process.exit(1);
}
port.on('message', (request: WorkerRequest) => {
  if (request.op === 'begin') return begin(pg, request);
  if (request.op === 'close') return void close(pg, request.id);
  serve(pg, request)
    .then(
      (value) => post({ id: request.id, ok: true, value }),
      (err: unknown) => post({ id: request.id, ok: false, error: toWireError(err) }),
    )
    // A value or error field structured clone cannot copy: still answer, so the caller never waits forever.
    .catch((err: unknown) => post({ id: request.id, ok: false, error: { message: String(err), database: false, fields: {} } }));
});
post({ id: 0, ok: true, value: null });
