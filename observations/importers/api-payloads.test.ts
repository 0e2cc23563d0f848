import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importText, only, shape } from './importer-test-support.ts';

const chatExchange = {
  model: 'gpt-4o',
  messages: [
    { role: 'developer', content: 'Use tools.' },
    { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo?' }, { type: 'image_url', image_url: { url: 'https://example.org/sky.png' } }, { type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '12°C' },
  ],
  response: {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1700000000,
    model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot share that.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  },
};

const responsesExchange = {
  model: 'o4-mini',
  instructions: 'Be terse.',
  input: [
    { role: 'user', content: [{ type: 'input_text', text: 'Search and compute.' }, { type: 'input_image', image_url: 'https://example.org/a.png' }, { type: 'input_file', file_id: 'file-1' }] },
  ],
  response: {
    id: 'resp_1',
    object: 'response',
    created_at: 1700000500,
    model: 'o4-mini-2025-04-16',
    status: 'completed',
    output: [
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Plan: search, then compute.' }], encrypted_content: 'gAAAA-opaque' },
      { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'x' } },
      { type: 'function_call', id: 'fc_1', call_id: 'call_9', name: 'add', arguments: '{"a":1,"b":2}' },
      { type: 'function_call_output', call_id: 'call_9', output: '3' },
      { type: 'message', id: 'msg_1', role: 'assistant', phase: 'final_answer', content: [{ type: 'output_text', text: 'It is 3.', annotations: [{ type: 'url_citation', url: 'https://example.org' }] }, { type: 'refusal', refusal: 'Not the rest.' }] },
    ],
    usage: { input_tokens: 20, output_tokens: 9 },
  },
};

const anthropicExchange = {
  model: 'claude-sonnet-4-5',
  system: 'You are helpful.',
  messages: [
    { role: 'user', content: 'What is 2+2? Use the tool.' },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'I should call add.', signature: 'sig-1' },
        { type: 'redacted_thinking', data: 'ENCRYPTED' },
        { type: 'tool_use', id: 'toolu_1', name: 'add', input: { a: 2, b: 2 } },
      ],
    },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '4' }], is_error: false }, { type: 'text', text: 'Thanks' }] },
  ],
  response: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text: 'It is 4.' }, { type: 'server_tool_use', id: 'srv_1', name: 'web_search', input: { query: 'sum' } }],
    stop_reason: 'refusal',
    stop_sequence: null,
    usage: { input_tokens: 30, output_tokens: 7, cache_read_input_tokens: 0 },
  },
};

describe('OpenAI Chat Completions importer', () => {
  it('reads request messages, tool calls, tool replies, refusals and unknown parts', async () => {
    const record = only((await importText('exchange.json', JSON.stringify(chatExchange))).records, 'openai-chat');
    assert.deepEqual(shape(record), [
      'developer:text:Use tools.',
      'user:text:Weather in Oslo?',
      'user:image:https://example.org/sky.png',
      'user:other:input_audio',
      'assistant:tool_call:weather({"city":"Oslo"})',
      'tool:tool_result:12°C',
      'assistant:refusal:I cannot share that.',
    ]);
    assert.equal(record.transcript.messages[3]!.name, 'weather');
    assert.deepEqual([record.model, record.provider, record.provenance.stopReason, record.provenance.recordId], ['gpt-4o-2024-08-06', 'openai', 'stop', 'chatcmpl-1']);
    assert.deepEqual(record.provenance.source?.usage, { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    assert.equal(record.observedAt?.toISOString(), '2023-11-14T22:13:20.000Z');
    assert.equal(record.title, 'Weather in Oslo?');
    assert.equal(record.raw, JSON.stringify(chatExchange));
  });

  it('imports each line of a JSONL file of exchanges (and OpenAI Batch lines), reporting bad lines by index', async () => {
    const batchLine = { custom_id: 'req-7', response: { status_code: 200, body: { id: 'chatcmpl-7', object: 'chat.completion', model: 'gpt-4o', choices: [{ message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }] } } };
    const lines = [JSON.stringify(chatExchange), '{"messages": [{"role": "wizard", "content": "x"}]}', '', '{"messages": [', JSON.stringify(batchLine)].join('\n');
    const { records, failures } = await importText('exchanges.jsonl', lines, { format: 'openai-chat' });
    assert.deepEqual(records.map((r) => r.index), [0, 4]);
    assert.equal(records[1]!.provenance.recordId, 'req-7');
    assert.deepEqual(shape(records[1]!), ['assistant:text:Hi']);
    assert.deepEqual(failures.map((f) => f.index), [1, 3]);
    assert.match(failures[0]!.reason, /role "wizard"/);
    assert.match(failures[1]!.reason, /not valid JSON/);
  });

  it('reads a JSON array of exchanges as one record each, and an array of messages as one record', async () => {
    const two = await importText('exchanges.json', JSON.stringify([chatExchange, chatExchange.response]));
    assert.deepEqual(two.records.map((r) => r.index), [0, 1]);
    const messagesOnly = await importText('chat.json', JSON.stringify(chatExchange.messages));
    assert.equal(only(messagesOnly.records).transcript.messages.length, 4);
  });
});

describe('OpenAI Responses importer', () => {
  it('reads messages, reasoning summaries, function calls and outputs, refusals, and keeps other items', async () => {
    const record = only((await importText('response.json', JSON.stringify(responsesExchange))).records, 'openai-responses');
    assert.deepEqual(shape(record), [
      'system:text:Be terse.',
      'user:text:Search and compute.',
      'user:image:https://example.org/a.png',
      'user:other:input_file',
      'assistant:reasoning:Plan: search, then compute.',
      'assistant:other:web_search_call',
      'assistant:tool_call:add({"a":1,"b":2})',
      'tool:tool_result:3',
      'assistant:text:It is 3.',
      'assistant:other:annotations',
      'assistant:refusal:Not the rest.',
      'assistant:other:phase',
    ]);
    const reasoning = record.transcript.messages.flatMap((m) => m.parts).find((p) => p.type === 'reasoning');
    assert.equal(reasoning?.type === 'reasoning' ? reasoning.opaque : undefined, 'gAAAA-opaque');
    const tool = record.transcript.messages.find((m) => m.role === 'tool');
    assert.equal(tool?.name, 'add');
    assert.deepEqual(tool?.parts[0], { type: 'tool_result', toolCallId: 'call_9', text: '3' });
    assert.deepEqual([record.model, record.provider, record.provenance.recordId, record.provenance.stopReason], ['o4-mini-2025-04-16', 'openai', 'resp_1', 'completed']);
  });

  it('reads a bare response object and reports one without output', async () => {
    const { records, failures } = await importText('responses.jsonl', [JSON.stringify(responsesExchange.response), '{"object": "response", "id": "resp_2"}'].join('\n'), { format: 'openai-responses' });
    assert.equal(records.length, 1);
    assert.deepEqual(failures.map((f) => [f.index, f.reason]), [[1, 'The response has no "output" list']]);
  });
});

describe('Anthropic Messages importer', () => {
  it('reads text, thinking, redacted thinking, tool use and results, stop reason, and keeps server-tool blocks', async () => {
    const record = only((await importText('message.json', JSON.stringify(anthropicExchange))).records, 'anthropic-messages');
    assert.deepEqual(shape(record), [
      'system:text:You are helpful.',
      'user:text:What is 2+2? Use the tool.',
      'assistant:reasoning:I should call add.',
      'assistant:reasoning:',
      'assistant:tool_call:add({"a":2,"b":2})',
      'tool:tool_result:4',
      'user:text:Thanks',
      'assistant:text:It is 4.',
      'assistant:other:server_tool_use',
    ]);
    const reasoning = record.transcript.messages[2]!.parts;
    assert.deepEqual(reasoning.slice(0, 2), [
      { type: 'reasoning', text: 'I should call add.', opaque: 'sig-1' },
      { type: 'reasoning', text: '', opaque: 'ENCRYPTED' },
    ]);
    assert.deepEqual(record.transcript.messages[3]!.parts[0], { type: 'tool_result', toolCallId: 'toolu_1', text: '4', isError: false });
    assert.deepEqual([record.model, record.provider, record.provenance.stopReason, record.provenance.recordId], ['claude-sonnet-4-5-20250929', 'anthropic', 'refusal', 'msg_1']);
    assert.equal((record.provenance.source?.usage as { input_tokens: number }).input_tokens, 30);
  });

  it('reads Message Batches results and reports errored ones', async () => {
    const ok = { custom_id: 'b-1', result: { type: 'succeeded', message: anthropicExchange.response } };
    const errored = { custom_id: 'b-2', result: { type: 'errored', error: { type: 'overloaded_error' } } };
    const { records, failures } = await importText('results.jsonl', `${JSON.stringify(ok)}\n${JSON.stringify(errored)}\n`);
    assert.equal(only(records, 'anthropic-messages').provenance.recordId, 'b-1');
    assert.deepEqual(failures.map((f) => [f.index, f.recordId]), [[1, 'b-2']]);
  });
});
