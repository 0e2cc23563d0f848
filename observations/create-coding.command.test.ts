// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../core/errors.ts';
import type { ModifierSetDef } from '../ethograms/ethogram.schema.ts';
import { checkModifiers, checkSpan } from './create-coding.command.ts';
import type { BehaviourRow } from '../ethograms/default-version.ts';
import type { Transcript } from './transcript.schema.ts';

const transcript: Transcript = {
  format: 'menagerie',
  messages: [
    { id: 'm1', role: 'user', parts: [{ type: 'text', text: 'Hello' }, { type: 'image', url: 'x' }] },
    { id: 'm2', role: 'assistant', parts: [{ type: 'text', text: 'Héllo 👋 there' }] },
  ],
};

function fields(fn: () => unknown): Record<string, string> {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.id, 'validation_failed');
    return err.details?.fields ?? {};
  }
  assert.fail('expected a 422');
}

describe('checkSpan', () => {
  test('returns the span with its quote, counting UTF-16 code units as the browser does', () => {
    assert.deepEqual(checkSpan(transcript, { messageId: 'm2', partIndex: 0, start: 6, end: 8 }), { messageId: 'm2', partIndex: 0, start: 6, end: 8, quote: '👋' });
    assert.equal(checkSpan(transcript, { messageId: 'm1', partIndex: 0, start: 0, end: 5 }).quote, 'Hello');
  });

  test('names the field at fault', () => {
    assert.ok(fields(() => checkSpan(transcript, { messageId: 'm7', partIndex: 0, start: 0, end: 1 }))['span.messageId']);
    assert.ok(fields(() => checkSpan(transcript, { messageId: 'm1', partIndex: 2, start: 0, end: 1 }))['span.partIndex']);
    assert.ok(fields(() => checkSpan(transcript, { messageId: 'm1', partIndex: 1, start: 0, end: 1 }))['span.partIndex'], 'images have no text');
    assert.match(fields(() => checkSpan(transcript, { messageId: 'm1', partIndex: 0, start: 0, end: 6 }))['span.end']!, /at most 5/);
    assert.ok(fields(() => checkSpan(transcript, { messageId: 'm1', partIndex: 0, start: 5, end: 6 }))['span.start']);
    assert.ok(fields(() => checkSpan(transcript, { messageId: 'm1', partIndex: 0, start: 3, end: 3 }))['span.end']);
  });
});

describe('checkModifiers', () => {
  const sets: ModifierSetDef[] = [
    { key: 'severity', name: 'Severity', type: 'single', values: ['mild', 'severe'] },
    { key: 'channels', name: 'Channels', type: 'multi', values: ['text', 'tool'] },
    { key: 'confidence', name: 'Confidence', type: 'numeric', min: 0, max: 1 },
    { key: 'note', name: 'Note', type: 'text' },
    { key: 'unused', name: 'Unused', type: 'text' },
  ];
  const behaviour = { code: 'REF-FULL', modifierSets: ['severity', 'channels', 'confidence', 'note'] } as BehaviourRow;

  test('accepts values that fit and stores a single multi answer as a list', () => {
    assert.deepEqual(checkModifiers(sets, behaviour, { severity: 'mild', channels: 'tool', confidence: 0.5, note: 'x' }), {
      severity: 'mild',
      channels: ['tool'],
      confidence: 0.5,
      note: 'x',
    });
  });

  test('refuses sets the behaviour does not take and values outside the set', () => {
    const f = fields(() => checkModifiers(sets, behaviour, { unused: 'x', mood: 'sad', severity: 'extreme', channels: ['text', 'fax'], confidence: 2, note: 3 }));
    assert.match(f['modifiers.unused']!, /takes no "unused" modifier/);
    assert.ok(f['modifiers.mood']);
    assert.match(f['modifiers.severity']!, /"mild", "severe"/);
    assert.ok(f['modifiers.channels']);
    assert.match(f['modifiers.confidence']!, /from 0 up to 1/);
    assert.ok(f['modifiers.note']);
  });
});
