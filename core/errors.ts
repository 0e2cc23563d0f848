/**
 * The one error vocabulary. Domain code throws AppError with a stable id; the HTTP layer maps ids to status
 * codes in one table (server/http/error-status.ts), pages show the same message, sockets ack with the same shape.
 */
export const errorIds = [
  'validation_failed',
  'malformed_json',
  'payload_too_large',
  'unsupported_media_type',
  'unauthenticated',
  'session_expired',
  'token_revoked',
  'csrf_failed',
  'forbidden',
  'not_found',
  'conflict',
  'idempotency_conflict',
  'immutable',
  'rate_limited',
  'internal',
  'upstream_unreachable',
  'upstream_timeout',
  // The LLM judge (observations/classify/judge/judge-errors.ts explains each).
  'judge_missing_key',
  'judge_key_origin_not_allowed',
  'judge_refused',
  'judge_truncated',
  'judge_input_too_large',
  'judge_invalid_output',
  'judge_rate_limited',
  'judge_unavailable',
  'judge_unreachable',
  'judge_auth_failed',
  'judge_request_rejected',
  'judge_cancelled',
] as const;
export type ErrorId = (typeof errorIds)[number];

/** Per-field problems, keyed by a dotted path, ready to show next to form fields. */
export type FieldErrors = Record<string, string>;

export class AppError extends Error {
  public readonly id: ErrorId;
  public readonly details?: { fields?: FieldErrors; [key: string]: unknown };
  constructor(
    id: ErrorId,
    message: string,
    details?: { fields?: FieldErrors; [key: string]: unknown },
  ) {
    super(message);
    this.id = id;
    this.details = details;
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} was not found.`);
export const forbidden = (message = 'You are not allowed to do that.') => new AppError('forbidden', message);
export const conflict = (message: string, details?: Record<string, unknown>) => new AppError('conflict', message, details);
export const invalid = (message: string, fields?: FieldErrors) =>
  new AppError('validation_failed', message, fields ? { fields } : undefined);
