/**
 * Worker-thread entry that owns a PGlite database and serves requests from server/db/pglite-remote.ts, so
 * the database's WASM work runs off the web server's thread. Started by `RemotePGlite.create`, never directly.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, messages, types, type ParserOptions, type QueryOptions, type Transaction } from '@electric-sql/pglite';
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

/**
 * The type parsers every drizzle query asks for (dates, timestamps and intervals kept as text), made this
 * PGlite's own defaults. PGlite merges a query's `parsers` into its table of some 300 types on every query (an
 * object spread: about 0.2 ms of this thread per statement), so queries asking for exactly these pass none; any
 * other query passes the original parsers of these types back (`restore`), and gets what PGlite alone would give.
 */
let adopted: { key: string; oids: number[]; restore: ParserOptions } | undefined;
/** Array type -> element type: PGlite's array parsers read their element's parser from the instance's table. */
const arrayElements = new Map<number, number>();

function rawKey(oids: number[]): string {
  return [...oids].sort((a, b) => a - b).join(',');
}

function keepTextFor(oids: number[]): ParserOptions {
  const key = rawKey(oids);
  let parsers = rawParsers.get(key);
  if (!parsers) rawParsers.set(key, (parsers = Object.fromEntries(oids.map((oid) => [oid, keepText]))));
  return parsers;
}

/** Makes (or keeps: PGlite may rebuild its array parsers) the first raw parser set the instance's defaults. */
function adopt(pg: PGlite, oids: number[]): NonNullable<typeof adopted> {
  adopted ??= { key: rawKey(oids), oids: [...oids], restore: {} };
  let changed = false;
  for (const oid of adopted.oids) {
    if (pg.parsers[oid] === keepText) continue;
    adopted.restore[oid] = pg.parsers[oid]!;
    pg.parsers[oid] = keepText;
    changed = true;
  }
  if (changed) {
    // An array of an adopted type parses its elements with the element's original parser, not the table's.
    for (const oid of adopted.oids) {
      const element = arrayElements.get(oid);
      const elementParser = element === undefined ? undefined : adopted.restore[element];
      if (elementParser) adopted.restore[oid] = (value: string) => types.arrayParser(value, elementParser, oid);
    }
  }
  return adopted;
}

/** Rebuilds query options: drizzle's parsers (keep the text of dates and intervals) become identity parsers. */
function fromWire(pg: PGlite, wire: WireQueryOptions | undefined): QueryOptions | undefined {
  const options: QueryOptions = {};
  if (wire?.rowMode) options.rowMode = wire.rowMode;
  if (wire?.paramTypes) options.paramTypes = wire.paramTypes;
  if (wire?.rawOids) {
    const defaults = adopt(pg, wire.rawOids);
    if (rawKey(wire.rawOids) !== defaults.key) options.parsers = { ...defaults.restore, ...keepTextFor(wire.rawOids) };
  } else if (adopted) {
    adopt(pg, adopted.oids);
    options.parsers = adopted.restore;
  }
  return wire || options.parsers ? options : undefined;
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
      return target(pg, request.txId).query(request.sql, request.params, fromWire(pg, request.options));
    case 'exec':
      return target(pg, request.txId).exec(request.sql, fromWire(pg, request.options));
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
  const startParams = source.settings
    ? [...PGlite.defaultStartParams, ...Object.entries(source.settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])]
    : undefined;
  pg = source.loadDataDir
    ? await PGlite.create({ loadDataDir: new Blob([source.loadDataDir as Uint8Array<ArrayBuffer>]), startParams })
    : await PGlite.create({ dataDir: source.dataDir, startParams });
} catch (err) {
  post({ id: 0, ok: false, error: toWireError(err) });
  port.close();
  process.exit(1);
}
try {
  const rows = (await pg.query<{ arr: number; elem: number }>('SELECT typarray AS arr, oid AS elem FROM pg_catalog.pg_type WHERE typarray <> 0')).rows;
  for (const row of rows) arrayElements.set(row.arr, row.elem);
} catch {
  // Without the map, arrays of dates in queries without drizzle's parsers come back as text: nothing depends on it.
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
