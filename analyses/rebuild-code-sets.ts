import { sql } from 'drizzle-orm';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';

export interface CodeSetsRebuild {
  /** Rows after the rebuild. */
  rows: number;
  /** Rows that were missing, stale or left over before it (0 when the triggers kept everything right). */
  corrected: number;
}

/**
 * Recomputes every kept code set from the codings, in one transaction, and says how many rows it had to correct.
 * The triggers keep the table right on every write; this is for after something they cannot see (a TRUNCATE, a
 * restore of one table from a backup, triggers disabled for a bulk load), and to check that nothing drifted.
 */
export async function rebuildCodeSets(db: Db): Promise<CodeSetsRebuild> {
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`CREATE TEMP TABLE code_sets_before ON COMMIT DROP AS SELECT * FROM observation_code_sets`);
    await tx.execute(sql`DELETE FROM observation_code_sets`);
    await tx.execute(sql`SELECT observation_code_sets_refresh(ARRAY(SELECT DISTINCT observation_id FROM codings))`);
    const [counts] = rowsOf<{ rows: number; corrected: number }>(
      await tx.execute(sql`SELECT (SELECT count(*) FROM observation_code_sets)::int AS rows,
        ((SELECT count(*) FROM (SELECT * FROM observation_code_sets EXCEPT SELECT * FROM code_sets_before) missing_or_stale)
          + (SELECT count(*) FROM code_sets_before b WHERE NOT EXISTS (SELECT 1 FROM observation_code_sets s
              WHERE s.observation_id = b.observation_id AND s.ethogram_version_id = b.ethogram_version_id)))::int AS corrected`),
    );
    return { rows: Number(counts!.rows), corrected: Number(counts!.corrected) };
  });
}
