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
