import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { prose, rng } from './transcripts.ts';

/**
 * A realistic ChatGPT data export (`conversations.json`) for the import benchmark: each conversation's `mapping`
 * is a tree as ChatGPT writes it (a null root, a hidden system message, sometimes custom instructions), with
 * several turns, regenerated replies and edited questions as branches off the visible thread, tool calls with
 * their outputs, o1-style thoughts, an image now and then, and the metadata fields real exports carry.
 * Conversations are a few KB each. Deterministic given the seed; written as a stream (the file is never held).
 */
export async function writeChatGPTExport(file: string, conversations: number, seed = 7): Promise<{ bytes: number; messages: number }> {
  const rand = rng(seed);
  const out = createWriteStream(file);
  let bytes = 0;
  let messages = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('[');
  for (let i = 0; i < conversations; i++) {
    const conversation = chatGPTConversation(rand, i);
    messages += Object.keys(conversation.mapping).length - 1;
    await write((i === 0 ? '' : ', ') + JSON.stringify(conversation));
  }
  await write(']');
  out.end();
  await once(out, 'finish');
  return { bytes, messages };
}

const MODELS = ['gpt-4o', 'gpt-4o', 'gpt-4o-mini', 'o1', 'gpt-4', 'o3-mini'];
const BASE_TIME = 1_700_000_000;

type Node = { id: string; message: Record<string, unknown> | null; parent: string | null; children: string[] };

/** One conversation as the export holds it. */
export function chatGPTConversation(rand: () => number, i: number) {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const model = MODELS[i % MODELS.length]!;
  const created = BASE_TIME + i * 613 + Math.floor(rand() * 600);
  let clock = created;
  const mapping: Record<string, Node> = {};
  const add = (parent: string | null, message: Record<string, unknown> | null): string => {
    const id = message ? (message.id as string) : `client-created-root`;
    mapping[id] = { id, message, parent, children: [] };
    if (parent) mapping[parent]!.children.push(id);
    return id;
  };
  const message = (role: string, content: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    clock += 1 + Math.floor(rand() * 40);
    return {
      id: uuid(),
      author: { role, name: null, metadata: {} },
      create_time: clock + rand(),
      update_time: null,
      content,
      status: 'finished_successfully',
      end_turn: role === 'assistant' ? true : null,
      weight: 1,
      metadata: role === 'assistant'
        ? { citations: [], content_references: [], message_type: null, model_slug: model, default_model_slug: model, parent_id: null, request_id: hex(16), timestamp_: 'absolute', finish_details: { type: 'stop', stop_tokens: [200002] }, is_complete: true }
        : { request_id: hex(16), message_source: null, timestamp_: 'absolute', message_type: null },
      recipient: 'all',
      channel: null,
      ...extra,
    };
  };
  const text = (chars: number) => ({ content_type: 'text', parts: [prose(rand, chars)] });

  let node = add(null, null);
  node = add(node, { ...message('system', { content_type: 'text', parts: [''] }), metadata: { is_visually_hidden_from_conversation: true } });
  if (rand() < 0.2) {
    node = add(node, message('user', { content_type: 'user_editable_context', user_profile: `The user provided the following information about themselves: ${prose(rand, 120)}`, user_instructions: `The user provided the additional info about how they would like you to respond: ${prose(rand, 160)}` }));
  }
  const turns = 2 + Math.floor(rand() * 2);
  for (let t = 0; t < turns; t++) {
    // An edited question: the first wording stays as a sibling branch with its own answer.
    if (rand() < 0.15) {
      const edited = add(node, message('user', text(40 + Math.floor(rand() * 150))));
      add(edited, message('assistant', text(150 + Math.floor(rand() * 300))));
    }
    const askedImage = rand() < 0.05;
    node = add(node, message('user', askedImage
      ? { content_type: 'multimodal_text', parts: [{ content_type: 'image_asset_pointer', asset_pointer: `file-service://file-${hex(24)}`, size_bytes: 123456, width: 1024, height: 768 }, prose(rand, 120)] }
      : text(40 + Math.floor(rand() * 200))));
    if (model.startsWith('o') && rand() < 0.6) {
      node = add(node, message('assistant', { content_type: 'thoughts', thoughts: [{ summary: 'Thinking it through', content: prose(rand, 200) }], source_analysis_msg_id: uuid() }));
    }
    if (rand() < 0.15) {
      node = add(node, message('assistant', { content_type: 'code', language: 'unknown', text: `import math\nprint(${prose(rand, 40).split(' ').join('_').slice(0, 30)})` }, { recipient: 'python' }));
      node = add(node, { ...message('tool', { content_type: 'execution_output', text: prose(rand, 80) }), author: { role: 'tool', name: 'python', metadata: {} } });
    }
    // A regenerated reply: the earlier answer stays as a sibling branch.
    if (rand() < 0.2) add(node, message('assistant', text(150 + Math.floor(rand() * 400))));
    node = add(node, message('assistant', text(150 + Math.floor(rand() * 600))));
  }
  return {
    title: prose(rand, 30).replace(/\s*\.\n\s*/g, ' ').slice(0, 40).trim(),
    create_time: created + rand(),
    update_time: clock + rand(),
    mapping,
    moderation_results: [],
    current_node: node,
    plugin_ids: null,
    conversation_id: uuid(),
    conversation_template_id: null,
    gizmo_id: null,
    gizmo_type: null,
    is_archived: false,
    is_starred: null,
    safe_urls: [],
    default_model_slug: model,
    conversation_origin: null,
    voice: null,
    async_status: null,
    disabled_tool_ids: [],
    id: `conv-${i}-${hex(8)}`,
  };
}
