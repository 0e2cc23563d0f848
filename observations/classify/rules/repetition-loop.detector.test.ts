// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { partText } from '../../transcript.schema.ts';
import { detect } from './repetition-loop.detector.ts';
import { exchange } from './transcript-builders.ts';

describe('repetition loop detector', () => {
  test('a phrase looping until the reply is cut off: repeats, coverage and an exact span', () => {
    const intro = 'Here is a summary of the key points about photosynthesis in plants. ';
    const unit = 'The light reactions happen in the thylakoid membrane. ';
    const reply = intro + unit.repeat(9) + 'The light reactions hap';
    const t = exchange(reply);
    const findings = detect(t);
    assert.equal(findings.length, 1);
    const f = findings[0]!;
    assert.equal(f.code, 'repetition_loop');
    assert.equal(f.measures.repeats, 9);
    assert.equal(f.measures.unitTokens, 9);
    assert.equal(f.measures.atEnd, 1);
    assert.ok((f.measures.coverage as number) > 0.85, `coverage ${f.measures.coverage}`);
    assert.match(f.explanation, /9-token phrase 'The light reactions happen in the thylakoid membrane\.' repeats 9 times in a row, up to the end/);
    assert.ok(f.confidence > 0.9, `confidence ${f.confidence}`);
    assert.equal(f.span!.charStart, intro.length);
    assert.equal(f.span!.charEnd, reply.length);
    assert.equal(f.span!.quote, partText(t.messages[1]!.parts[0]!)!.slice(f.span!.charStart, f.span!.charEnd));
    assert.equal(f.span!.messageId, 'm2');
  });

  test('a word stuck on itself ("the the the") fires with low confidence; more repeats, more confidence', () => {
    const [three] = detect(exchange('I think the the the answer is four.'));
    assert.equal(three?.code, 'repetition_loop');
    assert.equal(three.measures.repeats, 3);
    assert.equal(three.span!.quote, 'the the the');
    const [many] = detect(exchange('I think the the the the the the the the answer is four.'));
    assert.ok(many!.confidence > three.confidence);
  });

  test('repeated lines (a list whose items cycle) are a loop with the smallest period', () => {
    const reply = 'Options:\n' + '- Restart the router\n- Check the cable\n'.repeat(4);
    const [f] = detect(exchange(reply));
    assert.equal(f?.measures.repeats, 4);
    assert.equal(f.measures.unitTokens, 8);
    assert.match(f.explanation, /'- Restart the router - Check the cable'/);
  });

  test('a character pattern looping inside one word', () => {
    const findings = detect(exchange('Sure! ' + 'ab'.repeat(20)));
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.code, 'character_loop');
    assert.equal(findings[0]!.measures.repeats, 20);
    assert.equal(findings[0]!.span!.quote, 'ab'.repeat(20));
  });

  test('CJK text looping character by character', () => {
    const [f] = detect(exchange('答案是' + '我'.repeat(12)));
    assert.equal(f?.code, 'repetition_loop');
    assert.equal(f.measures.repeats, 12);
  });

  test('not a loop: a poem whose refrain returns after every stanza', () => {
    const poem = [
      'The tide comes in across the sand,',
      'it smooths the footprints from the land.',
      'And still the river runs to sea.',
      '',
      'The gulls cry out above the pier,',
      'they call the morning, sharp and clear.',
      'And still the river runs to sea.',
      '',
      'The lamps go dark along the quay,',
      'the boats return, and so will we.',
      'And still the river runs to sea.',
      '',
      'And still the river runs to sea.',
    ].join('\n');
    assert.deepEqual(detect(exchange(poem)), []);
  });

  test('not a loop: repetition in code blocks and tables, "yes, yes, yes", and ordinary prose', () => {
    const reply = [
      'You can print it three times:',
      '```python',
      'print("hello world")',
      'print("hello world")',
      'print("hello world")',
      'print("hello world")',
      '```',
      '| Feature | A | B | C |',
      '| --- | --- | --- | --- |',
      '| Supported | yes | yes | yes |',
      '| Supported | yes | yes | yes |',
      '| Supported | yes | yes | yes |',
      'Location, location, location: it matters. Yes, yes, yes! 1 1 1 1 1 1.',
    ].join('\n');
    assert.deepEqual(detect(exchange(reply)), []);
  });

  test('reads only assistant text: a looping user message is not a finding', () => {
    assert.deepEqual(detect(exchange('Fine.', 'spam spam spam spam spam spam')), []);
  });
});
