// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detect } from './language-switch.detector.ts';
import { identifyLanguage } from './language-identify.ts';
import { conversation, exchange } from './transcript-builders.ts';

describe('language identification', () => {
  const samples: Array<[string, string]> = [
    ['en', 'The cat is sitting in the house and it was very happy about that.'],
    ['fr', 'Le chat est assis dans la maison et il était très content.'],
    ['de', 'Die Katze sitzt im Haus und sie war sehr glücklich darüber.'],
    ['es', 'El gato está sentado en la casa y estaba muy feliz por eso.'],
    ['it', 'Il gatto è seduto nella casa ed era molto felice di questo.'],
    ['pt', 'O gato está sentado na casa e ficou muito feliz com isso.'],
    ['nl', 'De kat zit in het huis en hij was er heel blij mee.'],
    ['zh', '这个问题的答案其实很简单。'],
    ['ja', 'これは日本語で書かれた文章です。'],
    ['Cyrl', 'Это предложение написано на русском языке.'],
  ];
  for (const [language, text] of samples) {
    test(`identifies ${language}`, () => assert.equal(identifyLanguage(text)?.language, language));
  }

  test('abstains on thin evidence: short phrases and lists of names', () => {
    assert.equal(identifyLanguage('Bon appétit!'), null);
    assert.equal(identifyLanguage('Paris Berlin Madrid Lisbon Rome'), null);
    assert.equal(identifyLanguage('東京'), null);
  });
});

describe('language switch detector', () => {
  test('an English reply that continues in French: from, to, offset and span', () => {
    const english = 'The Eiffel Tower was built for the 1889 World Fair in Paris. It was designed by the company of Gustave Eiffel. ';
    const french = 'La tour mesure environ trois cents mètres et elle est très populaire auprès des touristes.';
    const findings = detect(exchange(english + french));
    assert.equal(findings.length, 1);
    const f = findings[0]!;
    assert.equal(f.code, 'language_switch');
    assert.equal(f.measures.from, 'en');
    assert.equal(f.measures.to, 'fr');
    assert.equal(f.measures.offset, english.length);
    assert.equal(f.span!.charStart, english.length);
    assert.equal(f.span!.quote, french);
    assert.match(f.explanation, /switches from English \(en\) to French \(fr\) at character 111 for 15 words/);
    assert.ok(f.confidence > 0.6 && f.confidence <= 1, `confidence ${f.confidence}`);
  });

  test('a switch into Chinese in the middle of a sentence, and the return to English', () => {
    const reply = 'To solve this we first compute the derivative of the function, 然后我们需要找到导数等于零的点，这样就可以得到极值。 After that we check the second derivative to see which points are maxima.';
    const [f] = detect(exchange(reply));
    assert.equal(f?.measures.to, 'zh');
    assert.equal(f.span!.quote.startsWith('然后'), true);
    assert.match(f.explanation, /then returns to English at character/);
  });

  test('a reasoning trace that switches language is reported as such', () => {
    const t = conversation([
      ['user', 'What is 17 times 23?'],
      ['assistant', [
        { type: 'reasoning', text: 'I need to multiply the two numbers and check the result. Я умножаю семнадцать на двадцать три и получаю триста девяносто один.' },
        { type: 'text', text: '17 times 23 is 391.' },
      ]],
    ]);
    const [f] = detect(t);
    assert.equal(f?.measures.inReasoning, 1);
    assert.equal(f.measures.to, 'Cyrl');
    assert.equal(f.span!.partIndex, 0);
    assert.match(f.explanation, /^The reasoning trace switches/);
  });

  test('a bigger switch is more confident than a small one', () => {
    const english = 'The museum opens at nine in the morning and it is closed on Mondays for the whole year. ';
    const [short] = detect(exchange(english + 'Le musée est fermé tous les lundis.'));
    const [long] = detect(exchange(english + 'Le musée est fermé le lundi et il est ouvert tous les autres jours de la semaine, avec une nocturne le jeudi pour les visiteurs.'));
    assert.ok(short && long && long.confidence > short.confidence, `${short?.confidence} < ${long?.confidence}`);
  });

  test('not a switch: a bilingual answer that quotes a French phrase or uses a short one', () => {
    const reply = [
      'The phrase "je ne sais quoi, c\'est une qualité que l\'on ne peut pas nommer" is often borrowed into English.',
      'As the French say, c\'est la vie. It describes a quality that is hard to name, and it is used in English too.',
      '> Le chat est assis dans la maison et il était très content de nous voir.',
      'That line is from a children\'s book that many learners of the language read in school.',
    ].join('\n');
    assert.deepEqual(detect(exchange(reply)), []);
  });

  test('not a switch: code blocks, inline code, URLs and tables in another language', () => {
    const reply = [
      'Here is an example of the function in a German codebase, which you can adapt to your needs:',
      '```python',
      '# Dies ist ein Kommentar und er ist auf Deutsch geschrieben, weil das Team in Berlin sitzt',
      'print("hola, esto es una cadena de texto en español que no cuenta")',
      '```',
      'See https://example.org/le-chat-est-assis-dans-la-maison-et-il-est-content for the details, or `la fonction est appelée avec un argument et elle renvoie une valeur`.',
      '| Terme | Définition de la chose et de son usage dans la vie de tous les jours |',
      'That prints the word and exits, which is all the example needs to do.',
    ].join('\n');
    assert.deepEqual(detect(exchange(reply)), []);
  });

  test('not a switch: a translation the user asked for, or one the reply announces', () => {
    const english = 'Sure, this sentence is easy to say in another language and I am happy to help you with it. ';
    const spanish = 'Me gustaría reservar una mesa para dos personas esta noche, por favor.';
    assert.deepEqual(detect(exchange(english + spanish, 'How do I say "I would like to book a table for two tonight" in Spanish?')), []);
    assert.deepEqual(detect(exchange(english + 'Here it is in Spanish:\n' + spanish, 'Can you help with my trip?')), []);
    assert.deepEqual(detect(exchange(english + spanish, 'Hola, ¿puedes ayudarme con una reserva para esta noche?')), []);
    assert.equal(detect(exchange(english + spanish, 'Can you help me book a table?')).length, 1);
  });

  test('not a switch: a reply wholly in one other language (that is a mismatch, not a switch)', () => {
    assert.deepEqual(detect(exchange('Le musée est ouvert tous les jours sauf le lundi, et il ferme à dix-huit heures.', 'When is the museum open?')), []);
  });
});
