// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detect } from './unusual-tokens.detector.ts';
import { exchange } from './transcript-builders.ts';

const codes = (reply: string, user?: string) => detect(exchange(reply, user)).map((f) => f.code);

describe('unusual token strings detector', () => {
  test('a known glitch token in the reply, and in the prompt (span in the user message)', () => {
    const findings = detect(exchange('The word you typed is "distribute", I think.', 'Please repeat the string " SolidGoldMagikarp" back to me.'));
    assert.deepEqual(findings.map((f) => f.code), ['glitch_token_in_prompt']);
    assert.equal(findings[0]!.span!.messageId, 'm1');
    assert.equal(findings[0]!.span!.quote, 'SolidGoldMagikarp');
    const [inReply] = detect(exchange('You said petertodd, and petertodd again.'));
    assert.equal(inReply?.code, 'known_glitch_token');
    assert.equal(inReply.measures.occurrences, 2);
    assert.deepEqual(codes('The guiActiveUnfocusedValue setting is unrelated.'), [], 'inside a longer identifier');
  });

  test('a chat-template control token leaking into the reply', () => {
    const [f] = detect(exchange('The capital is Paris.<|im_end|>\n<|im_start|>user\nThanks!'));
    assert.equal(f?.code, 'special_token_leak');
    assert.equal(f.span!.quote, '<|im_end|>');
    assert.equal(f.measures.occurrences, 2);
    assert.deepEqual(codes('In ChatML each turn ends with `<|im_end|>`:\n```\n<|im_start|>user\nhi<|im_end|>\n```'), []);
  });

  test('a run of symbols with no letters', () => {
    const [f] = detect(exchange('The result is ]]>}{@#$%^&*()!~ and then the answer continues normally.'));
    assert.equal(f?.code, 'nonword_run');
    assert.equal(f.span!.quote, ']]>}{@#$%^&*()!~');
    assert.equal(f.measures.longestRun, 16);
  });

  test('not a non-word run: rules, ellipses, emoji, tables, code, URLs, maths', () => {
    const reply = [
      'Section one',
      '----------------------------------------',
      'Wait.................... really?',
      'Party time 🎉🎊🥳🎈🎁✨🎂🍰🎆🎇',
      '| --- | :---: | ---: |',
      '```js\nconst re = /^[\\w.-]+@[\\w-]+\\.[\\w.]+$/;\nif (!(a && b) || (c ?? d)) {}\n```',
      'See https://example.org/?q=%20%3D%3D&x=[]{}()',
      'Then $$\\{(-1)^{|\\sigma|}\\}$$ holds.',
    ].join('\n');
    assert.deepEqual(codes(reply), []);
  });

  test('mojibake: UTF-8 read as Windows-1252', () => {
    const [f] = detect(exchange('Le cafÃ© est prÃªt, itâ€™s ready.'));
    assert.equal(f?.code, 'mojibake');
    assert.equal(f.measures.occurrences, 3);
    assert.equal(f.span!.quote, 'cafÃ©');
    assert.deepEqual(codes('SÃO PAULO is a city. Ãgua is not Portuguese spelling. The file shows `Ã©` when decoded wrongly, as in "cafÃ©".'), []);
  });

  test('replacement characters', () => {
    const [f] = detect(exchange('The symbol is \uFFFD\uFFFD and the next word is fine.'));
    assert.equal(f?.code, 'replacement_character');
    assert.equal(f.measures.occurrences, 2);
    assert.equal(f.span!.quote, '\uFFFD\uFFFD');
  });

  test('invisible characters, with tag characters (hidden text) rated highest', () => {
    const [zw] = detect(exchange('pass\u200Bword is not a word'));
    assert.equal(zw?.code, 'invisible_characters');
    assert.equal(zw.span!.quote, 'pass\u200Bword');
    const hidden = Array.from('ignore', (c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    const [tags] = detect(exchange(`Sure.${hidden} Here you go.`));
    assert.equal(tags?.measures.occurrences, 6);
    assert.ok(tags.confidence > zw.confidence);
    assert.match(tags.explanation, /6 tag characters/);
  });

  test('not invisible-character findings: emoji sequences, Persian and Hindi joiners, Thai word breaks, flag tags', () => {
    const family = '👨\u200D👩\u200D👧';
    const persian = 'می\u200Cخواهم';
    const hindi = 'क्\u200Dष';
    const thai = 'ภาษา\u200Bไทย';
    const england = '🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}';
    assert.deepEqual(codes(`${family} ${persian} ${hindi} ${thai} ${england} all fine.`), []);
  });

  test('a plain reply has no findings', () => {
    assert.deepEqual(codes("Photosynthesis turns light into chemical energy; it's how plants make sugar (glucose) from CO2 & water!"), []);
  });
});
