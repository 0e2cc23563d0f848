import { AppError, type ErrorId } from '../../../core/errors.ts';
import type { JudgeUsage } from './judge-pricing.ts';

/**
 * Why a judge call failed, as stable ids a job can branch on and a page can explain. `retryable` says whether
 * the same call may succeed later unchanged (an outage or a rate limit: the job pauses and resumes), as opposed
 * to a problem a person must fix (a missing key, a model that refuses, a token limit too small).
 */
export const judgeErrorIds = [
  /** No key in the environment variable the settings name. */
  'judge_missing_key',
  /** The settings would send a server key to an origin the operator has not allowed. */
  'judge_key_origin_not_allowed',
  /** The model declined to code the transcript (OpenAI `refusal`, Anthropic `stop_reason: refusal`, text instead of the tool). */
  'judge_refused',
  /** The answer hit the token limit before the JSON was complete. */
  'judge_truncated',
  /** The transcript does not fit the model's context window. */
  'judge_input_too_large',
  /** The answer was not JSON, or not the findings schema, on every attempt. */
  'judge_invalid_output',
  /** 429 on every attempt, or a Retry-After longer than the retry budget waits. */
  'judge_rate_limited',
  /** 5xx (or 408/409) on every attempt. */
  'judge_unavailable',
  /** The server could not be reached or did not answer within the timeout, on every attempt. */
  'judge_unreachable',
  /** 401/403: the key is wrong or lacks access to the model. */
  'judge_auth_failed',
  /** Any other 4xx: the provider rejected the request (unknown model, unsupported parameter...). */
  'judge_request_rejected',
  /** The caller's AbortSignal fired. */
  'judge_cancelled',
] as const;
export type JudgeErrorId = (typeof judgeErrorIds)[number];

export interface JudgeErrorDetails {
  /** Requests made, retries included. */
  attempts: number;
  /** Tokens spent by the failed attempts (a refusal or a truncated answer still costs). */
  usage?: JudgeUsage;
  /** HTTP status of the last provider answer, when there was one. */
  status?: number;
  /** For `judge_rate_limited`: how long the provider asked to wait, in milliseconds. */
  retryAfterMs?: number;
  /** The settings field a person should look at, e.g. `maxTokens` or `apiKeyEnv`. */
  setting?: string;
  /** What the model wrote instead of findings (refusal text, invalid JSON), shortened. */
  modelText?: string;
  /** Validation problems of an invalid answer. */
  problems?: string[];
}

/** A judge call that did not produce findings. The message says what happened and what to change; it never contains a key. */
export class JudgeError extends Error {
  public readonly id: JudgeErrorId;
  public readonly retryable: boolean;
  public readonly details: JudgeErrorDetails;
  constructor(
    id: JudgeErrorId,
    message: string,
    retryable: boolean,
    details: JudgeErrorDetails,
  ) {
    super(message);
    this.id = id;
    this.retryable = retryable;
    this.details = details;
    this.name = 'JudgeError';
  }
}

// Every judge error id is in the one error vocabulary (core/errors.ts), with its HTTP status in one table.
const judgeIdsAreErrorIds: readonly ErrorId[] = judgeErrorIds;
void judgeIdsAreErrorIds;

/** The judge's failure as an AppError (same id and message) for HTTP answers, socket acks and job errors. */
export function judgeErrorToAppError(error: JudgeError): AppError {
  const { attempts, status, retryAfterMs, setting, problems } = error.details;
  return new AppError(error.id, error.message, {
    attempts,
    retryable: error.retryable,
    ...(status !== undefined ? { status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(setting !== undefined ? { setting } : {}),
    ...(problems !== undefined ? { problems } : {}),
  });
}
