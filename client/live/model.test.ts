// @database-free: this file never opens the test database, so CI runs it once (in the PGlite pass).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LiveEventView, StoredEventType, StoredPayloads } from '../../live/live-events.ts';
import { cleanDirty, RoomModel } from './model.ts';

const ME = '00000000-0000-4000-8000-00000000000a';

/** A room with one prompt whose answer has started streaming, and a way to deliver stored events to it. */
function streamingRoom() {
  const model = new RoomModel(ME);
  let seq = 0;
  const deliver = <T extends StoredEventType>(type: T, payload: StoredPayloads[T]) =>
    model.apply({ seq: ++seq, id: `e${seq}`, type, actorId: null, payload, at: '2026-11-27T00:00:00.000Z' } as LiveEventView, cleanDirty());
  const preview = (offset: number, text: string) => model.preview(0, offset, text, cleanDirty());
  deliver('prompt', { turn: 0, text: 'Hello?' });
  deliver('answer.started', { turn: 0, model: 'm' });
  const turn = () => model.turns[0]!;
  return { model, deliver, preview, turn };
}

describe('RoomModel: previewed answer text', () => {
  test('previews show at once after the stored text and are confirmed by the stored events', () => {
    const { deliver, preview, turn, model } = streamingRoom();
    assert.equal(preview(0, 'Hel'), true);
    assert.equal(preview(3, 'lo'), true);
    assert.equal(turn().answer, 'Hello');
    assert.equal(turn().stored, 0);
    assert.deepEqual(model.streamPosition(), { turn: 0, offset: 5 }, 'codes go where the person has read to');
    deliver('tokens', { turn: 0, offset: 0, text: 'Hel' });
    assert.equal(turn().answer, 'Hello', 'the stored text agrees: the preview after it stays');
    assert.equal(turn().stored, 3);
    deliver('tokens', { turn: 0, offset: 3, text: 'lo' });
    assert.equal(turn().stored, 5);
    assert.equal(preview(3, 'lo'), false, 'a repeat changes nothing');
  });

  test('a preview after a gap waits for the stored events; one overlapping the stored text adds only what is new', () => {
    const { deliver, preview, turn } = streamingRoom();
    assert.equal(preview(4, 'o!'), false, 'text in front of it was never shown');
    assert.equal(turn().answer, '');
    deliver('tokens', { turn: 0, offset: 0, text: 'Hell' });
    assert.equal(preview(2, 'llo!'), true);
    assert.equal(turn().answer, 'Hello!');
    assert.equal(turn().stored, 4);
  });

  test('stored text that disagrees with a preview replaces it and everything previewed after it', () => {
    const { deliver, preview, turn } = streamingRoom();
    preview(0, 'Hello');
    preview(5, ' world');
    deliver('tokens', { turn: 0, offset: 0, text: 'Help' });
    assert.equal(turn().answer, 'Help');
    assert.equal(turn().stored, 4);
  });

  test('stored text arriving early still waits for the stored text in front of it, previews or not', () => {
    const { deliver, preview, turn } = streamingRoom();
    preview(0, 'Hello');
    deliver('tokens', { turn: 0, offset: 3, text: 'lo' });
    assert.equal(turn().stored, 0, 'offset 3 is past the stored text');
    assert.equal(turn().answer, 'Hello');
    deliver('tokens', { turn: 0, offset: 0, text: 'Hel' });
    assert.equal(turn().stored, 5, 'the early piece is placed once what is in front of it is stored');
    assert.equal(turn().answer, 'Hello');
  });

  test('what was previewed but never stored is dropped when the answer ends, and later previews are ignored', () => {
    const { deliver, preview, turn } = streamingRoom();
    deliver('tokens', { turn: 0, offset: 0, text: 'Hel' });
    preview(3, 'lo');
    deliver('answer.ended', { turn: 0, status: 'stopped', length: 3, finishReason: null, modelVersion: null, usage: null, error: null });
    assert.equal(turn().answer, 'Hel');
    assert.equal(preview(3, 'lo'), false);
    assert.equal(turn().answer, 'Hel');
  });

  test('the session ending drops the unstored preview of an answer still streaming', () => {
    const { deliver, preview, turn } = streamingRoom();
    deliver('tokens', { turn: 0, offset: 0, text: 'Hi' });
    preview(2, ' there');
    deliver('session.ended', { closedStates: [] });
    assert.equal(turn().status, 'stopped');
    assert.equal(turn().answer, 'Hi');
  });
});
