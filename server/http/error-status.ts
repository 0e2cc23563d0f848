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
  // The judge: the server lacks its key (an operator must set it); the settings would send a key elsewhere;
  // the transcript is too long for the model; otherwise the judge's provider failed (502/503/504 as a gateway).
  judge_missing_key: 503,
  judge_key_origin_not_allowed: 422,
  judge_refused: 502,
  judge_truncated: 502,
  judge_input_too_large: 422,
  judge_invalid_output: 502,
  judge_rate_limited: 503,
  judge_unavailable: 502,
  judge_unreachable: 504,
  judge_auth_failed: 502,
  judge_request_rejected: 502,
  judge_cancelled: 409,
};
