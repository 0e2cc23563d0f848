import { parseAnthropicMessages } from '../transcript/parse-anthropic-messages.ts';
import { dateOf, isRecord, parseJson, stringOf, type DraftResult, type JsonObject } from './build-record.ts';
import { splitJsonArray } from './json-array-stream.ts';
import type { SourceReader } from './read-source.ts';

/**
 * Claude.ai data export: `conversations.json`, an array of conversations streamed one at a time. Messages
 * (`sender` human or assistant, `content` blocks, or `text` in older exports) are read in thread order: walked
 * from `current_leaf_message_uuid` up through `parent_message_uuid` when the export has them, else in the
 * order given. Content blocks go through the Anthropic Messages parser (`tool_result` becomes a tool message);
 * attachments and files are kept as `other` parts; the raw record is the whole conversation.
 */
export async function* importClaudeExport(reader: SourceReader): AsyncGenerator<DraftResult> {
  for await (const element of splitJsonArray(reader.chunks(), reader.fileName)) {
    if ('problem' in element) yield { index: element.index, reason: element.problem };
    else yield claudeConversationDraft(element.raw, element.index);
  }
}

/** One exported conversation (its raw JSON text) as a record draft. */
export function claudeConversationDraft(raw: string, index: number): DraftResult {
  const json = parseJson(raw);
  if (!json.ok) return { index, reason: json.reason };
  const conversation = json.value;
  if (!isRecord(conversation)) return { index, reason: 'A Claude.ai conversation is a JSON object with "chat_messages"' };
  const recordId = stringOf(conversation.uuid);
  const fail = (reason: string): DraftResult => ({ index, reason, ...(recordId ? { recordId } : {}) });
  if (!Array.isArray(conversation.chat_messages)) return fail('The conversation has no "chat_messages" list');
  const all = conversation.chat_messages;
  const warnings: string[] = [];
  const thread = threadOf(conversation, all, warnings);
  if (thread.length === 0) return fail('The conversation has no messages');

  const messages: unknown[] = [];
  for (const [i, message] of thread.entries()) {
    if (!isRecord(message)) return fail(`Message ${i + 1} is not an object`);
    const role = message.sender === 'human' ? 'user' : message.sender === 'assistant' ? 'assistant' : undefined;
    if (!role) return fail(`Message ${i + 1} has sender ${JSON.stringify(message.sender)}; expected human or assistant`);
    messages.push({ role, content: blocksOf(message) });
  }
  const parsed = parseAnthropicMessages({ messages });
  if (!parsed.ok) return fail(parsed.error.message);
  const created = dateOf(conversation.created_at);
  const updated = dateOf(conversation.updated_at);
  const model = stringOf(conversation.model);
  return {
    index,
    raw,
    messages: parsed.messages,
    transcriptFormat: 'anthropic-messages',
    ...(recordId ? { recordId, conversationId: recordId } : {}),
    ...(stringOf(conversation.name) ? { title: stringOf(conversation.name) } : {}),
    ...(created ? { observedAt: created, createdAt: created.toISOString() } : {}),
    ...(updated ? { updatedAt: updated.toISOString() } : {}),
    ...(model ? { model } : {}),
    provider: 'anthropic',
    source: {
      ...(stringOf(conversation.project_uuid) ? { projectUuid: conversation.project_uuid } : {}),
      offThreadMessages: all.length - thread.length,
    },
    warnings: [...warnings, ...parsed.warnings],
  };
}

/** The visible thread: parents walked from the current leaf when the export records them, else every message in order. */
function threadOf(conversation: JsonObject, all: unknown[], warnings: string[]): unknown[] {
  const leafId = stringOf(conversation.current_leaf_message_uuid);
  if (!leafId) return all;
  const byId = new Map<string, JsonObject>();
  for (const message of all) if (isRecord(message) && typeof message.uuid === 'string') byId.set(message.uuid, message);
  const thread: JsonObject[] = [];
  const seen = new Set<string>();
  let node = byId.get(leafId);
  if (!node) {
    warnings.push('The conversation\'s "current_leaf_message_uuid" names no message; every message was imported in order');
    return all;
  }
  while (node && typeof node.uuid === 'string' && !seen.has(node.uuid)) {
    seen.add(node.uuid);
    thread.push(node);
    node = typeof node.parent_message_uuid === 'string' ? byId.get(node.parent_message_uuid) : undefined;
  }
  return thread.reverse();
}

/** A message's content blocks (or its `text`), followed by its attachments and files as blocks of their own type. */
function blocksOf(message: JsonObject): unknown[] {
  const blocks: unknown[] = Array.isArray(message.content) && message.content.length > 0
    ? [...message.content]
    : typeof message.text === 'string' && message.text !== ''
      ? [{ type: 'text', text: message.text }]
      : [];
  const extra = (list: unknown, type: string) => (Array.isArray(list) ? list.map((item) => ({ type, ...(isRecord(item) ? item : { value: item }) })) : []);
  return [...blocks, ...extra(message.attachments, 'attachment'), ...extra(message.files, 'file')];
}
