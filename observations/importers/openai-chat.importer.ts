import { parseOpenAIChat } from '../transcript/parse-openai-chat.ts';
import { dateOf, isRecord, parseJson, stringOf, type DraftResult, type JsonObject } from './build-record.ts';
import { readDocuments } from './read-documents.ts';
import type { SourceReader } from './read-source.ts';

/**
 * OpenAI Chat Completions: a request (`messages`), a response (`choices`), a request with its `response`,
 * or an OpenAI Batch line (`{ custom_id, body }` / `{ custom_id, response: { body } }`). One record per
 * document: the whole file, each element of an array of exchanges, or each line of a `.jsonl` file.
 * Messages, `tool_calls` and `refusal` are read by the paste parser (observations/transcript/parse-openai-chat.ts).
 */
export async function* importOpenAIChat(reader: SourceReader): AsyncGenerator<DraftResult> {
  for await (const document of readDocuments(reader, 'OpenAI Chat Completions JSON', isChatMessage)) {
    if ('problem' in document) yield { index: document.index, reason: document.problem };
    else yield openAIChatDraft(document.raw, document.index);
  }
}

/** One Chat Completions exchange (its raw JSON text) as a record draft. */
export function openAIChatDraft(raw: string, index: number): DraftResult {
  const json = parseJson(raw);
  if (!json.ok) return { index, reason: json.reason };
  const exchange = unwrapBatch(json.value);
  const parsed = parseOpenAIChat(exchange);
  const recordId = (isRecord(json.value) ? stringOf(json.value.custom_id) : undefined) ?? stringOf(responseOf(exchange)?.id);
  if (!parsed.ok) return { index, reason: parsed.error.message, ...(recordId ? { recordId } : {}) };
  const response = responseOf(exchange);
  const created = dateOf(response?.created);
  const usage = response?.usage;
  return {
    index,
    raw,
    messages: parsed.messages,
    transcriptFormat: 'openai-chat',
    ...(recordId ? { recordId } : {}),
    ...(created ? { observedAt: created, createdAt: created.toISOString() } : {}),
    ...(parsed.metadata?.model ? { model: parsed.metadata.model } : {}),
    provider: 'openai',
    ...(parsed.metadata?.stopReason ? { stopReason: parsed.metadata.stopReason } : {}),
    source: { ...(usage !== undefined ? { usage } : {}), ...(typeof response?.system_fingerprint === 'string' ? { systemFingerprint: response.system_fingerprint } : {}) },
    warnings: parsed.warnings,
  };
}

/** OpenAI Batch files wrap the request in `body` and the response in `response.body`. */
function unwrapBatch(value: unknown): unknown {
  if (!isRecord(value) || typeof value.custom_id !== 'string') return value;
  const request = isRecord(value.body) ? value.body : {};
  const response = isRecord(value.response) && isRecord(value.response.body) ? value.response.body : undefined;
  return response ? { ...request, response } : request;
}

function responseOf(value: unknown): (JsonObject & { id?: unknown }) | undefined {
  if (!isRecord(value)) return undefined;
  if (Array.isArray(value.choices)) return value;
  return isRecord(value.response) && Array.isArray(value.response.choices) ? value.response : undefined;
}

function isChatMessage(value: unknown): boolean {
  return isRecord(value) && typeof value.role === 'string';
}
