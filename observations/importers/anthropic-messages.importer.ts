import { parseAnthropicMessages } from '../transcript/parse-anthropic-messages.ts';
import { isRecord, parseJson, stringOf, type DraftResult, type JsonObject } from './build-record.ts';
import { readDocuments } from './read-documents.ts';
import type { SourceReader } from './read-source.ts';

/**
 * Anthropic Messages: a request (`system`, `messages`), a response `Message` (`type: "message"`), a request with
 * its `response`, or a Message Batches result line (`{ custom_id, result: { message } }`). One record per
 * document. Blocks (`text` with citations, `thinking` with its signature, `redacted_thinking`, `tool_use`,
 * `tool_result`, server-tool blocks as `other`) are read by the paste parser
 * (observations/transcript/parse-anthropic-messages.ts); `stop_reason` and usage go to the provenance.
 */
export async function* importAnthropicMessages(reader: SourceReader): AsyncGenerator<DraftResult> {
  for await (const document of readDocuments(reader, 'Anthropic Messages JSON', (first) => isRecord(first) && typeof first.role === 'string')) {
    if ('problem' in document) yield { index: document.index, reason: document.problem };
    else yield anthropicMessagesDraft(document.raw, document.index);
  }
}

/** One Messages exchange (its raw JSON text) as a record draft. */
export function anthropicMessagesDraft(raw: string, index: number): DraftResult {
  const json = parseJson(raw);
  if (!json.ok) return { index, reason: json.reason };
  const exchange = unwrapBatch(json.value);
  const response = responseOf(exchange);
  const recordId = (isRecord(json.value) ? stringOf(json.value.custom_id) : undefined) ?? stringOf(response?.id);
  const parsed = parseAnthropicMessages(exchange);
  if (!parsed.ok) return { index, reason: parsed.error.message, ...(recordId ? { recordId } : {}) };
  const model = parsed.metadata?.model ?? (isRecord(exchange) ? stringOf(exchange.model) : undefined);
  const stopReason = parsed.metadata?.stopReason ?? stringOf(response?.stop_reason);
  return {
    index,
    raw,
    messages: parsed.messages,
    transcriptFormat: 'anthropic-messages',
    ...(recordId ? { recordId } : {}),
    ...(model ? { model } : {}),
    provider: 'anthropic',
    ...(stopReason ? { stopReason } : {}),
    source: {
      ...(response?.usage !== undefined ? { usage: response.usage } : {}),
      ...(response?.stop_sequence != null ? { stopSequence: response.stop_sequence } : {}),
    },
    warnings: parsed.warnings,
  };
}

/** Message Batches results carry the response in `result.message`. */
function unwrapBatch(value: unknown): unknown {
  if (!isRecord(value) || typeof value.custom_id !== 'string') return value;
  if (isRecord(value.result) && isRecord(value.result.message)) return value.result.message;
  if (isRecord(value.params)) return value.params;
  return value;
}

function responseOf(value: unknown): JsonObject | undefined {
  if (!isRecord(value)) return undefined;
  if (value.type === 'message') return value;
  return isRecord(value.response) && value.response.type === 'message' ? value.response : undefined;
}
