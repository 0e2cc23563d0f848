import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../core/db.ts';

/** Row counts of the tables observation writes touch, to check that refused requests store nothing. */
export async function observationTableCounts(db: Db): Promise<{ observations: number; codings: number; events: number; revisions: number; idempotencyKeys: number }> {
  const [row] = rowsOf<{ o: number; c: number; e: number; r: number; k: number }>(
    await db.execute(sql`SELECT (SELECT count(*) FROM observations)::int AS o, (SELECT count(*) FROM codings)::int AS c,
      (SELECT count(*) FROM events)::int AS e, (SELECT count(*) FROM revisions)::int AS r, (SELECT count(*) FROM idempotency_keys)::int AS k`),
  );
  return { observations: Number(row!.o), codings: Number(row!.c), events: Number(row!.e), revisions: Number(row!.r), idempotencyKeys: Number(row!.k) };
}
