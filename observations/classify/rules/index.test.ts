// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { behaviourCodesFor, DETECTORS, runDetectors } from './index.ts';
import { conversation, exchange } from './transcript-builders.ts';

const starter = JSON.parse(readFileSync(new URL('../../../ethograms/starter/llm-starter.ethogram.json', import.meta.url), 'utf8')) as { behaviours: Array<{ code: string }> };
const starterCodes = new Set(starter.behaviours.map((b) => b.code));

describe('rule detector registry', () => {
  test('lists the five detectors with unique ids, names and descriptions', () => {
    assert.deepEqual(DETECTORS.map((d) => d.id), ['repetition-loop', 'language-switch', 'stock-refusal', 'empty-or-truncated', 'unusual-tokens']);
    for (const d of DETECTORS) assert.ok(d.name && d.description.length > 20, d.id);
  });

  test('every default behaviour code exists in the starter ethogram; unmapped kinds say why', () => {
    for (const d of DETECTORS) {
      for (const [code, kind] of Object.entries(d.findings)) {
        for (const b of kind.behaviourCodes) assert.ok(starterCodes.has(b), `${d.id}/${code} maps to unknown ${b}`);
        if (kind.behaviourCodes.length === 0) assert.ok(kind.note, `${d.id}/${code} has no codes and no note`);
      }
    }
  });

  test('every finding a detector emits is declared in the registry, in range, with an exact span', () => {
    const transcripts = [
      exchange('The same line again. '.repeat(6) + 'hahahahahahahahahahahaha'),
      exchange('The museum opens at nine in the morning and it is closed on Mondays. Le musée est fermé tous les lundis et le mardi matin aussi.'),
      exchange("I'm sorry, but I can't help with that."),
      exchange(''),
      exchange('Here:\n```\nunclosed'),
      exchange('cafÃ© <|im_end|> \uFFFD pass\u200Bword ]]>}{@#$%^&*() petertodd', 'SolidGoldMagikarp'),
      conversation([['user', 'x'], ['assistant', [{ type: 'refusal', text: 'No.' }]]]),
    ];
    const seen = new Set<string>();
    for (const [i, t] of transcripts.entries()) {
      for (const f of runDetectors(t, i === 0 ? { stopReason: 'length' } : {})) {
        seen.add(f.code);
        const entry = DETECTORS.find((d) => d.id === f.detector);
        assert.ok(entry?.findings[f.code], `${f.detector}/${f.code} is not declared`);
        assert.ok(f.confidence >= 0 && f.confidence <= 1);
        assert.ok(f.explanation.length > 10);
        if (f.span) {
          const message = t.messages.find((m) => m.id === f.span!.messageId)!;
          const part = message.parts[f.span.partIndex]!;
          assert.ok('text' in part);
          assert.equal((part as { text: string }).text.slice(f.span.charStart, f.span.charEnd), f.span.quote);
          assert.ok(f.span.charEnd > f.span.charStart);
        }
      }
    }
    for (const code of ['repetition_loop', 'character_loop', 'language_switch', 'refusal_full', 'empty_output', 'stop_reason_length', 'unclosed_code_fence', 'mojibake', 'special_token_leak', 'replacement_character', 'invisible_characters', 'nonword_run', 'known_glitch_token', 'glitch_token_in_prompt']) {
      assert.ok(seen.has(code), `no test transcript produced ${code}`);
    }
    assert.deepEqual(behaviourCodesFor({ detector: 'stock-refusal', code: 'refusal_partial' }), ['REF-PART']);
    assert.deepEqual(behaviourCodesFor({ detector: 'nope', code: 'x' }), []);
  });

  test('runDetectors can run a chosen subset', () => {
    const t = exchange("I'm sorry, but I can't help with that. ".repeat(4));
    assert.deepEqual([...new Set(runDetectors(t, {}, ['repetition-loop']).map((f) => f.detector))], ['repetition-loop']);
    assert.ok(runDetectors(t).some((f) => f.detector === 'stock-refusal'));
  });
});
