import type { Db } from '../../core/db.ts';

/** Switches for a FlakyDb: while `down`, every transaction fails as a lost connection does; `delayMs` slows each one. */
export interface DbTrouble {
  down: boolean;
  delayMs: number;
  /** Transactions refused while down. */
  refused: number;
}

/**
 * The same database handle, with writes (transactions) that can be made to fail or crawl, as during a database
 * outage or overload. Reads pass through untouched, so API tokens still resolve. The error has no SQLSTATE, like
 * node-postgres' "Connection terminated unexpectedly".
 */
export function flakyDb(db: Db, trouble: DbTrouble): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'transaction') {
        return async (...args: Parameters<Db['transaction']>) => {
          if (trouble.delayMs > 0) await new Promise((r) => setTimeout(r, trouble.delayMs));
          if (trouble.down) {
            trouble.refused++;
            throw new Error('Connection terminated unexpectedly');
          }
          return target.transaction(...args);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
