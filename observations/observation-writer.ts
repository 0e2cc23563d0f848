import { sql, type SQL } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db } from '../core/db.ts';
import { WriteBatcher } from '../core/write-batcher.ts';

/**
 * One new observation as the rows it writes, each a parenthesised tuple of typed parameters:
 * - observation: the observations columns listed in OBSERVATION_COLUMNS;
 * - codings: (id, observation_id, ethogram_version_id, behaviour_id, coder_id, status, created_at) each;
 * - event: (observation_id, actor_id, payload, at) of its `observation.recorded` event.
 */
export interface ObservationWrite {
  observation: SQL;
  codings: SQL[];
  event: SQL;
}

const OBSERVATION_COLUMNS = sql.raw(`id, title, surprise, visibility, provider, model, model_version, provenance, observed_at, submitted_by,
  raw_payload, raw_sha256, transcript, evidence_links, tags, search, search_pending, created_at, updated_at, minhash, minhash_bands`);

/**
 * Writes observations with their codings and events in ONE statement (data-modifying CTEs: atomic, one round
 * trip). Codings and events join the inserted rows, so they are written only with their observation.
 */
export async function writeObservations(db: Db, writes: ObservationWrite[]): Promise<void> {
  const codings = writes.flatMap((w) => w.codings);
  const codingsCte = codings.length
    ? sql`, inserted_codings AS (
        INSERT INTO codings (id, observation_id, ethogram_version_id, behaviour_id, coder_id, method, status, created_at)
        SELECT c.id, c.observation_id, c.version_id, c.behaviour_id, c.coder_id, 'manual', c.status, c.created_at
        FROM (VALUES ${sql.join(codings, sql`, `)}) AS c(id, observation_id, version_id, behaviour_id, coder_id, status, created_at)
        JOIN inserted o ON o.id = c.observation_id
        RETURNING 1)`
    : sql``;
  await db.execute(sql`
    WITH inserted AS (
      INSERT INTO observations (${OBSERVATION_COLUMNS}) VALUES ${sql.join(
        writes.map((w) => w.observation),
        sql`, `,
      )}
      RETURNING id)
    ${codingsCte}
    INSERT INTO events (type, entity_type, entity_id, actor_id, payload, at)
    SELECT 'observation.recorded', 'observation', e.id::text, e.actor_id, e.payload, e.at
    FROM (VALUES ${sql.join(
      writes.map((w) => w.event),
      sql`, `,
    )}) AS e(id, actor_id, payload, at)
    JOIN inserted ON inserted.id = e.id`);
}

/**
 * Up to this many observations share a statement (a few hundred bind parameters each way below PostgreSQL's
 * 65,535), and this many statements run at once. Measured on 2 cores with 32 clients: 1 to 2 in flight gave
 * the best rate and tail (bigger batches); 8 was slower (batches of a few rows again).
 */
const MAX_BATCH = 64;
const MAX_IN_FLIGHT = 2;

const batchers = new WeakMap<object, WriteBatcher<ObservationWrite>>();

let lastWriteAt = 0;

/** When this process last wrote new observations (ms since the epoch): the search indexer yields to bursts. */
export const lastObservationWriteAt = () => lastWriteAt;

/** Marks that observations were just written by another path (imports), so the search indexer yields to the burst. */
export function noteObservationWrite(): void {
  lastWriteAt = Date.now();
}

/**
 * Writes one observation. On the root handle it shares a statement with observations recorded at the same time
 * (WriteBatcher); inside a transaction (an idempotent request) it is written there, alone.
 */
export function writeObservation(db: Db, write: ObservationWrite): Promise<void> {
  if ((db as unknown) instanceof PgTransaction) return writeObservations(db, [write]);
  let batcher = batchers.get(db);
  if (!batcher) {
    batcher = new WriteBatcher(
      (writes) => {
        lastWriteAt = Date.now();
        return writeObservations(db, writes);
      },
      { maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT },
    );
    batchers.set(db, batcher);
  }
  return batcher.write(write);
}
