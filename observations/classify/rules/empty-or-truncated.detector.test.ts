// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detect } from './empty-or-truncated.detector.ts';
import { conversation, exchange } from './transcript-builders.ts';

describe('empty or truncated output detector', () => {
  test('an empty reply, a whitespace reply, and a reasoning-only reply', () => {
    const [empty] = detect(exchange(''));
    assert.equal(empty?.code, 'empty_output');
    assert.equal(empty.span, null);
    assert.equal(empty.messageId, 'm2');
    assert.equal(empty.confidence, 0.95);
    assert.match(detect(exchange('  \n '))[0]!.explanation, /whitespace only/);
    const reasoningOnly = detect(exchange([{ type: 'reasoning', text: 'Let me think about this.' }]));
    assert.equal(reasoningOnly[0]?.code, 'empty_output');
    assert.equal(reasoningOnly[0]?.confidence, 0.8);
  });

  test('the stop reason says length: strongest evidence, span at the last sentence', () => {
    const reply = 'The first point is settled. The second point needs more work because the data';
    const [f] = detect(exchange(reply), { stopReason: 'max_tokens' });
    assert.equal(f?.code, 'stop_reason_length');
    assert.match(f.explanation, /stop reason is 'max_tokens'/);
    assert.match(f.explanation, /ends on 'data'|without closing punctuation/);
    assert.equal(f.span!.quote, 'The second point needs more work because the data');
    assert.ok(f.confidence > 0.95);
  });

  test('the stop reason applies only to the last assistant message', () => {
    const t = conversation([
      ['user', 'Hi'],
      ['assistant', 'Hello! How can I help?'],
      ['user', 'Tell me a fact.'],
      ['assistant', 'Octopuses have three hearts.'],
    ]);
    const findings = detect(t, { stopReason: 'length' });
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.messageId, 'm4');
    assert.deepEqual(detect(t, { stopReason: 'stop' }), []);
    assert.deepEqual(detect(t, { stopReason: 'end_turn' }), []);
  });

  test('an unclosed code fence', () => {
    const reply = 'Here is the script:\n```python\nimport os\nfor name in os.listdir("."):\n    print(name';
    const [f] = detect(exchange(reply));
    assert.equal(f?.code, 'unclosed_code_fence');
    assert.equal(f.span!.charStart, reply.indexOf('```'));
    assert.match(f.explanation, /opened at character 20 is never closed \(3 lines after it\)/);
  });

  test('ending mid-sentence: on an article or a comma (strong) or a long line without punctuation (weak)', () => {
    const [article] = detect(exchange('To install it, open the terminal and run the'));
    assert.equal(article?.code, 'ends_mid_sentence');
    assert.equal(article.confidence, 0.7);
    const [comma] = detect(exchange('We visited Rome, Florence,'));
    assert.equal(comma?.confidence, 0.7);
    const [long] = detect(exchange('The committee met on Tuesday and agreed on a broad plan for the coming season'));
    assert.equal(long?.confidence, 0.4);
  });

  test('not truncated: natural endings without a full stop, short answers, lists, code, URLs, emoji, tool calls', () => {
    for (const reply of [
      'Paris',
      'The answer is 42',
      'Steps:\n1. Open the settings\n2. Choose the network tab\n- Restart the router afterwards',
      '## Summary',
      'Done! 🎉',
      'See https://example.org/docs/install',
      '```js\nconsole.log(1)\n```',
      'It works (mostly)',
      'Thanks for asking!',
    ]) {
      assert.deepEqual(detect(exchange(reply)), [], reply);
    }
    const toolCall = conversation([
      ['user', 'List the files.'],
      ['assistant', [{ type: 'text', text: 'Let me look at the' }, { type: 'tool_call', name: 'ls', arguments: '{}' }]],
    ]);
    assert.deepEqual(detect(toolCall), []);
  });
});
