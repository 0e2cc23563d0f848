import { createHash, randomBytes } from 'node:crypto';

/** An OpenAI Chat Completions exchange (request and response JSON), unique per call. */
export function chatExchange(question = `Is 9.11 bigger than 9.9? (${randomBytes(3).toString('hex')})`, answer = 'Yes, 9.11 is bigger.') {
  const request = {
    model: 'gpt-4o-mini',
    temperature: 0.2,
    max_tokens: 64,
    messages: [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: question },
    ],
  };
  const response = {
    id: `chatcmpl-${randomBytes(4).toString('hex')}`,
    object: 'chat.completion',
    created: 1760000000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: answer } }],
    usage: { prompt_tokens: 21, completion_tokens: 7, total_tokens: 28 },
  };
  return { request, response };
}

/** An Anthropic Messages exchange with a thinking block. */
export function messagesExchange(question = 'How many r are in strawberry?', answer = 'There are two.') {
  const request = { model: 'claude-sonnet-4-5', max_tokens: 1024, thinking: { type: 'enabled', budget_tokens: 512 }, messages: [{ role: 'user', content: question }] };
  const response = {
    id: `msg_${randomBytes(4).toString('hex')}`,
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [
      { type: 'thinking', thinking: 'Count the letters: s-t-r-a-w-b-e-r-r-y.', signature: 'sig-abc' },
      { type: 'text', text: answer },
    ],
    stop_reason: 'end_turn',
    usage: { input_tokens: 12, output_tokens: 30 },
  };
  return { request, response };
}

/** A `POST /api/v1/captures` body as the SDK helper sends it, for a chat exchange unless overridden. */
export function captureBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { request, response } = chatExchange();
  return {
    upstream: 'openai',
    api: 'openai',
    method: 'POST',
    path: '/v1/chat/completions',
    streamed: false,
    outcome: 'complete',
    endReason: 'done',
    httpStatus: 200,
    requestHeaders: { 'content-type': 'application/json' },
    requestBody: JSON.stringify(request),
    responseHeaders: { 'content-type': 'application/json', 'x-request-id': 'req_1' },
    responseBody: JSON.stringify(response),
    startedAt: new Date().toISOString(),
    firstByteMs: 120.5,
    durationMs: 340.25,
    keyHash: createHash('sha256').update('sk-test-key').digest('hex'),
    ...overrides,
  };
}
