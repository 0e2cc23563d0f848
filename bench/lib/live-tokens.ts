/**
 * The live benchmark's model replies: every token unique in the run (`<session>.<turn>.<index> `), so a client can
 * tell which written token each received character came from. The model process (live-model-process.ts) answers
 * a prompt containing `bench session S turn T` with these.
 */
export function replyTokens(session: number, turn: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${session}.${turn}.${i} `);
}

export const promptText = (session: number, turn: number) => `This is bench session ${session} turn ${turn}: tell me about zebras.`;

/** The tokens in a piece of streamed answer text (it always holds whole tokens: the fake writes one per chunk). */
export function tokensIn(text: string): string[] {
  return text.match(/\d+\.\d+\.\d+ /g) ?? [];
}
