import * as z from 'zod';
import { transcriptMessageSchema, type TranscriptFormat } from '../transcript.schema.ts';
import { anthropicMessagesEvidence, parseAnthropicMessages } from '../transcript/parse-anthropic-messages.ts';
import { openAIChatEvidence, parseOpenAIChat } from '../transcript/parse-openai-chat.ts';
import type { DraftMessage, FormatParseResult } from '../transcript/parse-transcript.ts';
import { dateOf, isRecord, parseJson, type DraftResult } from './build-record.ts';
import type { SourceReader } from './read-source.ts';

/**
 * One line of a generic JSONL import: a conversation and the model that produced it. `messages` may be
 * OpenAI Chat style (`{ role, content, tool_calls? }`), Anthropic style (`{ role, content: [blocks] }`, with
 * the system prompt in `system`), or Menagerie transcript messages (`{ role, parts }`). Other fields are kept
 * in the raw record; `metadata` is copied into the provenance.
 */
export const jsonlRecordSchema = z
  .object({
    messages: z.array(z.unknown()).min(1, 'needs at least one message'),
    model: z.string().min(1).max(200),
    provider: z.string().min(1).max(200),
    /** Your own id for the conversation. */
    id: z.union([z.string().max(200), z.number()]).optional(),
    title: z.string().max(500).optional(),
    /** When the conversation happened: ISO 8601, or epoch seconds or milliseconds. */
    observedAt: z.union([z.string(), z.number()]).optional(),
    /** The system prompt, for Anthropic-style messages. */
    system: z.union([z.string(), z.array(z.unknown())]).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    /** What was surprising, the model version and free tags (a Menagerie export carries them; tags are checked when filed). */
    surprise: z.string().max(10_000).nullable().optional(),
    modelVersion: z.string().max(200).nullable().optional(),
    tags: z.array(z.string()).max(30).optional(),
  })
  .loose();
export type JsonlRecord = z.infer<typeof jsonlRecordSchema>;

/** Generic JSONL: one `jsonlRecordSchema` object per line; blank lines are skipped; `index` is the line number minus one. */
export async function* importJsonl(reader: SourceReader): AsyncGenerator<DraftResult> {
  for await (const line of reader.lines()) {
    const index = line.number - 1;
    if ('tooLong' in line) yield { index, reason: `Line ${line.number} is too long to import` };
    else if (line.text.trim() !== '') yield jsonlDraft(line.text, index);
  }
}

/** One JSONL line as a record draft. */
export function jsonlDraft(raw: string, index: number): DraftResult {
  const json = parseJson(raw);
  if (!json.ok) return { index, reason: `Line ${index + 1}: ${json.reason}` };
  const checked = jsonlRecordSchema.safeParse(json.value);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = issue && issue.path.length > 0 ? `"${issue.path.join('.')}" ` : '';
    return { index, reason: `Line ${index + 1}: ${field}${issue?.message ?? 'does not match the JSONL schema'} (each line needs "messages", "model" and "provider")` };
  }
  const record = checked.data;
  const recordId = record.id === undefined ? undefined : String(record.id);
  const parsed = parseMessages(record);
  if (!parsed.result.ok) return { index, reason: `Line ${index + 1}: ${parsed.result.error.message}`, ...(recordId ? { recordId } : {}) };
  const observed = dateOf(record.observedAt);
  if (record.observedAt !== undefined && !observed) return { index, reason: `Line ${index + 1}: "observedAt" is not a date`, ...(recordId ? { recordId } : {}) };
  return {
    index,
    raw,
    messages: parsed.result.messages,
    transcriptFormat: parsed.format,
    ...(recordId ? { recordId } : {}),
    ...(record.title ? { title: record.title } : {}),
    ...(observed ? { observedAt: observed, createdAt: observed.toISOString() } : {}),
    model: record.model,
    provider: record.provider,
    ...(parsed.result.metadata?.stopReason ? { stopReason: parsed.result.metadata.stopReason } : {}),
    source: record.metadata ?? {},
    ...(record.surprise ? { surprise: record.surprise } : {}),
    ...(record.modelVersion ? { modelVersion: record.modelVersion } : {}),
    ...(record.tags && record.tags.length > 0 ? { tags: record.tags } : {}),
    warnings: parsed.result.warnings,
  };
}

function parseMessages(record: JsonlRecord): { format: TranscriptFormat; result: FormatParseResult } {
  const menagerie = z.array(transcriptMessageSchema.omit({ id: true }).extend({ id: z.string().optional() })).safeParse(record.messages);
  if (menagerie.success && record.messages.every((m) => isRecord(m) && Array.isArray(m.parts))) {
    const messages: DraftMessage[] = menagerie.data.map(({ id: _id, ...message }) => message);
    return { format: 'menagerie', result: { ok: true, messages, warnings: [] } };
  }
  const request = { messages: record.messages, ...(record.system !== undefined ? { system: record.system } : {}) };
  const openai = openAIChatEvidence(request);
  const anthropic = anthropicMessagesEvidence(request);
  if (anthropic.fits && (anthropic.score > openai.score || record.system !== undefined)) {
    return { format: 'anthropic-messages', result: parseAnthropicMessages(request) };
  }
  return { format: 'openai-chat', result: parseOpenAIChat(request) };
}
