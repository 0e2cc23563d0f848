import { randomInt } from 'node:crypto';

/**
 * Realistic observation payloads for the benchmarks: OpenAI Chat, Anthropic Messages and plain-text
 * transcripts of 2 to 20 KB, with English prose drawn from a fixed vocabulary so full-text search has
 * realistic term frequencies. Deterministic given the seed.
 */
const WORDS = (
  'the model refused answer question user assistant citation paper journal invented source fabricated claim ' +
  'persona identity character break roleplay system prompt instruction ignore language switch french german ' +
  'spanish chinese japanese token glitch repetition loop repeated output degenerate flattery praise agree ' +
  'sycophancy opinion correct wrong mistake apology tool call function arguments json error result search ' +
  'browser file code test passing failing hack reward shortcut deception honest lie sandbag capability ' +
  'reasoning step think plan summary translation poem story recipe history physics chemistry biology law ' +
  'medical advice safety policy harmful benign request explain why because however therefore although ' +
  'surprising unexpected strange odd weird behaviour sighting report version snapshot temperature sample'
).split(' ');

export function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function prose(rand: () => number, chars: number): string {
  const out: string[] = [];
  let n = 0;
  while (n < chars) {
    const w = WORDS[Math.floor(rand() * WORDS.length)]!;
    out.push(w);
    n += w.length + 1;
    if (rand() < 0.07) out.push('.\n');
  }
  return out.join(' ');
}

const PROVIDERS = [
  ['openai', 'gpt-4o', '2024-08-06'],
  ['openai', 'gpt-4.1-mini', '2025-04-14'],
  ['anthropic', 'claude-3-5-sonnet', '20241022'],
  ['anthropic', 'claude-sonnet-4', '20250514'],
  ['google', 'gemini-2.0-flash', '001'],
  ['local', 'llama-3.1-8b-instruct', 'q4_k_m'],
  ['mistral', 'mistral-large', '2411'],
  ['deepseek', 'deepseek-r1', '0528'],
] as const;

export const TAGS = ['refusal', 'sycophancy', 'citation', 'persona', 'glitch', 'language', 'agentic', 'capability', 'loop', 'jailbreak'];

/** One POST /api/v1/observations body of roughly `targetBytes` (2-20 KB). */
export function observationPayload(rand: () => number, i: number, targetBytes = 2000 + Math.floor(rand() * 18000)) {
  const [provider, model, modelVersion] = PROVIDERS[i % PROVIDERS.length]!;
  const turns = 2 + Math.floor(rand() * 6);
  const per = Math.max(80, Math.floor(targetBytes / turns));
  const format = i % 3;
  let transcript: unknown;
  if (format === 0) {
    const messages: unknown[] = [{ role: 'system', content: 'You are a helpful assistant.' }];
    for (let t = 0; t < turns; t++) messages.push({ role: t % 2 ? 'assistant' : 'user', content: prose(rand, per) });
    transcript = { model, messages };
  } else if (format === 1) {
    const messages: unknown[] = [];
    for (let t = 0; t < turns; t++) {
      messages.push(
        t % 2
          ? { role: 'assistant', content: [{ type: 'text', text: prose(rand, per) }] }
          : { role: 'user', content: prose(rand, per) },
      );
    }
    transcript = { system: 'Be concise.', messages };
  } else {
    const lines: string[] = [];
    for (let t = 0; t < turns; t++) lines.push(`${t % 2 ? 'Assistant' : 'User'}: ${prose(rand, per)}`);
    transcript = lines.join('\n\n');
  }
  const day = 1 + Math.floor(rand() * 28);
  return {
    title: `Sighting ${i}: ${prose(rand, 40)}`.slice(0, 180),
    surprise: prose(rand, 200),
    provider,
    model,
    modelVersion,
    interface: 'api',
    sampling: { temperature: Math.round(rand() * 10) / 10, max_tokens: 1024 },
    transcript,
    observedAt: `2026-${String(1 + (i % 10)).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    tags: [TAGS[i % TAGS.length]!, TAGS[(i * 7) % TAGS.length]!],
    visibility: i % 4 === 0 ? 'public' : 'members',
  };
}

export function pickWord(rand: () => number): string {
  return WORDS[Math.floor(rand() * WORDS.length)]!;
}

export const randomSeed = () => randomInt(1, 1_000_000);
