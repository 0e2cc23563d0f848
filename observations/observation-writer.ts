import { PgTransaction } from 'drizzle-orm/pg-core';
import { executeText, Statement, textArrayLiteral } from '../core/statement.ts';
import type { Db } from '../core/db.ts';
import { WriteBatcher } from '../core/write-batcher.ts';
import { headlineVectorText } from './observation-text.ts';

/**
 * One new observation as the values it writes: the observation row, one whole-observation coding per behaviour
 * (method `manual`, coded by `submittedBy`), and its `observation.recorded` event. JSON columns arrive as JSON
 * text, times as ISO strings; the row's created_at and updated_at, its codings' and its event's time are all
 * `createdAt`. The row waits for the search indexer (`search_pending`), which adds its transcript's text to the
 * search vector and its near-duplicate fingerprint (observations/search-indexer.ts).
 */
export interface ObservationWrite {
  observation: {
    id: string;
    title: string;
    surprise: string;
    visibility: string;
    provider: string;
    model: string;
    modelVersion: string | null;
    provenanceJson: string;
    observedAt: string;
    submittedBy: string;
    rawPayload: string;
    rawSha256: string;
    transcriptJson: string;
    evidenceLinksJson: string;
    tags: readonly string[];
    createdAt: string;
  };
  codings: { id: string; ethogramVersionId: string; behaviourId: string; status: 'accepted' | 'proposed' }[];
  event: { actorId: string; payloadJson: string };
}

/**
 * Writes observations with their codings and events in ONE statement (data-modifying CTEs: atomic, one round
 * trip). Codings and events join the inserted rows, so they are written only with their observation.
 *
 * The statement is written as text with numbered parameters rather than built with Drizzle's `sql`: on the
 * ingestion path Drizzle's building (a chunk and an entity check per parameter, 20-odd per observation) cost
 * 40-70 µs per observation, about 5 % of the server's CPU per request. Numbered parameters also let a value
 * appear twice but travel once (the title and what was surprising feed the search vector; the id, the
 * submitter and the time recur in the codings and the event).
 */
export async function writeObservations(db: Db, writes: ObservationWrite[]): Promise<void> {
  const s = new Statement();
  const rows: string[] = [];
  const codings: string[] = [];
  const events: string[] = [];
  for (const { observation: o, codings: oc, event: e } of writes) {
    const id = s.param(o.id);
    const title = s.param(o.title);
    const surprise = s.param(o.surprise);
    const submittedBy = s.param(o.submittedBy);
    const at = s.param(o.createdAt);
    rows.push(
      `(${id}::uuid, ${title}, ${surprise}, ${s.param(o.visibility)}::visibility, ${s.param(o.provider)}, ${s.param(o.model)}, ` +
        `${s.param(o.modelVersion)}, ${s.param(o.provenanceJson)}::jsonb, ${s.param(o.observedAt)}::timestamptz, ${submittedBy}::uuid, ` +
        `${s.param(o.rawPayload)}, ${s.param(o.rawSha256)}, ${s.param(o.transcriptJson)}::jsonb, ${s.param(o.evidenceLinksJson)}::jsonb, ` +
        `${s.param(textArrayLiteral(o.tags))}::text[], ` +
        `${headlineVectorText(title, surprise)}, true, ` +
        `${at}::timestamptz, ${at}::timestamptz)`,
    );
    for (const c of oc) {
      codings.push(
        `(${s.param(c.id)}::uuid, ${id}::uuid, ${s.param(c.ethogramVersionId)}::uuid, ${s.param(c.behaviourId)}::uuid, ${submittedBy}::uuid, ` +
          `${s.param(c.status)}::coding_status, ${at}::timestamptz)`,
      );
    }
    events.push(`(${id}::uuid, ${s.param(e.actorId)}::uuid, ${s.param(e.payloadJson)}::jsonb, ${at}::timestamptz)`);
  }
  const codingsCte = codings.length
    ? `, inserted_codings AS (
        INSERT INTO codings (id, observation_id, ethogram_version_id, behaviour_id, coder_id, method, status, created_at)
        SELECT c.id, c.observation_id, c.version_id, c.behaviour_id, c.coder_id, 'manual', c.status, c.created_at
        FROM (VALUES ${codings.join(', ')}) AS c(id, observation_id, version_id, behaviour_id, coder_id, status, created_at)
        JOIN inserted o ON o.id = c.observation_id
        RETURNING 1)`
    : '';
  await executeText(
    db,
    `WITH inserted AS (
      INSERT INTO observations (${OBSERVATION_COLUMNS}) VALUES ${rows.join(', ')}
      RETURNING id)
    ${codingsCte}
    INSERT INTO events (type, entity_type, entity_id, actor_id, payload, at)
    SELECT 'observation.recorded', 'observation', e.id::text, e.actor_id, e.payload, e.at
    FROM (VALUES ${events.join(', ')}) AS e(id, actor_id, payload, at)
    JOIN inserted ON inserted.id = e.id`,
    s.params,
  );
}

const OBSERVATION_COLUMNS = `id, title, surprise, visibility, provider, model, model_version, provenance, observed_at, submitted_by,
  raw_payload, raw_sha256, transcript, evidence_links, tags, search, search_pending, created_at, updated_at`;

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

const writtenListeners = new Set<() => void>();

/**
 * Calls `listener` each time this process has committed new observations (the search indexer starts on them at
 * once instead of at its next poll). Returns the function that stops the calls.
 */
export function onObservationsWritten(listener: () => void): () => void {
  writtenListeners.add(listener);
  return () => writtenListeners.delete(listener);
}

function observationsWritten(): void {
  for (const listener of writtenListeners) {
    try {
      listener();
    } catch {
      // A listener's failure is not the write's: the observations are committed.
    }
  }
}

/**
 * Marks that observations were just written (committed) by another path (imports): the search indexer yields to
 * the burst, and starts on them.
 */
export function noteObservationWrite(): void {
  lastWriteAt = Date.now();
  observationsWritten();
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
      async (writes) => {
        lastWriteAt = Date.now();
        await writeObservations(db, writes);
        observationsWritten();
      },
      { maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT },
    );
    batchers.set(db, batcher);
  }
  return batcher.write(write);
}
