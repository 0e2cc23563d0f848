import { AppError } from '../core/errors.ts';
import type { ObservationInput } from './observation.input.ts';
import { parseTranscript } from './transcript/parse-transcript.ts';
import type { Transcript } from './transcript.schema.ts';

/** A `\u0000` escape in JSON text (not a literal backslash followed by "u0000", which is `\\u0000`). */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/** The transcript as submitted: pasted text, or JSON given as a string or already parsed. */
export type SubmittedTranscript = ObservationInput['transcript'];

/**
 * Reads a submitted transcript into the normalised shape. Throws a 422 naming the `transcript` field with the
 * parser's own explanation when it is no format Menagerie knows. Returns the text form too (the raw payload
 * when the caller has no raw body of its own) and the normalised transcript as JSON text.
 */
export function readTranscript(
  submitted: SubmittedTranscript,
  format: ObservationInput['transcriptFormat'],
): { transcript: Transcript; warnings: string[]; text: string; json: string } {
  const text = typeof submitted === 'string' ? submitted : JSON.stringify(submitted);
  const result = parseTranscript(text, format ?? 'auto');
  if (!result.ok) {
    const message = result.error.message;
    throw new AppError('validation_failed', `The transcript could not be read: ${message}`, {
      fields: { transcript: message },
    });
  }
  // Serialised once here and reused by the INSERT; JSON.stringify writes a NUL as the escape jsonb refuses.
  const json = JSON.stringify(result.transcript);
  if ((json.includes('\\u0000') && ESCAPED_NUL.test(json)) || text.includes('\u0000')) {
    const message = 'The transcript contains a NUL character (\\u0000), which cannot be stored; remove it.';
    throw new AppError('validation_failed', message, { fields: { transcript: message } });
  }
  return { transcript: result.transcript, warnings: result.warnings, text, json };
}
