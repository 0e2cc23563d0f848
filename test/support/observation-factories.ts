import { sql } from 'drizzle-orm';
import type { Db } from '../../core/db.ts';
import { randomBytes } from 'node:crypto';
import type { TestUser } from './clients.ts';

/** A small, valid OpenAI-style transcript (system, user, assistant). */
export const sampleTranscript = {
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Summarise the paper for me.' },
    { role: 'assistant', content: 'I am sorry, I cannot read PDFs. The paper shows that zebras sleep standing up.' },
  ],
};

/** A valid submission body, unique per call, with any fields overridden. */
export function observationBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: `Confabulated summary ${randomBytes(3).toString('hex')}`,
    surprise: 'It claimed it could not read PDFs, then summarised one anyway.',
    provider: 'openai',
    model: 'gpt-4o',
    transcript: sampleTranscript,
    observedAt: '2025-03-04',
    ...overrides,
  };
}

/** Submits an observation through the API and returns its JSON (fails loudly when the API refuses). */
export async function submitObservation(user: TestUser, overrides: Record<string, unknown> = {}): Promise<any> {
  const res = await user.api.post('/observations', observationBody(overrides));
  if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${res.text.slice(0, 500)}`);
  return res.body;
}

/**
 * Adds `copies` copies of an observation straight in SQL (the API would take too long for a test), titled
 * "<title> N" and dated N days earlier, sharing its transcript and search vector: with it, copies + 1 matches.
 */
export async function copyObservation(db: Db, id: string, copies: number): Promise<void> {
  await db.execute(sql`INSERT INTO observations (title, surprise, status, visibility, provider, model, provenance, observed_at,
      submitted_by, raw_payload, raw_sha256, transcript, evidence_links, tags, search)
    SELECT o.title || ' ' || g, o.surprise, o.status, o.visibility, o.provider, o.model, o.provenance,
      o.observed_at - make_interval(days => g), o.submitted_by, o.raw_payload, o.raw_sha256, o.transcript, o.evidence_links, o.tags, o.search
    FROM observations o, generate_series(1, ${copies}) g WHERE o.id = ${id}::uuid`);
}
