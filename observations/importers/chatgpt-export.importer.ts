import type { MessageRole, TranscriptPart } from '../transcript.schema.ts';
import type { DraftMessage } from '../transcript/parse-transcript.ts';
import { dateOf, isRecord, parseJson, stringOf, type DraftResult, type JsonObject } from './build-record.ts';
import { splitJsonArray } from './json-array-stream.ts';
import type { SourceReader } from './read-source.ts';

/**
 * ChatGPT data export: `conversations.json` (or a split `conversations-NNN.json`), an array of conversations
 * streamed one at a time. Each conversation's `mapping` is a tree (edits and regenerations branch): the visible
 * thread, from `current_node` up to the root, becomes the transcript in order; the raw record is the whole
 * conversation, so the other branches are kept beside it (and counted in the provenance).
 */
export async function* importChatGPTExport(reader: SourceReader): AsyncGenerator<DraftResult> {
  for await (const element of splitJsonArray(reader.chunks(), reader.fileName)) {
    if ('problem' in element) yield { index: element.index, reason: element.problem };
    else yield chatGPTConversationDraft(element.raw, element.index);
  }
}

type MappingNode = { id: string; parent?: string; children: string[]; message?: JsonObject };

/** One exported conversation (its raw JSON text) as a record draft. */
export function chatGPTConversationDraft(raw: string, index: number): DraftResult {
  const json = parseJson(raw);
  if (!json.ok) return { index, reason: json.reason };
  const conversation = json.value;
  if (!isRecord(conversation)) return { index, reason: 'A ChatGPT conversation is a JSON object with "mapping"' };
  const recordId = stringOf(conversation.id) ?? stringOf(conversation.conversation_id);
  const fail = (reason: string): DraftResult => ({ index, reason, ...(recordId ? { recordId } : {}) });
  if (!isRecord(conversation.mapping)) return fail('The conversation has no "mapping" (its tree of messages)');
  const nodes = new Map<string, MappingNode>();
  for (const [id, node] of Object.entries(conversation.mapping)) {
    if (!isRecord(node)) continue;
    nodes.set(id, {
      id,
      ...(typeof node.parent === 'string' ? { parent: node.parent } : {}),
      children: Array.isArray(node.children) ? node.children.filter((c): c is string => typeof c === 'string') : [],
      ...(isRecord(node.message) ? { message: node.message } : {}),
    });
  }
  const warnings: string[] = [];
  const leaf = leafOf(conversation, nodes, warnings);
  if (!leaf) return fail('The conversation\'s "mapping" holds no messages');
  const path = threadTo(leaf, nodes);
  if (!path) return fail('The conversation\'s "mapping" has a cycle, so its thread cannot be followed');

  const messages: DraftMessage[] = [];
  let model = stringOf(conversation.default_model_slug);
  for (const node of path) {
    if (!node.message) continue;
    const message = convertMessage(node.message);
    const slug = isRecord(node.message.metadata) ? stringOf(node.message.metadata.model_slug) : undefined;
    if (slug && node.message.author && isRecord(node.message.author) && node.message.author.role === 'assistant') model = slug;
    if (message) messages.push(message);
  }
  const created = dateOf(conversation.create_time);
  const updated = dateOf(conversation.update_time);
  const withMessages = [...nodes.values()].filter((n) => n.message).length;
  const onPath = path.filter((n) => n.message).length;
  const branchPoints = path.filter((n) => n.children.length > 1).length;
  return {
    index,
    raw,
    messages,
    transcriptFormat: 'menagerie',
    ...(recordId ? { recordId, conversationId: recordId } : {}),
    ...(stringOf(conversation.title) ? { title: stringOf(conversation.title) } : {}),
    ...(created ? { observedAt: created, createdAt: created.toISOString() } : {}),
    ...(updated ? { updatedAt: updated.toISOString() } : {}),
    ...(model ? { model } : {}),
    provider: 'openai',
    source: {
      ...(stringOf(conversation.gizmo_id) ? { gizmoId: conversation.gizmo_id } : {}),
      ...(leaf.id ? { currentNode: leaf.id } : {}),
      offThreadMessages: withMessages - onPath,
      branchPoints,
    },
    warnings,
  };
}

/** The node the visible thread ends at: `current_node`, or (when missing) the last child followed down from the root. */
function leafOf(conversation: JsonObject, nodes: Map<string, MappingNode>, warnings: string[]): MappingNode | undefined {
  const current = typeof conversation.current_node === 'string' ? nodes.get(conversation.current_node) : undefined;
  if (current) return current;
  const root = [...nodes.values()].find((n) => n.parent === undefined || !nodes.has(n.parent));
  if (!root) return undefined;
  warnings.push('The conversation has no usable "current_node"; the thread of latest replies was imported');
  let node = root;
  const seen = new Set<string>();
  while (node.children.length > 0 && !seen.has(node.id)) {
    seen.add(node.id);
    const next = nodes.get(node.children.at(-1)!);
    if (!next) break;
    node = next;
  }
  return node;
}

/** The path from the root to `leaf`, in reading order; null on a cycle. */
function threadTo(leaf: MappingNode, nodes: Map<string, MappingNode>): MappingNode[] | null {
  const path: MappingNode[] = [];
  const seen = new Set<string>();
  let node: MappingNode | undefined = leaf;
  while (node) {
    if (seen.has(node.id)) return null;
    seen.add(node.id);
    path.push(node);
    node = node.parent === undefined ? undefined : nodes.get(node.parent);
  }
  return path.reverse();
}

/** One ChatGPT message; null for the empty scaffolding messages exports carry (no text, no parts). */
function convertMessage(message: JsonObject): DraftMessage | null {
  const author = isRecord(message.author) ? message.author : {};
  const authorRole = typeof author.role === 'string' ? author.role : 'unknown';
  const content = isRecord(message.content) ? message.content : { content_type: 'unknown', value: message.content };
  const contentType = typeof content.content_type === 'string' ? content.content_type : 'unknown';
  const recipient = typeof message.recipient === 'string' ? message.recipient : 'all';
  const authorName = stringOf(author.name);

  // Custom instructions are context the model was given, so they read as a system message.
  if (contentType === 'user_editable_context') {
    const parts = ['user_profile', 'user_instructions'].flatMap((key) => {
      const text = stringOf(content[key]);
      return text ? [{ type: 'text' as const, text }] : [];
    });
    return parts.length > 0 ? { role: 'system', parts } : null;
  }

  const parts = contentParts(content, contentType);
  if (parts.length === 0) return null;
  if (authorRole === 'assistant' && recipient !== 'all') {
    // An assistant message addressed to a tool (python, browser, dalle…) is a tool call.
    const args = parts.map((p) => (p.type === 'text' ? p.text : JSON.stringify(p))).join('\n');
    return { role: 'assistant', parts: [{ type: 'tool_call', name: recipient, arguments: args }] };
  }
  if (authorRole === 'tool') {
    const texts = parts.flatMap((p) => (p.type === 'text' ? [p.text] : []));
    const rest = parts.filter((p) => p.type !== 'text');
    return { role: 'tool', ...(authorName ? { name: authorName } : {}), parts: [{ type: 'tool_result', text: texts.join('\n') }, ...rest] };
  }
  const role = roleOf(authorRole);
  if (role) return { role, ...(authorName ? { name: authorName } : {}), parts };
  return { role: 'user', parts: [{ type: 'other', originalType: `author:${authorRole}`, data: message }] };
}

function contentParts(content: JsonObject, contentType: string): TranscriptPart[] {
  switch (contentType) {
    case 'text':
    case 'multimodal_text':
      return Array.isArray(content.parts) ? content.parts.flatMap(partOf) : [];
    case 'code':
    case 'execution_output':
      return typeof content.text === 'string' && content.text !== '' ? [{ type: 'text', text: content.text }] : [];
    case 'thoughts': {
      const thoughts = Array.isArray(content.thoughts) ? content.thoughts.filter(isRecord) : [];
      const text = thoughts
        .map((t) => [stringOf(t.summary), stringOf(t.content)].filter(Boolean).join('\n'))
        .filter((t) => t !== '')
        .join('\n\n');
      return [{ type: 'reasoning', text }];
    }
    default:
      return [{ type: 'other', originalType: contentType, data: content }];
  }
}

function partOf(part: unknown): TranscriptPart[] {
  if (typeof part === 'string') return part === '' ? [] : [{ type: 'text', text: part }];
  if (isRecord(part) && part.content_type === 'image_asset_pointer' && typeof part.asset_pointer === 'string') {
    return [{ type: 'image', url: part.asset_pointer }];
  }
  const type = isRecord(part) && typeof part.content_type === 'string' ? part.content_type : part === null ? 'null' : typeof part;
  return [{ type: 'other', originalType: type, data: part }];
}

function roleOf(role: string): MessageRole | undefined {
  return role === 'system' || role === 'user' || role === 'assistant' || role === 'developer' ? role : undefined;
}
