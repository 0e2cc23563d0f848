import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/**
 * The database handle domain code sees: Drizzle over PostgreSQL, whether PGlite (embedded) or a server.
 * A transaction has the same shape, so commands accept either.
 */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;

/** Runs work in a transaction: a fresh one on a root handle, or a savepoint when already inside one. */
export function inTransaction<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction((tx) => work(tx as unknown as Db));
}

/** Rows a raw `db.execute` returned, for either driver (node-postgres and PGlite both expose `rows`). */
export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
