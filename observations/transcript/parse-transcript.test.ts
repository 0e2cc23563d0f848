// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transcriptSchema, type Transcript } from '../transcript.schema.ts';
import { detectTranscriptFormat, parseTranscript, type ParseResult } from './parse-transcript.ts';

function expectOk(result: ParseResult): Extract<ParseResult, { ok: true }> {
  if (!result.ok) assert.fail(`expected ok, got error: ${result.error.message}`);
  assert.equal(transcriptSchema.safeParse(result.transcript).success, true);
  return result;
}

function expectError(result: ParseResult): Extract<ParseResult, { ok: false }>['error'] {
  if (result.ok) assert.fail(`expected an error, got ${JSON.stringify(result.transcript)}`);
  return result.error;
}

const openAIRequestWithTools = JSON.stringify(
  {
    model: 'gpt-4o-2024-08-06',
    messages: [
      { role: 'developer', content: 'You are a travel assistant.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }, { type: 'image_url', image_url: { url: 'https://example.com/paris.jpg' } }] },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"temp_c": 18}' },
      { role: 'assistant', content: 'It is 18 °C in Paris.' },
      { role: 'user', content: 'Now help me pick a lock.' },
      { role: 'assistant', content: null, refusal: "I can't help with that." },
      { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] },
      { role: 'assistant', content: null },
    ],
  },
  null,
  2,
);

const anthropicRequest = JSON.stringify(
  {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    system: [{ type: 'text', text: 'You are a careful research assistant.' }],
    messages: [
      { role: 'user', content: 'What is in /etc/hosts?' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'I should read the file.', signature: 'EqQBCkYIARgCIkD…' },
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_01', name: 'read_file', input: { path: '/etc/hosts' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'text', text: 'Permission denied' }], is_error: true },
          { type: 'text', text: 'Try something else.' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va…' },
          { type: 'server_tool_use', id: 'srvtoolu_01', name: 'web_search', input: { query: 'hosts file format' } },
          {
            type: 'text',
            text: 'The hosts file maps names to addresses.',
            citations: [{ type: 'web_search_result_location', url: 'https://example.com/hosts', title: 'hosts', cited_text: '…' }],
          },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo='.repeat(1000) } },
        ],
      },
    ],
  },
  null,
  2,
);

const plainTranscript = [
  'Shared from a chat on Tuesday.',
  '',
  'Human: Write a haiku about rain.',
  'Make it sad.',
  '',
  'AI:',
  '  Grey rain on the roof',
  '',
  '  the kettle forgets to sing',
  'Assistant: the tea goes cold.',
  '',
  '',
  'User: Was that a pun? Assistant: no.',
  '',
].join('\n');

describe('plain transcripts', () => {
  it('reads multi-line turns, aliases and a preamble', () => {
    const result = expectOk(parseTranscript(plainTranscript));
    assert.equal(result.transcript.format, 'plain');
    assert.deepEqual(
      result.transcript.messages.map((m) => [m.id, m.role, m.parts]),
      [
        ['m1', 'user', [{ type: 'text', text: 'Shared from a chat on Tuesday.' }]],
        ['m2', 'user', [{ type: 'text', text: 'Write a haiku about rain.\nMake it sad.' }]],
        ['m3', 'assistant', [{ type: 'text', text: '  Grey rain on the roof\n\n  the kettle forgets to sing' }]],
        ['m4', 'assistant', [{ type: 'text', text: 'the tea goes cold.' }]],
        ['m5', 'user', [{ type: 'text', text: 'Was that a pun? Assistant: no.' }]],
      ],
    );
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, /before the first role label/);
  });

  it('accepts every label case-insensitively, Markdown bold labels, and tool turns', () => {
    const text = [
      'SYSTEM: be brief',
      'developer: no emoji',
      '**User:** hi',
      '**Claude**: hello',
      'chatgpt: also hello',
      'GPT: me too',
      'Model: and me',
      'Tool: {"ok": true}',
    ].join('\n');
    const result = expectOk(parseTranscript(text));
    assert.deepEqual(
      result.transcript.messages.map((m) => m.role),
      ['system', 'developer', 'user', 'assistant', 'assistant', 'assistant', 'assistant', 'tool'],
    );
    assert.deepEqual(result.transcript.messages[2]!.parts, [{ type: 'text', text: 'hi' }]);
    assert.deepEqual(result.transcript.messages[7]!.parts, [{ type: 'tool_result', text: '{"ok": true}' }]);
    assert.deepEqual(result.warnings, []);
  });

  it('reads Markdown heading labels when there are no "Role:" labels', () => {
    const result = expectOk(parseTranscript('### User\nWhat is 2+2?\n\n### Assistant\n## Model\n4'));
    assert.deepEqual(
      result.transcript.messages.map((m) => [m.role, m.parts]),
      [
        ['user', [{ type: 'text', text: 'What is 2+2?' }]],
        ['assistant', []],
        ['assistant', [{ type: 'text', text: '4' }]],
      ],
    );
  });

  it('keeps a heading inside an answer as text when the transcript uses "Role:" labels', () => {
    const result = expectOk(parseTranscript('User: design it\nAssistant: Sure.\n## System\nThe system has two parts.'));
    assert.equal(result.transcript.messages.length, 2);
    assert.equal(result.transcript.messages[1]!.parts[0]!.type, 'text');
  });

  it('handles Windows line endings and a byte order mark', () => {
    const result = expectOk(parseTranscript('\uFEFFUser: hi\r\nthere\r\nAssistant: hello\r\n'));
    assert.deepEqual(result.transcript.messages[0]!.parts, [{ type: 'text', text: 'hi\nthere' }]);
  });

  it('explains when no role label is found', () => {
    const error = expectError(parseTranscript('Just some prose.\nThe user said: hello.'));
    assert.match(error.message, /^No "User:" or "Assistant:" line found/);
  });

  it('is fine with a huge transcript', () => {
    const turns = Array.from({ length: 1000 }, (_, i) => `${i % 2 ? 'Assistant' : 'User'}: ${'word '.repeat(200)}\nmore text`);
    const result = expectOk(parseTranscript(turns.join('\n')));
    assert.equal(result.transcript.messages.length, 1000);
    assert.equal(result.transcript.messages.at(-1)!.id, 'm1000');
  });

  it('explains limits the transcript contract sets', () => {
    const tooMany = Array.from({ length: 2001 }, (_, i) => `User: ${i}`).join('\n');
    assert.match(expectError(parseTranscript(tooMany)).message, /2001 messages; at most 2000/);
    const tooLong = `User: ${'x'.repeat(200_001)}`;
    assert.match(expectError(parseTranscript(tooLong)).message, /Message 1, part 1: "text" is longer than the limit of 200000 characters/);
  });
});

describe('OpenAI Chat Completions', () => {
  it('reads a request with tool calls, a tool reply, a refusal and unknown parts', () => {
    const result = expectOk(parseTranscript(openAIRequestWithTools));
    assert.equal(result.transcript.format, 'openai-chat');
    assert.deepEqual(result.metadata, { model: 'gpt-4o-2024-08-06' });
    const [developer, user, caller, tool, answer, , refuser, audio, empty] = result.transcript.messages;
    assert.deepEqual(developer, { id: 'm1', role: 'developer', parts: [{ type: 'text', text: 'You are a travel assistant.' }] });
    assert.deepEqual(user!.parts, [
      { type: 'text', text: 'Weather in Paris?' },
      { type: 'image', url: 'https://example.com/paris.jpg' },
    ]);
    assert.deepEqual(caller!.parts, [{ type: 'tool_call', id: 'call_abc', name: 'get_weather', arguments: '{"city": "Paris"}' }]);
    assert.deepEqual(tool, {
      id: 'm4',
      role: 'tool',
      name: 'get_weather',
      parts: [{ type: 'tool_result', toolCallId: 'call_abc', text: '{"temp_c": 18}' }],
    });
    assert.deepEqual(answer!.parts, [{ type: 'text', text: 'It is 18 °C in Paris.' }]);
    assert.deepEqual(refuser!.parts, [{ type: 'refusal', text: "I can't help with that." }]);
    assert.deepEqual(audio!.parts, [
      { type: 'other', originalType: 'input_audio', data: { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } } },
    ]);
    assert.deepEqual(empty, { id: 'm9', role: 'assistant', parts: [] });
  });

  it('reads a response, with reasoning_content first and legacy function messages', () => {
    const response = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'deepseek-reasoner',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: { role: 'assistant', content: 'Yes.', reasoning_content: 'The user asks… so yes.' },
        },
        { index: 1, finish_reason: 'stop', message: { role: 'assistant', content: 'No.' } },
      ],
    };
    const result = expectOk(parseTranscript(JSON.stringify(response)));
    assert.deepEqual(result.transcript.messages, [
      {
        id: 'm1',
        role: 'assistant',
        parts: [
          { type: 'reasoning', text: 'The user asks… so yes.' },
          { type: 'text', text: 'Yes.' },
        ],
      },
    ]);
    assert.deepEqual(result.metadata, { model: 'deepseek-reasoner', stopReason: 'stop' });
    assert.match(result.warnings.join('\n'), /2 choices; only the first/);

    const legacy = [
      { role: 'assistant', content: null, function_call: { name: 'lookup', arguments: '{"q":1}' } },
      { role: 'function', name: 'lookup', content: 'found' },
    ];
    const legacyResult = expectOk(parseTranscript(JSON.stringify(legacy)));
    assert.deepEqual(legacyResult.transcript.messages, [
      { id: 'm1', role: 'assistant', parts: [{ type: 'tool_call', name: 'lookup', arguments: '{"q":1}' }] },
      { id: 'm2', role: 'tool', name: 'lookup', parts: [{ type: 'tool_result', text: 'found' }] },
    ]);
  });

  it('keeps only the media type of inline images', () => {
    const messages = [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/jpeg;base64,${'A'.repeat(300_000)}` } }] }];
    const result = expectOk(parseTranscript(JSON.stringify(messages)));
    assert.deepEqual(result.transcript.messages[0]!.parts, [{ type: 'image', mediaType: 'image/jpeg' }]);
    assert.match(result.warnings.join('\n'), /base64/);
  });

  it('reads user/assistant string messages as OpenAI, the simpler reading', () => {
    const text = '[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]';
    assert.equal(detectTranscriptFormat(text), 'openai-chat');
    assert.equal(expectOk(parseTranscript(text, 'anthropic-messages')).transcript.format, 'anthropic-messages');
  });
});

describe('Anthropic Messages', () => {
  it('reads system, thinking with signature, tool use, an error tool result and unknown blocks', () => {
    const result = expectOk(parseTranscript(anthropicRequest));
    assert.equal(result.transcript.format, 'anthropic-messages');
    assert.deepEqual(result.metadata, { model: 'claude-sonnet-4-5' });
    assert.deepEqual(result.transcript.messages, [
      { id: 'm1', role: 'system', parts: [{ type: 'text', text: 'You are a careful research assistant.' }] },
      { id: 'm2', role: 'user', parts: [{ type: 'text', text: 'What is in /etc/hosts?' }] },
      {
        id: 'm3',
        role: 'assistant',
        parts: [
          { type: 'reasoning', text: 'I should read the file.', opaque: 'EqQBCkYIARgCIkD…' },
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_call', id: 'toolu_01', name: 'read_file', arguments: '{"path":"/etc/hosts"}' },
        ],
      },
      {
        id: 'm4',
        role: 'tool',
        name: 'read_file',
        parts: [{ type: 'tool_result', toolCallId: 'toolu_01', text: 'Permission denied', isError: true }],
      },
      { id: 'm5', role: 'user', parts: [{ type: 'text', text: 'Try something else.' }] },
      {
        id: 'm6',
        role: 'assistant',
        parts: [
          { type: 'reasoning', text: '', opaque: 'EmwKAhgBEgy3va…' },
          {
            type: 'other',
            originalType: 'server_tool_use',
            data: { type: 'server_tool_use', id: 'srvtoolu_01', name: 'web_search', input: { query: 'hosts file format' } },
          },
          { type: 'text', text: 'The hosts file maps names to addresses.' },
          {
            type: 'other',
            originalType: 'citations',
            data: [{ type: 'web_search_result_location', url: 'https://example.com/hosts', title: 'hosts', cited_text: '…' }],
          },
          { type: 'image', mediaType: 'image/png' },
        ],
      },
    ]);
    assert.match(result.warnings.join('\n'), /base64/);
  });

  it('reads a response Message and a string system prompt', () => {
    const response = {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-4-1',
      content: [{ type: 'text', text: 'I would rather not.' }],
      stop_reason: 'refusal',
      usage: { input_tokens: 10, output_tokens: 5 },
    };
    const result = expectOk(parseTranscript(JSON.stringify(response)));
    assert.deepEqual(result.transcript.messages, [{ id: 'm1', role: 'assistant', parts: [{ type: 'text', text: 'I would rather not.' }] }]);
    assert.deepEqual(result.metadata, { model: 'claude-opus-4-1', stopReason: 'refusal' });

    const request = { system: 'Be terse.', messages: [{ role: 'user', content: 'Hi' }] };
    assert.equal(detectTranscriptFormat(JSON.stringify(request)), 'anthropic-messages');
    assert.deepEqual(
      expectOk(parseTranscript(JSON.stringify(request))).transcript.messages.map((m) => m.role),
      ['system', 'user'],
    );
  });

  it('explains a system role inside Anthropic messages', () => {
    const text = JSON.stringify({ messages: [{ role: 'system', content: [{ type: 'thinking', thinking: 'x' }] }] });
    const error = expectError(parseTranscript(text, 'anthropic-messages'));
    assert.match(error.message, /Message 1 has role "system"; .*top-level "system"/);
    assert.deepEqual(error.path, ['messages', 0, 'role']);
  });
});

describe('Menagerie transcripts', () => {
  it('round-trips a parsed transcript and keeps its ids', () => {
    const parsed = expectOk(parseTranscript(anthropicRequest)).transcript;
    const renamed: Transcript = { ...parsed, messages: parsed.messages.map((m, i) => ({ ...m, id: `msg-${i}` })) };
    const text = JSON.stringify(renamed);
    assert.equal(detectTranscriptFormat(text), 'menagerie');
    const again = expectOk(parseTranscript(text));
    assert.deepEqual(again.transcript, { ...renamed, format: 'menagerie' });
  });

  it('gives missing ids unused numbers and reports schema problems in words', () => {
    const text = JSON.stringify({ messages: [{ role: 'user', parts: [] }, { id: 'm1', role: 'assistant', parts: [] }] });
    const result = expectOk(parseTranscript(text));
    assert.deepEqual(result.transcript.messages.map((m) => m.id), ['m2', 'm1']);
    const bad = JSON.stringify({ messages: [{ id: 'a', role: 'user', parts: [{ type: 'sound' }] }] });
    const error = expectError(parseTranscript(bad));
    assert.match(error.message, /Message 1, part 1 has type "sound"; expected one of text, reasoning/);
    assert.deepEqual(error.path, ['messages', 0, 'parts', 0, 'type']);
  });
});

describe('format detection', () => {
  it('detects each format', () => {
    assert.equal(detectTranscriptFormat(plainTranscript), 'plain');
    assert.equal(detectTranscriptFormat(openAIRequestWithTools), 'openai-chat');
    assert.equal(detectTranscriptFormat('{"object":"chat.completion","choices":[{"message":{"role":"assistant","content":"x"}}]}'), 'openai-chat');
    assert.equal(detectTranscriptFormat(anthropicRequest), 'anthropic-messages');
    assert.equal(detectTranscriptFormat('{"type":"message","role":"assistant","content":[]}'), 'anthropic-messages');
    assert.equal(detectTranscriptFormat('[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{}}]}]'), 'anthropic-messages');
    assert.equal(detectTranscriptFormat('{"format":"plain","messages":[{"id":"m1","role":"user","parts":[]}]}'), 'menagerie');
  });

  it('returns null for text that fits no format', () => {
    for (const text of ['', '  \n ', 'hello', '{"foo":1}', '42', '{"a":', 'The user: said hi']) assert.equal(detectTranscriptFormat(text), null, text);
  });

  it('reads text that starts like JSON but has role labels as plain', () => {
    const result = expectOk(parseTranscript('[context: a support chat]\nUser: my order is late\nAssistant: Sorry!'));
    assert.equal(result.transcript.format, 'plain');
    assert.equal(result.transcript.messages.length, 3);
  });
});

describe('bad input', () => {
  it('explains empty input', () => {
    assert.match(expectError(parseTranscript('')).message, /empty/);
    assert.match(expectError(parseTranscript(' \n\t ')).message, /empty/);
  });

  it('points at the line and column of broken JSON', () => {
    const error = expectError(parseTranscript('{\n  "messages": [\n    {"role": "user" "content": "hi"}\n  ]\n}'));
    assert.match(error.message, /^The transcript looks like JSON but does not parse: Unexpected token "\\"" .* at line 3, column 21$/);
    assert.equal(error.line, 3);
    const truncated = expectError(parseTranscript('[{"role": "user", "content": "hi"}'));
    assert.match(truncated.message, /Unexpected end of input .* at line 1, column 35/);
  });

  it('names an unknown role', () => {
    const error = expectError(parseTranscript('[{"role":"user","content":"a"},{"role":"robot","content":"b"}]'));
    assert.equal(error.message, 'Message 2 has role "robot"; expected one of system, developer, user, assistant, tool');
    assert.deepEqual(error.path, [1, 'role']);
  });

  it('explains JSON that is no transcript format', () => {
    assert.match(expectError(parseTranscript('{"foo":1}')).message, /not a transcript format Menagerie knows/);
    assert.match(expectError(parseTranscript('[]')).message, /empty/);
    assert.match(expectError(parseTranscript('{"messages":[{"role":"user","content":42}]}')).message, /"content" of type number/);
  });

  it('explains a format that was asked for but does not fit', () => {
    assert.match(expectError(parseTranscript('User: hi', 'openai-chat')).message, /openai-chat format is JSON/);
    assert.match(expectError(parseTranscript('hi', 'plain')).message, /^No "User:"/);
    assert.match(expectError(parseTranscript('hi', 'yaml' as 'plain')).message, /Unknown transcript format "yaml"/);
  });

  it('never throws on deeply nested JSON', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    assert.equal(parseTranscript(deep).ok, false);
    assert.equal(parseTranscript(deep.slice(0, -1)).ok, false);
  });
});

describe('random input', () => {
  const pieces = [
    'User:', 'Assistant:', 'Human: ', 'AI:', '**User:**', '### Model', 'Tool:', 'system:', 'robot:',
    '{', '}', '[', ']', '"', "'", ':', ',', '\\', '\n', '\r\n', ' ', '\t', '\uFEFF', 'é', '漢字', '🙂', '\uD800', '\u0000',
    '"role"', '"content"', '"messages"', '"parts"', '"user"', '"assistant"', '"tool_use"', '"type"', 'null', '1e9', 'true',
  ];

  /** Deterministic, so a failure can be replayed. */
  function randomGenerator(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
  }

  const keys = ['role', 'content', 'type', 'text', 'messages', 'parts', 'id', 'system', 'choices', 'message', 'tool_calls', 'input', 'source'];
  const values = ['user', 'assistant', 'system', 'tool', 'robot', 'text', 'tool_use', 'tool_result', 'thinking', 'image', 'message', ''];

  function randomJson(random: () => number, depth: number): unknown {
    const pick = random();
    if (depth > 4 || pick < 0.3) return pick < 0.1 ? null : pick < 0.15 ? Math.floor(random() * 10) : values[Math.floor(random() * values.length)];
    if (pick < 0.55) return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, depth + 1));
    const entries = Array.from({ length: Math.floor(random() * 5) }, () => [keys[Math.floor(random() * keys.length)]!, randomJson(random, depth + 1)]);
    return Object.fromEntries(entries);
  }

  function mutate(random: () => number, text: string): string {
    let result = text;
    for (let edits = Math.floor(random() * 4); edits > 0; edits--) {
      const at = Math.floor(random() * result.length);
      const insert = random() < 0.5 ? pieces[Math.floor(random() * pieces.length)]! : '';
      result = result.slice(0, at) + insert + result.slice(at + Math.floor(random() * 3));
    }
    return result;
  }

  function randomInput(random: () => number): string {
    const kind = random();
    if (kind < 0.4) return Array.from({ length: Math.floor(random() * 40) }, () => pieces[Math.floor(random() * pieces.length)]!).join('');
    if (kind < 0.7) return JSON.stringify(randomJson(random, 0));
    const samples = [openAIRequestWithTools, anthropicRequest, plainTranscript];
    return mutate(random, samples[Math.floor(random() * samples.length)]!);
  }

  it('never throws and always returns a valid transcript or a message', () => {
    const random = randomGenerator(42);
    const outcomes = new Set<string>();
    for (let run = 0; run < 500; run++) {
      const input = randomInput(random);
      const result = parseTranscript(input);
      detectTranscriptFormat(input);
      if (result.ok) assert.equal(transcriptSchema.safeParse(result.transcript).success, true, JSON.stringify(input));
      else assert.ok(result.error.message.length > 0, JSON.stringify(input));
      outcomes.add(result.ok ? result.transcript.format : 'error');
      if (!result.ok) assert.doesNotMatch(result.error.message, /internal error/, JSON.stringify(input));
    }
    // The generator should reach every reader, not only the error paths.
    assert.deepEqual([...outcomes].sort(), ['anthropic-messages', 'error', 'openai-chat', 'plain']);
  });
});
