import * as z from 'zod';

/**
 * The normalised transcript: the one shape every capture path (form, API, importers, proxy, live sessions)
 * maps into. Messages carry stable ids so codings can point at a span (message id, part index, characters).
 * Unknown content is kept losslessly in `other` parts rather than dropped; the raw payload is stored beside it.
 */
export const messageRoles = ['system', 'developer', 'user', 'assistant', 'tool'] as const;
export type MessageRole = (typeof messageRoles)[number];

const MAX_PART_TEXT = 200_000;

export const textPartSchema = z.object({ type: z.literal('text'), text: z.string().max(MAX_PART_TEXT) });
export const reasoningPartSchema = z.object({
  type: z.literal('reasoning'),
  text: z.string().max(MAX_PART_TEXT),
  /** Opaque provider data (Anthropic signature, OpenAI encrypted_content, redacted thinking). */
  opaque: z.string().max(MAX_PART_TEXT).optional(),
});
export const toolCallPartSchema = z.object({
  type: z.literal('tool_call'),
  id: z.string().max(200).optional(),
  name: z.string().max(200),
  /** Arguments as the model wrote them: OpenAI sends a JSON string, Anthropic an object; both kept as text. */
  arguments: z.string().max(MAX_PART_TEXT),
});
export const toolResultPartSchema = z.object({
  type: z.literal('tool_result'),
  toolCallId: z.string().max(200).optional(),
  text: z.string().max(MAX_PART_TEXT),
  isError: z.boolean().optional(),
});
export const refusalPartSchema = z.object({ type: z.literal('refusal'), text: z.string().max(MAX_PART_TEXT) });
export const imagePartSchema = z.object({
  type: z.literal('image'),
  url: z.string().max(MAX_PART_TEXT).optional(),
  mediaType: z.string().max(100).optional(),
});
export const otherPartSchema = z.object({
  type: z.literal('other'),
  /** The provider's own type name for this block, e.g. `server_tool_use`. */
  originalType: z.string().max(200),
  data: z.unknown(),
});

export const transcriptPartSchema = z.discriminatedUnion('type', [
  textPartSchema,
  reasoningPartSchema,
  toolCallPartSchema,
  toolResultPartSchema,
  refusalPartSchema,
  imagePartSchema,
  otherPartSchema,
]);
export type TranscriptPart = z.infer<typeof transcriptPartSchema>;

export const transcriptMessageSchema = z.object({
  id: z.string().min(1).max(100),
  role: z.enum(messageRoles),
  /** Display name for tool messages or named participants. */
  name: z.string().max(200).optional(),
  parts: z.array(transcriptPartSchema).max(500),
});
export type TranscriptMessage = z.infer<typeof transcriptMessageSchema>;

export const transcriptFormats = ['plain', 'openai-chat', 'anthropic-messages', 'menagerie'] as const;
export type TranscriptFormat = (typeof transcriptFormats)[number];

export const transcriptSchema = z
  .object({
    /** Which format the transcript was parsed from. */
    format: z.enum(transcriptFormats),
    messages: z.array(transcriptMessageSchema).min(1).max(2000),
  })
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.messages.forEach((m, i) => {
      if (seen.has(m.id)) ctx.addIssue({ code: 'custom', path: ['messages', i, 'id'], message: `duplicate message id "${m.id}"` });
      seen.add(m.id);
    });
  });
export type Transcript = z.infer<typeof transcriptSchema>;

/** The text of a part that a coding span can address (characters counted in UTF-16 code units, as in the DOM). */
export function partText(part: TranscriptPart): string | null {
  switch (part.type) {
    case 'text':
    case 'reasoning':
    case 'refusal':
    case 'tool_result':
      return part.text;
    case 'tool_call':
      return part.arguments;
    default:
      return null;
  }
}
