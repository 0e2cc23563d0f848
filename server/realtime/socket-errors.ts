import { AppError } from '../../core/errors.ts';
import type { Logger } from '../logger.ts';

/**
 * A socket ack's error, in the same vocabulary as HTTP (`{ error: { id, message, details } }`): an AppError as it
 * is, anything else as `internal` with a message a person can act on (the cause is logged, never sent).
 */
export function errorPayload(error: unknown, logger: Logger): { error: { id: string; message: string; details?: unknown } } {
  if (error instanceof AppError) return { error: { id: error.id, message: error.message, ...(error.details ? { details: error.details } : {}) } };
  logger.error('socket handler failed', { error: (error as Error)?.stack ?? String(error) });
  return { error: { id: 'internal', message: 'Something went wrong on our side; try again, or reload the page.' } };
}
