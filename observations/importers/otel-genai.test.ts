import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOtlpTraces } from './otel-genai.importer.ts';
import { importText, shape } from './importer-test-support.ts';

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const int = (key: string, value: number) => ({ key, value: { intValue: String(value) } });

const input = [
  { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }, { type: 'uri', modality: 'image', mime_type: 'image/png', uri: 'https://example.org/p.png' }, { type: 'blob', modality: 'audio', mime_type: 'audio/wav', content: 'AAAA' }] },
  { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { location: 'Paris' } }] },
  { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'rainy, 57°F' }] },
];
const output = [{ role: 'assistant', parts: [{ type: 'reasoning', content: 'Summarise.' }, { type: 'text', content: 'Rainy.' }, { type: 'server_tool', name: 'x' }], finish_reason: 'length' }];

function span(spanId: string, attributes: unknown[], events: unknown[] = []) {
  return { traceId: 'trace-1', spanId, parentSpanId: 'p', name: 'chat gpt-4o', kind: 3, startTimeUnixNano: '1700000000123000000', endTimeUnixNano: '1700000001000000000', attributes, events, status: {} };
}

function body(spans: unknown[]) {
  return { resourceSpans: [{ resource: { attributes: [str('service.name', 'my-agent')] }, scopeSpans: [{ scope: { name: 'openai-instrumentation' }, spans }] }] };
}

const modern = span('s1', [
  str('gen_ai.operation.name', 'chat'),
  str('gen_ai.provider.name', 'openai'),
  str('gen_ai.request.model', 'gpt-4o'),
  str('gen_ai.response.model', 'gpt-4o-2024-08-06'),
  str('gen_ai.response.id', 'chatcmpl-1'),
  { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'length' }] } } },
  int('gen_ai.usage.input_tokens', 12),
  int('gen_ai.usage.output_tokens', 3),
  str('gen_ai.conversation.id', 'conv-9'),
  str('gen_ai.system_instructions', JSON.stringify([{ type: 'text', content: 'Be brief.' }])),
  str('gen_ai.input.messages', JSON.stringify(input)),
  str('gen_ai.output.messages', JSON.stringify(output)),
], [{ timeUnixNano: '1', name: 'gen_ai.evaluation.result', attributes: [str('gen_ai.evaluation.name', 'relevance'), str('gen_ai.evaluation.score.label', 'relevant')] }]);

const legacy = span('s2', [str('gen_ai.system', 'openai'), str('gen_ai.request.model', 'gpt-3.5-turbo')], [
  { name: 'gen_ai.system.message', attributes: [str('content', 'Sys.')] },
  { name: 'gen_ai.user.message', attributes: [str('content', 'Hi')] },
  { name: 'gen_ai.choice', attributes: [str('gen_ai.event.content', JSON.stringify({ index: 0, finish_reason: 'tool_calls', message: { tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] } }))] },
  { name: 'gen_ai.tool.message', attributes: [str('content', 'result'), str('id', 'c')] },
]);

describe('OpenTelemetry GenAI span importer', () => {
  it('turns each GenAI span of an OTLP body into a record with every part type, and skips other spans', () => {
    const results = parseOtlpTraces(body([modern, span('s-http', [str('http.method', 'GET')]), legacy]), 'traces.json');
    assert.deepEqual(results.map((r) => [r.kind, r.index]), [['record', 0], ['record', 2]]);
    const record = results[0]!;
    assert.ok(record.kind === 'record');
    assert.deepEqual(shape(record), [
      'system:text:Be brief.',
      'user:text:Weather in Paris?',
      'user:image:https://example.org/p.png',
      'user:other:blob',
      'assistant:tool_call:get_weather({"location":"Paris"})',
      'tool:tool_result:rainy, 57°F',
      'assistant:reasoning:Summarise.',
      'assistant:text:Rainy.',
      'assistant:other:server_tool',
      'assistant:other:finish_reason',
    ]);
    assert.deepEqual([record.model, record.provider, record.provenance.stopReason, record.provenance.recordId, record.provenance.conversationId], ['gpt-4o-2024-08-06', 'openai', 'length', 's1', 'conv-9']);
    assert.deepEqual(record.provenance.source?.usage, { 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 3 });
    assert.deepEqual(record.provenance.source?.evaluations, [{ 'gen_ai.evaluation.name': 'relevance', 'gen_ai.evaluation.score.label': 'relevant' }]);
    assert.equal(record.provenance.source?.service, 'my-agent');
    assert.equal(record.observedAt?.toISOString(), '2023-11-14T22:13:20.123Z');
    assert.deepEqual(Object.keys(JSON.parse(record.raw)), ['resource', 'scope', 'span']);
    const old = results[1]!;
    assert.ok(old.kind === 'record');
    assert.deepEqual(shape(old), ['system:text:Sys.', 'user:text:Hi', 'assistant:tool_call:f({})', 'tool:tool_result:result']);
  });

  it('reports spans without captured content or with broken message JSON, and hashes the same span the same', async () => {
    const noContent = span('s3', [str('gen_ai.request.model', 'm')]);
    const broken = span('s4', [str('gen_ai.input.messages', '[{"role": "user", "parts": [')]);
    const lines = [JSON.stringify(body([modern, noContent])), JSON.stringify(body([broken, modern]))].join('\n');
    const { records, failures } = await importText('traces.jsonl', lines);
    assert.deepEqual(records.map((r) => r.index), [0, 3]);
    assert.equal(records[0]!.rawSha256, records[1]!.rawSha256);
    assert.deepEqual(failures.map((f) => [f.index, f.recordId]), [[1, 's3'], [2, 's4']]);
    assert.match(failures[0]!.reason, /no message content/);
    assert.match(failures[1]!.reason, /gen_ai\.input\.messages" is not valid JSON/);
  });
});
