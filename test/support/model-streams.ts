/**
 * Hand-written model API answers, streamed and whole, for the SSE unit tests and the fake upstreams the proxy
 * tests call through: OpenAI Chat Completions (text in several languages, two tool calls whose argument
 * fragments interleave, a usage-only last chunk), OpenAI Responses (reasoning summary, text, a function call),
 * and Anthropic Messages (thinking with its signature, text with citations, tool input as partial JSON, an
 * in-band `error` event). Each stream comes with the object it must rebuild into.
 */

type Json = Record<string, unknown>;

/** SSE text from events: `event:` lines when named, then the JSON (or literal) data, then a blank line. */
export function sseText(events: Array<{ event?: string; data: unknown }>): string {
  return events.map((e) => `${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`).join('');
}

// ---------- OpenAI Chat Completions ----------

const chunkBase = { id: 'chatcmpl-stream-1', object: 'chat.completion.chunk', created: 1760000000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_1' };
const chunk = (choices: unknown[], extra: Json = {}) => ({ ...chunkBase, choices, ...extra });

export const chatRequest = {
  model: 'gpt-4o-mini',
  stream: true,
  stream_options: { include_usage: true },
  messages: [
    { role: 'system', content: 'Answer, then look up the weather.' },
    { role: 'user', content: 'Say hello in three languages, then check the weather in Paris and Tōkyō.' },
  ],
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
};

export const chatStreamEvents = [
  { data: chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: { content: 'Hello, ' }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: { content: 'héllo, こんにちは 👋' }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_tokyo', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: '"Tōkyō"}' } }] }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]) },
  { data: chunk([], { usage: { prompt_tokens: 52, completion_tokens: 31, total_tokens: 83, completion_tokens_details: { reasoning_tokens: 0 } } }) },
  { data: '[DONE]' },
];
export const chatStream = sseText(chatStreamEvents);

export const chatRebuilt = {
  id: 'chatcmpl-stream-1',
  object: 'chat.completion',
  created: 1760000000,
  model: 'gpt-4o-mini-2024-07-18',
  system_fingerprint: 'fp_1',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Hello, héllo, こんにちは 👋',
        refusal: null,
        tool_calls: [
          { id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_tokyo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Tōkyō"}' } },
        ],
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 52, completion_tokens: 31, total_tokens: 83, completion_tokens_details: { reasoning_tokens: 0 } },
};

/** A refusal, streamed without usage (the caller did not ask for it): usage must stay unknown. */
export const chatRefusalStream = sseText([
  { data: chunk([{ index: 0, delta: { role: 'assistant', content: null, refusal: '' }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: { refusal: "I can't help " }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: { refusal: 'with that.' }, finish_reason: null }]) },
  { data: chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]) },
  { data: '[DONE]' },
]);

/** A whole (non-streamed) chat completion, as the fake upstream answers `stream: false`. */
export const chatCompletion = {
  id: 'chatcmpl-whole-1',
  object: 'chat.completion',
  created: 1760000001,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'No: 9.9 is bigger than 9.11.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 14, completion_tokens: 12, total_tokens: 26 },
};

// ---------- OpenAI Responses ----------

export const responsesRequest = { model: 'o4-mini', stream: true, instructions: 'Think, then answer.', input: 'Which is bigger, 9.11 or 9.9? Then call check().' };

const responseShell = { id: 'resp_1', object: 'response', created_at: 1760000002, model: 'o4-mini-2025-04-16', instructions: 'Think, then answer.', output: [] as unknown[] };
const reasoningItem = { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Compare tenths: 9 > 1.' }], encrypted_content: 'gAAAA-opaque' };
const messageItem = { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: '9.9 is bigger — by 0.79.', annotations: [] }] };
const callItem = { id: 'fc_1', type: 'function_call', call_id: 'call_check', name: 'check', arguments: '{"answer":"9.9"}', status: 'completed' };
const responsesUsage = { input_tokens: 30, input_tokens_details: { cached_tokens: 4 }, output_tokens: 60, output_tokens_details: { reasoning_tokens: 40 }, total_tokens: 90 };

export const responsesFinal = { ...responseShell, status: 'completed', output: [reasoningItem, messageItem, callItem], usage: responsesUsage };

export const responsesStreamEvents = [
  { event: 'response.created', data: { type: 'response.created', sequence_number: 0, response: { ...responseShell, status: 'in_progress' } } },
  { event: 'response.in_progress', data: { type: 'response.in_progress', sequence_number: 1, response: { ...responseShell, status: 'in_progress' } } },
  { event: 'response.output_item.added', data: { type: 'response.output_item.added', sequence_number: 2, output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } } },
  { event: 'response.reasoning_summary_part.added', data: { type: 'response.reasoning_summary_part.added', sequence_number: 3, item_id: 'rs_1', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } } },
  { event: 'response.reasoning_summary_text.delta', data: { type: 'response.reasoning_summary_text.delta', sequence_number: 4, item_id: 'rs_1', output_index: 0, summary_index: 0, delta: 'Compare tenths: ' } },
  { event: 'response.reasoning_summary_text.delta', data: { type: 'response.reasoning_summary_text.delta', sequence_number: 5, item_id: 'rs_1', output_index: 0, summary_index: 0, delta: '9 > 1.' } },
  { event: 'response.output_item.done', data: { type: 'response.output_item.done', sequence_number: 6, output_index: 0, item: reasoningItem } },
  { event: 'response.output_item.added', data: { type: 'response.output_item.added', sequence_number: 7, output_index: 1, item: { id: 'msg_1', type: 'message', role: 'assistant', status: 'in_progress', content: [] } } },
  { event: 'response.content_part.added', data: { type: 'response.content_part.added', sequence_number: 8, item_id: 'msg_1', output_index: 1, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } } },
  { event: 'response.output_text.delta', data: { type: 'response.output_text.delta', sequence_number: 9, item_id: 'msg_1', output_index: 1, content_index: 0, delta: '9.9 is bigger' } },
  { event: 'response.output_text.delta', data: { type: 'response.output_text.delta', sequence_number: 10, item_id: 'msg_1', output_index: 1, content_index: 0, delta: ' — by 0.79.' } },
  { event: 'response.output_text.done', data: { type: 'response.output_text.done', sequence_number: 11, item_id: 'msg_1', output_index: 1, content_index: 0, text: '9.9 is bigger — by 0.79.' } },
  { event: 'response.output_item.done', data: { type: 'response.output_item.done', sequence_number: 12, output_index: 1, item: messageItem } },
  { event: 'response.output_item.added', data: { type: 'response.output_item.added', sequence_number: 13, output_index: 2, item: { id: 'fc_1', type: 'function_call', call_id: 'call_check', name: 'check', arguments: '', status: 'in_progress' } } },
  { event: 'response.function_call_arguments.delta', data: { type: 'response.function_call_arguments.delta', sequence_number: 14, item_id: 'fc_1', output_index: 2, delta: '{"answer":' } },
  { event: 'response.function_call_arguments.delta', data: { type: 'response.function_call_arguments.delta', sequence_number: 15, item_id: 'fc_1', output_index: 2, delta: '"9.9"}' } },
  { event: 'response.output_item.done', data: { type: 'response.output_item.done', sequence_number: 16, output_index: 2, item: callItem } },
  { event: 'response.completed', data: { type: 'response.completed', sequence_number: 17, response: responsesFinal } },
];
export const responsesStream = sseText(responsesStreamEvents);

// ---------- Anthropic Messages ----------

export const anthropicRequest = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  stream: true,
  thinking: { type: 'enabled', budget_tokens: 512 },
  system: 'Cite the document.',
  messages: [{ role: 'user', content: 'What colour is the sky, per the document? Then look up Paris.' }],
};

const anthropicUsageStart = { input_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 12, output_tokens: 1 };
const citation = { type: 'char_location', cited_text: 'The sky is blue.', document_index: 0, document_title: 'Sky facts', start_char_index: 0, end_char_index: 16 };

export const anthropicStreamEvents = [
  { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_stream_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsageStart } } },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } } },
  { event: 'ping', data: { type: 'ping' } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'The document says ' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'blue; naïve check ✓.' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCkgIARABGAIiQL+sig/opaque==' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '', citations: [] } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'citations_delta', citation } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'The sky is ' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'blue. 🌤' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": "Pa' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: 'ris"}' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 2 } },
  { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 87 } } },
  { event: 'message_stop', data: { type: 'message_stop' } },
];
export const anthropicStream = sseText(anthropicStreamEvents);

export const anthropicRebuilt = {
  id: 'msg_stream_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'The document says blue; naïve check ✓.', signature: 'EqQBCkgIARABGAIiQL+sig/opaque==' },
    { type: 'text', text: 'The sky is blue. 🌤', citations: [citation] },
    { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { ...anthropicUsageStart, output_tokens: 87 },
};

/** A 200 stream that fails midway: Anthropic sends `event: error` (here: overloaded) and stops. */
export const anthropicErrorStream = sseText([
  anthropicStreamEvents[0]!,
  { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'The sky' } } },
  { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } },
]);

/** A whole (non-streamed) Message, as the fake upstream answers without `stream`. */
export const anthropicMessage = {
  id: 'msg_whole_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'Tenths first.', signature: 'sig-whole==' },
    { type: 'text', text: '9.9 is bigger.' },
  ],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 20, output_tokens: 15, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
};
