import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../core/db.ts';
import { analysisQuery, behaviourIndex, type AnalysisScope } from './analysis-scope.ts';
import type { PackedSequences } from './statistics/transitions.ts';

export interface TransitionSequences {
  /** Each observation's behaviours (indices into the scope's behaviours) in transcript order; only sequences of 2 or more. */
  sequences: PackedSequences;
  /** Codings left out because they code the whole observation (no position in the transcript). */
  wholeObservation: number;
  /** Codings left out because their message is not in the transcript any more. */
  unplaced: number;
}

/**
 * The ordered behaviour sequences, compactly: the database orders each observation's positioned codings (message
 * order, then part, then character offset; identical codes at one position, as when two coders agree, count
 * once) and returns every sequence in one text value ("3,5,5;1,4;…"), so Node receives indices, not rows.
 *
 * Message order: ids of the form `mN`, which every parser and importer hands out in transcript order, are read as
 * N; any other id is looked up in the transcript's message array (only those observations' transcripts are read,
 * through a subquery, so the join itself never carries transcripts). Sequences come in observation id order, so
 * a seeded permutation test gives the same answer from either source.
 */
export async function loadTransitionSequences(db: Db, scope: AnalysisScope): Promise<TransitionSequences> {
  const [row] = await analysisQuery(db, async (tx) => rowsOf<{ sequences: string | null; whole: number; unplaced: number }>(
    await tx.execute(scope.source === 'code-sets' ? fromCodeSets(scope) : fromCodings(scope)),
  ));
  return {
    sequences: unpackSequences(row?.sequences ?? '', scope.behaviours.length),
    wholeObservation: Number(row?.whole ?? 0),
    unplaced: Number(row?.unplaced ?? 0),
  };
}

/** The kept code sets hold each observation's sequence already ordered (see analyses/analysis.schema.ts). */
function fromCodeSets(scope: AnalysisScope): SQL {
  const { sequence, whole, unplaced } = scope.codeSetColumns;
  return sql`SELECT string_agg(array_to_string(${sequence}, ','), ';' ORDER BY o.observation_id) FILTER (WHERE cardinality(${sequence}) >= 2) AS sequences,
      coalesce(sum(${whole}), 0)::int AS whole, coalesce(sum(${unplaced}), 0)::int AS unplaced
    FROM observation_code_sets o WHERE ${scope.codeSetWhere}`;
}

/** The same sequences built from the codings (a blind coder's view), ordered as the code sets order them. */
function fromCodings(scope: AnalysisScope): SQL {
  return sql`WITH b AS (${behaviourIndex(scope)}),
      coded AS MATERIALIZED (
        SELECT c.observation_id, b.i, c.message_id IS NULL AS whole, coalesce(c.part_index, 0) AS part, coalesce(c.char_start, 0) AS start,
          CASE WHEN c.message_id IS NULL THEN NULL
               WHEN c.message_id ~ '^m[1-9][0-9]{0,5}$' THEN substr(c.message_id, 2)::int
               ELSE (SELECT e.ord::int FROM observations t, jsonb_array_elements(t.transcript->'messages') WITH ORDINALITY e(m, ord)
                     WHERE t.id = c.observation_id AND e.m->>'id' = c.message_id LIMIT 1)
          END AS message_order
        FROM codings c JOIN observations o ON o.id = c.observation_id JOIN b ON b.id = c.behaviour_id
        WHERE ${scope.where}),
      placed AS (SELECT DISTINCT observation_id, i, message_order, part, start FROM coded WHERE message_order IS NOT NULL),
      seqs AS (SELECT observation_id, string_agg(i::text, ',' ORDER BY message_order, part, start, i) AS s FROM placed GROUP BY observation_id HAVING count(*) >= 2)
      SELECT (SELECT string_agg(s, ';' ORDER BY observation_id) FROM seqs) AS sequences,
        (SELECT count(*)::int FROM coded WHERE whole) AS whole,
        (SELECT count(*)::int FROM coded WHERE NOT whole AND message_order IS NULL) AS unplaced`;
}

/**
 * Reads "3,5,5;1,4" into packed sequences in one pass over the text (a selection of 100,000 observations is a few
 * hundred thousand numbers: no intermediate arrays). Sequences of fewer than 2 codes are dropped.
 */
export function unpackSequences(text: string, size: number): PackedSequences {
  let separators = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 44 || text.charCodeAt(i) === 59) separators++;
  const codes = new Int32Array(text.length ? separators + 1 : 0);
  const starts: number[] = [0];
  let n = 0;
  let value = 0;
  let start = 0;
  const endSequence = () => {
    if (n - start >= 2) starts.push(n);
    else n = start; // too short: drop what it added
    start = n;
  };
  for (let i = 0; i <= text.length; i++) {
    const ch = i < text.length ? text.charCodeAt(i) : 59;
    if (ch >= 48 && ch <= 57) {
      value = value * 10 + (ch - 48);
      continue;
    }
    if (!(value < size)) throw new RangeError(`behaviour index ${value} outside 0..${size - 1}`);
    codes[n++] = value;
    value = 0;
    if (ch === 59) endSequence();
  }
  return { size, codes: codes.subarray(0, n), starts: Int32Array.from(text.length ? starts : [0]) };
}
