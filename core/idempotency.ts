import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { inTransaction, rowsOf, type Db } from './db.ts';
import { AppError } from './errors.ts';

/**
 * Idempotent writes: a request sent with an `Idempotency-Key` runs at most once per actor and key. The first
 * result (status, body, chosen headers) is stored in the SAME transaction as the write, so a crash cannot leave
 * one without the other; a retry gets the stored result back; the same key with a different request is refused.
 * Two concurrent requests with one key are serialised by a transaction-scoped advisory lock on (actor, key),
 * with the primary key (actor_id, key) as the backstop.
 */

export const IDEMPOTENCY_KEY_MAX = 200;

export interface StoredResult {
  status: number;
  body: unknown;
  /** Headers to send again on a replay (e.g. Location). */
  headers?: Record<string, string>;
}

export interface IdempotentRequest {
  actorId: string;
  key: string;
  /** Method and path, e.g. `POST /observations`: a key reused on another route is a conflict too. */
  route: string;
  /** What identifies the request's content (see `requestFingerprint`). */
  fingerprint: string;
}

/** A stable hash of a request body: key order and whitespace do not matter, values do. */
export function requestFingerprint(route: string, body: unknown): string {
  return createHash('sha256').update(route).update('\n').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * Runs `work` once for the (actor, key): inside one transaction it takes the key's advisory lock, returns the
 * stored result if there is one (or throws `idempotency_conflict` if it was for a different request), else runs
 * the work with the transaction and stores its result before committing. A failure (thrown error) stores
 * nothing, so the request can be retried with the same key.
 */
export async function runIdempotent(
  db: Db,
  req: IdempotentRequest,
  work: (tx: Db) => Promise<StoredResult>,
): Promise<StoredResult & { replayed: boolean }> {
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${req.actorId} || ':' || ${req.key}))`);
    const stored = rowsOf<{ route: string; request_hash: string; status: number; response: { body: unknown; headers?: Record<string, string> } | string }>(
      await tx.execute(sql`SELECT route, request_hash, status, response FROM idempotency_keys
        WHERE actor_id = ${req.actorId}::uuid AND key = ${req.key}`),
    )[0];
    if (stored) {
      if (stored.route !== req.route || stored.request_hash !== req.fingerprint) {
        throw new AppError(
          'idempotency_conflict',
          `This Idempotency-Key was already used for a different request${stored.route !== req.route ? ` (${stored.route})` : ''}. ` +
            'Use a new key for a new request, or resend exactly the first request to get its result.',
          { fields: { 'Idempotency-Key': 'Already used with a different request body.' } },
        );
      }
      const response = typeof stored.response === 'string' ? JSON.parse(stored.response) : stored.response;
      return { status: stored.status, body: response.body, ...(response.headers ? { headers: response.headers } : {}), replayed: true };
    }
    const result = await work(tx);
    await tx.execute(sql`INSERT INTO idempotency_keys (actor_id, key, route, request_hash, status, response)
      VALUES (${req.actorId}::uuid, ${req.key}, ${req.route}, ${req.fingerprint}, ${result.status},
        ${JSON.stringify({ body: result.body, ...(result.headers ? { headers: result.headers } : {}) })}::jsonb)`);
    return { ...result, replayed: false };
  });
}
