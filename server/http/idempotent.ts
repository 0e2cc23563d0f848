import type { Request, Response } from 'express';
import type { Ctx } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import { stringifyJson } from '../../core/json-text.ts';
import { IDEMPOTENCY_KEY_MAX, requestFingerprint, runIdempotent, type StoredResult } from '../../core/idempotency.ts';
import type { AppDeps } from '../app-deps.ts';
import { ctxOf } from './request-context.ts';

/**
 * Sends the result of a POST, honouring `Idempotency-Key` (1-200 characters): with a key, the command runs in a
 * transaction that also stores its result, and a retry gets that result again with `Idempotent-Replayed: true`.
 * Without a key, the command just runs. Routes authorize before calling this; the command receives a ctx whose
 * `db` is the transaction.
 */
export async function sendIdempotent(
  req: Request,
  res: Response,
  deps: AppDeps,
  command: (ctx: Ctx) => Promise<StoredResult>,
): Promise<void> {
  const key = req.get('idempotency-key');
  const actor = req.auth.actor;
  let result: StoredResult & { replayed?: boolean };
  if (key === undefined || actor.kind !== 'user') {
    result = await command(ctxOf(req, deps));
  } else {
    if (key.length < 1 || key.length > IDEMPOTENCY_KEY_MAX) {
      throw new AppError('validation_failed', `The Idempotency-Key header must be 1 to ${IDEMPOTENCY_KEY_MAX} characters.`, {
        fields: { 'Idempotency-Key': `Use 1 to ${IDEMPOTENCY_KEY_MAX} characters, e.g. a UUID.` },
      });
    }
    const route = `${req.method} ${req.baseUrl}${req.path}`;
    result = await runIdempotent(
      deps.db,
      { actorId: actor.id, key, route, fingerprint: requestFingerprint(route, req.body) },
      (tx) => command({ ...ctxOf(req, deps), db: tx }),
    );
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
  }
  if (result.headers) res.set(result.headers);
  sendJson(res, result.status, result.body);
}

/**
 * Writes a JSON result without express's ETag: a write's answer is never revalidated, and hashing every body
 * (10-20 KB for an observation) costs ingestion more CPU than anything else in sending it. A transcript already
 * written out for the INSERT is spliced in as that text (core/json-text.ts).
 */
function sendJson(res: Response, status: number, body: unknown): void {
  const text = stringifyJson(body);
  res.status(status);
  res.set('Content-Type', 'application/json; charset=utf-8');
  res.set('Content-Length', String(Buffer.byteLength(text)));
  res.end(text);
}
