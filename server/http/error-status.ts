import type { ErrorId } from '../../core/errors.ts';

/** The one table from error id to HTTP status; socket acks and error pages reuse the ids and messages. */
export const errorStatus: Record<ErrorId, number> = {
  validation_failed: 422,
  malformed_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthenticated: 401,
  session_expired: 401,
  token_revoked: 401,
  csrf_failed: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_conflict: 422,
  immutable: 409,
  rate_limited: 429,
  internal: 500,
  /** The recording proxy could not reach its upstream, or lost it before it answered. */
  upstream_unreachable: 502,
  /** The recording proxy's upstream sent nothing within the proxy timeout. */
  upstream_timeout: 504,
};
