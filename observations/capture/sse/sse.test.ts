// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  anthropicErrorStream,
  anthropicRebuilt,
  anthropicStream,
  chatRebuilt,
  chatRefusalStream,
  chatStream,
  responsesFinal,
  responsesStream,
  responsesStreamEvents,
  sseText,
} from '../../../test/support/model-streams.ts';
import { assembleStream, streamDialect } from './assemble-stream.ts';
import { carriesOutput, FirstTokenWatch } from './first-token.ts';
import { parseSse, SseParser, type SseEvent } from './sse-parser.ts';

/** Feeds bytes to a fresh parser cut at the given offsets. */
function parseInPieces(bytes: Uint8Array, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(from, cut)));
    from = cut;
  }
  return [...events, ...parser.end()];
}

const streams = { chat: chatStream, responses: responsesStream, anthropic: anthropicStream, refusal: chatRefusalStream };

describe('SseParser', () => {
  it('yields the same events wherever a stream is cut in two (inside lines, JSON, multi-byte characters)', () => {
    for (const [name, text] of Object.entries(streams)) {
      const bytes = Buffer.from(text, 'utf8');
      const whole = parseSse(text);
      assert.ok(whole.length > 3, name);
      for (let cut = 1; cut < bytes.length; cut++) assert.deepEqual(parseInPieces(bytes, [cut]), whole, `${name} cut at byte ${cut}`);
    }
  });

  it('yields the same events fed one byte at a time, and with CRLF or CR line ends split between chunks', () => {
    for (const text of Object.values(streams)) {
      const whole = parseSse(text);
      for (const variant of [text, text.replace(/\n/g, '\r\n'), text.replace(/\n/g, '\r')]) {
        const bytes = Buffer.from(variant, 'utf8');
        assert.deepEqual(parseInPieces(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)), whole);
      }
    }
  });

  it('reads event names, joins multi-line data, skips comments, and keeps a last event that lost its blank line', () => {
    const events = parseSse(': keep-alive\n\nevent: ping\ndata: {"a":\ndata:1}\nid: 7\n\ndata:no space\n\nevent: only-a-name\n\ndata: cut sh');
    assert.deepEqual(events, [
      { event: 'ping', data: '{"a":\n1}', id: '7' },
      { event: 'message', data: 'no space', id: '7' },
      { event: 'message', data: 'cut sh', id: '7' },
    ]);
  });
});

describe('stream assemblers', () => {
  it('rebuild an OpenAI chat completion: text, tool-call fragments by index, finish reason and the usage-only chunk', () => {
    const result = assembleStream('openai', '/v1/chat/completions', chatStream);
    assert.deepEqual(result.response, chatRebuilt);
    assert.equal(result.error, null);
    assert.equal(result.finished, true);
  });

  it('rebuild a streamed refusal with no usage (unknown stays absent)', () => {
    const { response } = assembleStream('openai', '/v1/chat/completions', chatRefusalStream);
    const choice = (response?.choices as Array<{ message: Record<string, unknown>; finish_reason: string }>)[0]!;
    assert.equal(choice.message.refusal, "I can't help with that.");
    assert.equal(choice.message.content, null);
    assert.equal(choice.finish_reason, 'stop');
    assert.ok(!('usage' in response!));
  });

  it('rebuild legacy completions and reasoning fields of OpenAI-compatible local servers', () => {
    const completions = sseText([
      { data: { id: 'cmpl-1', object: 'text_completion', model: 'llama3', choices: [{ index: 0, text: 'Once', finish_reason: null }] } },
      { data: { id: 'cmpl-1', object: 'text_completion', model: 'llama3', choices: [{ index: 0, text: ' upon', finish_reason: 'length' }] } },
      { data: '[DONE]' },
    ]);
    const rebuilt = assembleStream('openai', '/v1/completions', completions).response!;
    assert.equal(rebuilt.object, 'text_completion');
    assert.deepEqual(rebuilt.choices, [{ index: 0, text: 'Once upon', finish_reason: 'length', logprobs: null }]);
    const reasoning = sseText([
      { data: { id: 'c', object: 'chat.completion.chunk', model: 'deepseek-r1', choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: 'Hmm, ' } }] } },
      { data: { id: 'c', object: 'chat.completion.chunk', model: 'deepseek-r1', choices: [{ index: 0, delta: { reasoning_content: 'tenths.' } }] } },
      { data: { id: 'c', object: 'chat.completion.chunk', model: 'deepseek-r1', choices: [{ index: 0, delta: { content: '9.9' }, finish_reason: 'stop' }] } },
    ]);
    const message = (assembleStream('openai', '/v1/chat/completions', reasoning).response!.choices as Array<{ message: Record<string, unknown> }>)[0]!.message;
    assert.equal(message.reasoning_content, 'Hmm, tenths.');
    assert.equal(message.content, '9.9');
  });

  it('report an error chunk inside an OpenAI-style stream', () => {
    const text = sseText([
      { data: { id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: { content: 'Hel' } }] } },
      { data: { error: { message: 'The server had an error while processing your request.', type: 'server_error' } } },
    ]);
    const result = assembleStream('openai', '/v1/chat/completions', text);
    assert.equal(result.error, 'server_error: The server had an error while processing your request.');
    assert.equal(result.finished, false);
  });

  it('take the OpenAI Responses final response from response.completed', () => {
    const result = assembleStream('openai', '/v1/responses', responsesStream);
    assert.deepEqual(result.response, responsesFinal);
    assert.equal(result.finished, true);
  });

  it('rebuild a Responses stream cut before response.completed from its items and deltas', () => {
    const cut = sseText(responsesStreamEvents.slice(0, 15));
    const result = assembleStream('openai', '/v1/responses', cut);
    assert.equal(result.finished, false);
    const output = result.response!.output as Array<Record<string, unknown>>;
    assert.equal(output.length, 3);
    assert.deepEqual(output[0], responsesFinal.output[0]);
    assert.deepEqual(output[1], responsesFinal.output[1]);
    assert.equal(output[2]!.arguments, '{"answer":');
    assert.equal(result.response!.status, 'in_progress');
  });

  it('report response.failed and error events of a Responses stream', () => {
    const failed = sseText([{ event: 'response.failed', data: { type: 'response.failed', response: { id: 'r', object: 'response', status: 'failed', error: { code: 'server_error', message: 'Boom.' }, output: [] } } }]);
    assert.equal(assembleStream('openai', '/v1/responses', failed).error, 'Boom.');
    const error = sseText([{ event: 'error', data: { type: 'error', code: 'rate_limit_exceeded', message: 'Slow down.', param: null } }]);
    assert.equal(assembleStream('openai', '/v1/responses', error).error, 'Slow down.');
  });

  it('rebuild an Anthropic message keeping thinking, signatures, citations and parsed tool input', () => {
    const result = assembleStream('anthropic', '/v1/messages', anthropicStream);
    assert.deepEqual(result.response, anthropicRebuilt);
    assert.equal(result.finished, true);
    assert.equal(result.error, null);
  });

  it('report an in-band Anthropic error and keep what arrived before it', () => {
    const result = assembleStream('anthropic', '/v1/messages', anthropicErrorStream);
    assert.equal(result.error, 'overloaded_error: Overloaded');
    assert.deepEqual(result.response!.content, [{ type: 'text', text: 'The sky' }]);
  });

  it('keep tool input whose JSON was cut short as partial_json', () => {
    const cut = anthropicStream.slice(0, anthropicStream.indexOf('ris\\"}'));
    const blocks = assembleStream('anthropic', '/v1/messages', cut).response!.content as Array<Record<string, unknown>>;
    assert.deepEqual(blocks[2], { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {}, partial_json: '{"city": "Pa' });
  });

  it('rebuild the same objects whatever byte boundaries the stream arrived in', () => {
    for (const [api, path, text, expected] of [
      ['openai', '/v1/chat/completions', chatStream, chatRebuilt],
      ['anthropic', '/v1/messages', anthropicStream, anthropicRebuilt],
    ] as const) {
      const bytes = Buffer.from(text);
      for (let cut = 1; cut < bytes.length; cut += 7) {
        const events = parseInPieces(bytes, [cut, Math.min(bytes.length, cut + 3)]);
        assert.deepEqual(assembleStream(api, path, sseText(events.map((e) => ({ event: e.event === 'message' ? undefined : e.event, data: e.data })))).response, expected);
      }
    }
  });

  it('tell the dialect from the events before the path', () => {
    assert.equal(streamDialect('openai', '/v1/odd', parseSse(anthropicStream)), 'anthropic-messages');
    assert.equal(streamDialect('openai', '/v1/odd', parseSse(responsesStream)), 'openai-responses');
    assert.equal(streamDialect('anthropic', '/v1/odd', parseSse(chatStream)), 'openai-chat');
    assert.equal(streamDialect('anthropic', '/v1/messages', []), 'anthropic-messages');
  });
});

describe('FirstTokenWatch', () => {
  const firstOutputChunk = (text: string, size: number): number => {
    const watch = new FirstTokenWatch();
    const bytes = Buffer.from(text);
    for (let i = 0, n = 0; i < bytes.length; i += size, n++) if (watch.push(bytes.subarray(i, i + size))) return n;
    return -1;
  };

  it('fires on the chunk that completes the first event carrying output, not on role-only or start events', () => {
    const chatFirst = chatStream.indexOf('Hello, ');
    const chatEnd = chatStream.indexOf('\n\n', chatFirst) + 2;
    assert.equal(firstOutputChunk(chatStream, chatEnd), 0);
    assert.equal(firstOutputChunk(chatStream, chatEnd - 1), 1);
    assert.ok(firstOutputChunk(anthropicStream, 50) > 0);
    assert.equal(firstOutputChunk(sseText([{ data: { choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] } }, { data: '[DONE]' }]), 10), -1);
  });

  it('recognises output events of each dialect', () => {
    const events = [...parseSse(chatStream), ...parseSse(responsesStream), ...parseSse(anthropicStream)].filter(carriesOutput);
    assert.ok(events.some((e) => e.event === 'content_block_delta'));
    assert.ok(events.some((e) => e.event === 'response.output_text.delta'));
    assert.ok(events.some((e) => e.data.includes('Hello, ')));
    assert.ok(!events.some((e) => e.event === 'message_start' || e.event === 'response.created'));
  });
});
