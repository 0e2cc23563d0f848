import { AppError } from '../core/errors.ts';
import { noteJson } from '../core/json-text.ts';
import type { ObservationInput } from './observation.input.ts';
import { parseTranscript, parseTranscriptValue } from './transcript/parse-transcript.ts';
import type { Transcript } from './transcript.schema.ts';

/** A `\u0000` escape in JSON text (not a literal backslash followed by "u0000", which is `\\u0000`). */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/** The transcript as submitted: pasted text, or JSON given as a string or already parsed. */
export type SubmittedTranscript = ObservationInput['transcript'];

/**
 * Reads a submitted transcript into the normalised shape. Throws a 422 naming the `transcript` field with the
 * parser's own explanation when it is no format Menagerie knows. Returns the normalised transcript as JSON text,
 * and the text form (the raw payload when the caller has no raw body of its own).
 *
 * JSON that arrived already parsed (an API body) is read as it is: writing it out as text and parsing that again
 * was half of what reading a transcript cost at ingestion. Its text form is written only when asked
 * for (`text` is a getter), which the API, keeping the request body as the raw payload, never does.
 */
export function readTranscript(
  submitted: SubmittedTranscript,
  format: ObservationInput['transcriptFormat'],
): { transcript: Transcript; warnings: string[]; readonly text: string; json: string } {
  const isText = typeof submitted === 'string';
  const result = isText ? parseTranscript(submitted, format ?? 'auto') : parseTranscriptValue(submitted, format ?? 'auto');
  if (!result.ok) {
    const message = result.error.message;
    throw new AppError('validation_failed', `The transcript could not be read: ${message}`, {
      fields: { transcript: message },
    });
  }
  // Serialised once here and reused by the INSERT; JSON.stringify writes a NUL as the escape jsonb refuses.
  const json = JSON.stringify(result.transcript);
  if ((json.includes('\\u0000') && ESCAPED_NUL.test(json)) || (isText && submitted.includes('\u0000'))) {
    const message = 'The transcript contains a NUL character (\\u0000), which cannot be stored; remove it.';
    throw new AppError('validation_failed', message, { fields: { transcript: message } });
  }
  // The answer to the request carries the transcript again: it reuses this text (the transcript is not changed after).
  noteJson(result.transcript, json);
  let text = isText ? submitted : undefined;
  return {
    transcript: result.transcript,
    warnings: result.warnings,
    get text() {
      return (text ??= JSON.stringify(submitted));
    },
    json,
  };
}
