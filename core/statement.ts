import { sql, type SQL } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db } from './db.ts';

/**
 * A statement written as text with numbered parameters ($1, $2...), for the few hot statements where Drizzle's
 * `sql` building costs more than the rest of the request's work around it. Values always travel as parameters,
 * never in the text.
 */
export class Statement {
  readonly params: unknown[] = [];

  /** Adds a value and returns its placeholder; use the placeholder again to reuse the value. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/** The driver under a root handle: node-postgres's pool and PGlite both run `query(text, params)`. */
interface TextQueryClient {
  query(text: string, params: unknown[]): Promise<unknown>;
}

/**
 * Runs a statement given as text and parameters. On a root handle it goes straight to the driver; inside a
 * transaction (whose connection Drizzle holds) it goes through Drizzle, rebuilt as `sql` from the same text.
 * Rows come back as the driver reads them (without Drizzle's own type parsers): meant for writes.
 */
export function executeText(db: Db, text: string, params: unknown[]): Promise<unknown> {
  const client = (db as unknown as { $client?: TextQueryClient }).$client;
  if ((db as unknown) instanceof PgTransaction || !client) return db.execute(statementSql(text, params));
  return client.query(text, params);
}

/** The same statement as Drizzle `sql`: the text between placeholders raw, each placeholder its value. */
export function statementSql(text: string, params: readonly unknown[]): SQL {
  const pieces = text.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  for (let i = 0; i < pieces.length; i++) {
    if (i % 2 === 0) chunks.push(sql.raw(pieces[i]!));
    else {
      const n = Number(pieces[i]);
      if (!(n >= 1 && n <= params.length)) throw new Error(`Statement placeholder $${n} has no parameter (${params.length} given).`);
      chunks.push(sql`${params[n - 1]}`);
    }
  }
  return sql.join(chunks);
}

/** A `text[]` literal to send as one parameter: each element double-quoted, its quotes and backslashes escaped. */
export function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}
