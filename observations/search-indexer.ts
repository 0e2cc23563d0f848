import { sql } from 'drizzle-orm';
import { inTransaction, rowsOf, type Db } from '../core/db.ts';
import { transcriptSearchTextSql } from './observation-text.ts';
import { lastObservationWriteAt, onObservationsWritten } from './observation-writer.ts';
import { fingerprintLiterals, fingerprintPending, fingerprintTextArray } from './similar/fingerprint-pending.ts';
import { fingerprint } from './similar/minhash.ts';

/** Observations written within this many milliseconds mean a burst is on. */
const BURST_MS = 1000;

/**
 * Adds pending transcripts to the full-text index, oldest first, and fingerprints them for near-duplicate detection
 * (those written without a fingerprint, as new observations are), in one UPDATE per batch: the row gets one new
 * version for both. Rows are claimed with FOR UPDATE SKIP LOCKED, so several server processes can index side by side
 * without doing work twice. `wait` claims with a plain FOR UPDATE instead: rows another indexer holds are waited for
 * (and then skipped, being indexed), so when it returns 0 nothing is pending, not merely claimed by someone else
 * (drain needs that). Returns how many observations it indexed.
 *
 * Both are left out of recording an observation, whose answer need not wait for them: to_tsvector over a 10 KB
 * transcript is most of what a row costs PostgreSQL, and fingerprinting it took about an eighth of the ingestion
 * rate on 2 cores (bench/ingestion.bench.ts). The text is extracted where it lies (transcriptSearchTextSql); only
 * the rows still to fingerprint send it here, where it is hashed (observations/similar/), and back with their
 * fingerprint for the search vector: extracting it again cost PostgreSQL about 0.5 ms a row, a sixth of indexing it.
 */
export async function indexPendingTranscripts(db: Db, batchSize = 50, wait = false): Promise<number> {
  return inTransaction(db, async (tx) => {
    const claimed = rowsOf<{ id: string; unprinted: boolean; text: string | null }>(
      await tx.execute(sql`SELECT id, minhash IS NULL AS unprinted, CASE WHEN minhash IS NULL THEN ${transcriptSearchTextSql(sql`transcript`)} END AS text
        FROM observations WHERE search_pending
        ORDER BY created_at LIMIT ${batchSize} FOR UPDATE ${wait ? sql`` : sql`SKIP LOCKED`}`),
    );
    if (claimed.length === 0) return 0;
    const ids: string[] = [];
    const signatures: (string | null)[] = [];
    const bands: (string | null)[] = [];
    const texts: (string | null)[] = [];
    for (const row of claimed) {
      ids.push(row.id);
      texts.push(row.unprinted ? (row.text ?? '') : null);
      // A row that has its fingerprint (an edit wrote it with the row) keeps it: NULL here.
      const literals = row.unprinted ? fingerprintLiterals(fingerprint(row.text ?? '')) : null;
      signatures.push(literals?.signature ?? null);
      bands.push(literals?.bands ?? null);
    }
    await tx.execute(sql`UPDATE observations AS o SET
        search = setweight(to_tsvector('english', o.title), 'A') || setweight(to_tsvector('english', o.surprise), 'B')
          || setweight(to_tsvector('english', COALESCE(f.text, ${transcriptSearchTextSql(sql`o.transcript`)})), 'C'),
        search_pending = false,
        minhash = COALESCE(f.signature::int[], o.minhash),
        minhash_bands = COALESCE(f.bands::int[], o.minhash_bands)
      FROM unnest(${`{${ids.join(',')}}`}::uuid[], ${fingerprintTextArray(signatures)}::text[], ${fingerprintTextArray(bands)}::text[],
          ARRAY[${sql.join(texts.map((t) => sql`${t}`), sql`, `)}]::text[])
        AS f(id, signature, bands, text)
      WHERE o.id = f.id`);
    return claimed.length;
  });
}

export interface SearchIndexer {
  /** Indexes everything pending now, waiting for batches other indexers hold (tests, and shutdown). */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Whether anything waits for the indexer: transcripts to index, or rows without a fingerprint. One cheap
 * statement (two probes of partial indexes) where the batch UPDATE, planned each time, costs an idle server more.
 */
export async function anythingPending(db: Db): Promise<boolean> {
  const [row] = rowsOf<{ pending: boolean }>(
    await db.execute(sql`SELECT EXISTS (SELECT 1 FROM observations WHERE search_pending)
      OR EXISTS (SELECT 1 FROM observations WHERE minhash IS NULL AND deleted_at IS NULL) AS pending`),
  );
  return row?.pending === true;
}

/**
 * Runs the indexer in the background (the full-text index, and the near-duplicate fingerprints).
 * - Caught up, it asks every `idleMs` (default 1 s) whether anything is pending (`anythingPending`), and starts at
 *   once when this process commits new observations after a quiet second: a lone submission's transcript is
 *   searchable within moments, and rows written by other processes within `idleMs`.
 * - While there is a backlog, it works in batches but rests as long as each batch took (nine times as long while
 *   observations are arriving), so indexing takes at most about half of what the database can give (a tenth
 *   during a burst) and ingestion keeps its pace. Writes during a burst do not wake it: the paced schedule
 *   picks them up.
 */
export function startSearchIndexer(db: Db, opts: { idleMs?: number; batchSize?: number; onError?: (err: unknown) => void } = {}): SearchIndexer {
  const idleMs = opts.idleMs ?? 1000;
  const batchSize = opts.batchSize ?? 50;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  /** The last tick found no backlog: the next asks `anythingPending` first, and a write may wake it. */
  let caughtUp = false;
  let ticking = false;
  let wokenDuringTick = false;
  let lastWriteSeenAt = 0;

  const schedule = (delay: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void (running = tick()), delay);
  };

  const tick = async () => {
    if (stopped) return;
    ticking = true;
    wokenDuringTick = false;
    let delay = idleMs;
    try {
      if (!caughtUp || (await anythingPending(db))) {
        const started = Date.now();
        const indexed = await indexPendingTranscripts(db, batchSize);
        // Fingerprints for rows that lack one and wait for no indexing (migration 0012 cleared the older scheme's;
        // plain SQL may write rows without): new rows got theirs with their transcript's indexing, just above.
        // Only once the transcripts are caught up: while they are not, the rows still pending are most of those
        // without a fingerprint, and the query would step over them all to find the others.
        const printed = indexed < batchSize ? await fingerprintPending(db, batchSize) : 0;
        caughtUp = indexed < batchSize && printed < batchSize;
        if (!caughtUp) {
          // While observations are arriving, index at a tenth of the database's time rather than half: the people
          // submitting do not wait, and the backlog is not done later than it would be. Indexing is the database's
          // work either way, so the transcripts of a 20,000-observation burst were searchable about 62 s after it
          // began whether the indexer took a quarter (ingestion 1,660/s) or a tenth (1,830/s) during it.
          const took = Math.max(1, Date.now() - started);
          delay = Date.now() - lastObservationWriteAt() < BURST_MS ? 9 * took : took;
        }
      }
    } catch (err) {
      opts.onError?.(err);
    }
    ticking = false;
    schedule(caughtUp && wokenDuringTick ? 0 : delay);
  };
  schedule(0);

  const stopListening = onObservationsWritten(() => {
    const now = Date.now();
    const quiet = now - lastWriteSeenAt >= BURST_MS;
    lastWriteSeenAt = now;
    if (!quiet || !caughtUp || stopped) return;
    if (ticking) wokenDuringTick = true;
    else schedule(0);
  });

  return {
    async drain() {
      await running;
      let total = 0;
      for (let n = -1; n !== 0; total += n) n = await indexPendingTranscripts(db, 200, true);
      while ((await fingerprintPending(db, 200)) > 0);
      return total;
    },
    async stop() {
      stopped = true;
      stopListening();
      clearTimeout(timer);
      await running;
    },
  };
}
