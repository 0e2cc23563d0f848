import { z } from 'zod';
import { invalid } from '../../core/errors.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { parseTranscript } from '../transcript/parse-transcript.ts';
import { transcriptFormats } from '../transcript.schema.ts';
import { transcriptFingerprint } from './fingerprint-pending.ts';
import type { Fingerprint } from './minhash.ts';

/** A draft transcript as the form holds it: what "this looks like ..." is asked about before saving. */
export const draftSimilarSchema = z
  .object({
    transcript: z.string({ error: 'Send the transcript as text (as pasted into the form).' }).max(2_000_000, 'The transcript is longer than 2,000,000 characters.'),
    transcriptFormat: z.enum(['auto', ...transcriptFormats], { error: `transcriptFormat must be auto or one of ${transcriptFormats.join(', ')}` }).default('auto'),
    /** When editing: the observation itself is not offered as its own duplicate. */
    excludeId: z.uuid('excludeId must be an observation id').optional(),
  })
  .strict();
export type DraftSimilarInput = z.infer<typeof draftSimilarSchema>;

/**
 * The fingerprint of a draft transcript, read as the form would save it (same parser and text extraction as the
 * stored observations' fingerprints). A transcript that cannot be read yet answers 422 with the reader's message;
 * one without words has no fingerprint (null).
 */
export function fingerprintDraft(input: unknown): { print: Fingerprint | null; excludeId?: string } {
  const draft = parseOrThrow(draftSimilarSchema, input, 'The draft');
  const parsed = parseTranscript(draft.transcript, draft.transcriptFormat);
  if (!parsed.ok) throw invalid(`The transcript cannot be read yet: ${parsed.error.message}.`, { transcript: parsed.error.message });
  const print = transcriptFingerprint(parsed.transcript);
  return { print, ...(draft.excludeId ? { excludeId: draft.excludeId } : {}) };
}
