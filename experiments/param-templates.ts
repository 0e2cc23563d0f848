import type { Transcript } from '../observations/transcript.schema.ts';
import { loadTokenizer } from './engine/tokenizer.ts';
import { techniques } from './techniques/index.ts';

/** What an observation offers an experiment: the prompt that led to the answer, and the answer. */
export interface ObservedExchange {
  /** The last user turn before the last assistant answer, as `User: …\nAssistant:` (the shape base models continue). */
  prompt: string;
  answer: string;
}

const textOf = (m: Transcript['messages'][number]) =>
  m.parts
    .map((p) => (p.type === 'text' || p.type === 'refusal' ? p.text : ''))
    .join('')
    .trim();

/** The last assistant answer with text and the user turn before it, or null when the transcript has no such pair. */
export function observedExchange(transcript: Transcript): ObservedExchange | null {
  const messages = transcript.messages;
  for (let i = messages.length - 1; i > 0; i--) {
    if (messages[i]!.role !== 'assistant' || !textOf(messages[i]!)) continue;
    for (let j = i - 1; j >= 0; j--) {
      if (messages[j]!.role === 'user' && textOf(messages[j]!)) {
        return { prompt: `User: ${textOf(messages[j]!).slice(0, 2000)}\nAssistant:`, answer: textOf(messages[i]!) };
      }
    }
  }
  return null;
}

/** The first token of the answer as the model would produce it after the prompt (a leading space, as BPE tokenizers see it). */
function answerToken(modelPath: string | null, answer: string | undefined): number | null {
  if (!modelPath || !answer) return null;
  try {
    const ids = loadTokenizer(modelPath).encode(` ${answer}`);
    return ids[0] ?? null;
  } catch {
    return null;
  }
}

/**
 * Starting parameters for each technique, pre-filled from an observation where that makes sense: the prompt from
 * the transcript, the target token (as an id of the chosen model's tokenizer) from the answer. Every template
 * passes its technique's schema once the researcher has edited what only they can choose (a corrupted prompt,
 * a wrong answer, which heads).
 */
export function paramTemplates(exchange: ObservedExchange | null, modelPath: string | null): Record<string, Record<string, unknown>> {
  const prompt = exchange?.prompt ?? 'User: Hello\nAssistant:';
  const target = answerToken(modelPath, exchange?.answer) ?? ' Hello';
  const templates: Record<string, Record<string, unknown>> = {
    attention: { prompt },
    'logit-lens': { prompt, target, k: 10 },
    dla: { prompt, target },
    patching: { clean: prompt, corrupted: prompt, answer: target, wrong: ' No' },
    ablation: { prompt, heads: [{ layer: 0, head: 0 }], metric: { kind: 'loss' } },
    'head-scores': { nSequences: 4 },
    cache: { prompt, lastPositionOnly: true },
    steering: { prompt, layer: 0, vector: { kind: 'contrast', positive: 'Love', negative: 'Hate' }, coefficient: 4, maxNewTokens: 20 },
    generate: { prompt, maxNewTokens: 20, temperature: 0 },
    'glitch-tokens': {},
  };
  // Only techniques that exist; any new technique starts from an empty object.
  return Object.fromEntries(techniques.map((t) => [t.name, templates[t.name] ?? {}]));
}
