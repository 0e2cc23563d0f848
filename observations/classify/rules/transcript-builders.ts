import type { Transcript, TranscriptPart } from '../../transcript.schema.ts';

/**
 * Small transcript builders for the detectors' tests (and for trying a detector by hand): a user turn and one
 * assistant reply, or any sequence of turns.
 */
export function exchange(reply: string | TranscriptPart[], user = 'Please answer.'): Transcript {
  return conversation([
    ['user', user],
    ['assistant', reply],
  ]);
}

export function conversation(turns: Array<['user' | 'assistant' | 'system', string | TranscriptPart[]]>): Transcript {
  return {
    format: 'menagerie',
    messages: turns.map(([role, content], i) => ({
      id: `m${i + 1}`,
      role,
      parts: typeof content === 'string' ? [{ type: 'text' as const, text: content }] : content,
    })),
  };
}
