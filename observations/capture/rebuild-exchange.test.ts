// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  anthropicErrorStream,
  anthropicRebuilt,
  anthropicRequest,
  anthropicStream,
  chatRebuilt,
  chatRefusalStream,
  chatRequest,
  chatStream,
  responsesFinal,
  responsesRequest,
  responsesStream,
} from '../../test/support/model-streams.ts';
import { rebuildExchange, settleOutcome } from './rebuild-exchange.ts';

const streamed = (api: 'openai' | 'anthropic', path: string, request: unknown, sse: string) =>
  rebuildExchange({ api, path, requestBody: JSON.stringify(request), responseBody: sse, streamed: true });

describe('rebuildExchange on streams', () => {
  it('rebuilds a Chat Completions stream into the message, transcript (text and both tool calls), model and usage', () => {
    const result = streamed('openai', '/v1/chat/completions', chatRequest, chatStream);
    assert.deepEqual(result.rebuilt, chatRebuilt);
    assert.equal(result.model, 'gpt-4o-mini-2024-07-18');
    assert.deepEqual(result.usage, { inputTokens: 52, outputTokens: 31, totalTokens: 83, reasoningTokens: 0 });
    const assistant = result.transcript!.messages.at(-1)!;
    assert.equal(assistant.role, 'assistant');
    assert.deepEqual(assistant.parts.map((p) => p.type), ['text', 'tool_call', 'tool_call']);
    assert.deepEqual(assistant.parts[2], { type: 'tool_call', id: 'call_tokyo', name: 'get_weather', arguments: '{"city":"Tōkyō"}' });
    assert.equal(result.streamError, undefined);
  });

  it('leaves usage unknown (absent, not 0) when the stream reported none', () => {
    const result = streamed('openai', '/v1/chat/completions', { ...chatRequest, stream_options: undefined }, chatRefusalStream);
    assert.equal(result.usage, null);
    assert.deepEqual(result.transcript!.messages.at(-1)!.parts, [{ type: 'refusal', text: "I can't help with that." }]);
  });

  it('rebuilds an Anthropic stream keeping the thinking text and its signature in the transcript', () => {
    const result = streamed('anthropic', '/v1/messages', anthropicRequest, anthropicStream);
    assert.deepEqual(result.rebuilt, anthropicRebuilt);
    assert.deepEqual(result.usage, { inputTokens: 40, outputTokens: 87, cacheReadTokens: 12, cacheWriteTokens: 0 });
    const parts = result.transcript!.messages.at(-1)!.parts;
    assert.deepEqual(parts[0], { type: 'reasoning', text: 'The document says blue; naïve check ✓.', opaque: 'EqQBCkgIARABGAIiQL+sig/opaque==' });
    assert.equal(parts.find((p) => p.type === 'tool_call')?.arguments, '{"city":"Paris"}');
  });

  it('rebuilds a Responses stream with its reasoning summary and usage', () => {
    const result = streamed('openai', '/v1/responses', responsesRequest, responsesStream);
    assert.deepEqual(result.rebuilt, responsesFinal);
    assert.deepEqual(result.usage, { inputTokens: 30, outputTokens: 60, totalTokens: 90, reasoningTokens: 40, cacheReadTokens: 4 });
    assert.ok(result.transcript!.messages.some((m) => m.parts.some((p) => p.type === 'reasoning' && p.text.includes('Compare tenths'))));
  });

  it('turns a 200 stream with an in-band error into an upstream_error', () => {
    const result = streamed('anthropic', '/v1/messages', anthropicRequest, anthropicErrorStream);
    assert.equal(result.streamError, 'overloaded_error: Overloaded');
    assert.deepEqual(settleOutcome({ outcome: 'complete', endReason: 'done', error: null }, result), {
      outcome: 'error',
      endReason: 'upstream_error',
      error: 'The upstream sent an error inside the stream: overloaded_error: Overloaded',
    });
    const partial = { outcome: 'error' as const, endReason: 'timeout' as const, error: 'stalled' };
    assert.deepEqual(settleOutcome(partial, result), partial, 'an error already reported stands');
    assert.deepEqual(settleOutcome({ outcome: 'complete', endReason: 'done', error: null }, {}), { outcome: 'complete', endReason: 'done', error: null });
  });
});
