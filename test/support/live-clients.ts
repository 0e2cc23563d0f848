import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import type { LiveEventView, LiveSessionView } from '../../live/live-events.ts';
import type { TestUser } from './clients.ts';

/**
 * Live sessions in tests without a browser: a socket.io participant (as test/realtime/live.realtime.test.ts uses
 * one), and helpers that open a session through the JSON API and play a short, fixed session into it.
 */

export type LiveAck = { ok?: true; seq?: number | null; duplicate?: boolean; error?: { id: string; message: string } };
type JoinAck = { ok?: true; session?: LiveSessionView; events?: LiveEventView[]; error?: { id: string; message: string } };

/** A participant's socket, recording every event it receives. `close()` it when done. */
export class LiveClient {
  readonly socket: Socket;
  readonly events: LiveEventView[] = [];
  constructor(url: string, user: TestUser | null) {
    this.socket = connect(url, { transports: ['websocket'], reconnection: false, ...(user ? { auth: { token: user.token } } : {}) });
    this.socket.on('live:event', (e: LiveEventView) => this.events.push(e));
  }
  join(sessionId: string, sinceSeq = 0): Promise<JoinAck> {
    return new Promise((resolve) => this.socket.emit('live:join', { sessionId, sinceSeq }, resolve));
  }
  /** Sends an event with a fresh id; resolves with the ack and that id (the stored event's id). */
  async send(event: Record<string, unknown>): Promise<{ ack: LiveAck; id: string }> {
    const id = randomUUID();
    const ack = await new Promise<LiveAck>((resolve) => this.socket.emit('live:event', { id, ...event }, resolve));
    return { ack, id };
  }
  /** Sends and insists it was stored; returns the event id. */
  async sendOk(event: Record<string, unknown>): Promise<string> {
    const { ack, id } = await this.send(event);
    assert.equal(ack.ok, true, `event refused: ${JSON.stringify(ack)}`);
    return id;
  }
  async until(predicate: (events: LiveEventView[]) => boolean, what: string, ms = 15_000): Promise<void> {
    const started = Date.now();
    while (!predicate(this.events)) {
      if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}; got ${this.events.map((e) => e.type).join(',')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  close(): void {
    this.socket.disconnect();
  }
}

/** The fake model's reply in `standardSession`: three sentences, so three agreement segments (0-16, 16-27, 27-44). */
export const STANDARD_TOKENS = ['Cats are great. ', 'They purr. ', 'Dogs bark loudly.'];
export const STANDARD_ANSWER = STANDARD_TOKENS.join('');

/** Opens a session through the API as `owner` (its driver) and adds the people with their roles. */
export async function openLiveSession(
  owner: TestUser,
  options: { versionId: string; baseUrl: string; blind?: boolean; title?: string; people: Array<[TestUser, 'driver' | 'observer' | 'viewer']> },
): Promise<string> {
  const res = await owner.api.post('/live-sessions', {
    title: options.title ?? 'Pets probe',
    ethogramVersionId: options.versionId,
    target: { provider: 'openai-compatible', model: 'tiny', baseUrl: options.baseUrl, systemPrompt: 'Be brief.' },
    blind: options.blind ?? false,
  });
  assert.equal(res.status, 201, res.text);
  const id: string = res.body.id;
  for (const [user, role] of options.people) {
    const added = await owner.api.post(`/live-sessions/${id}/participants`, { email: user.email, role });
    assert.equal(added.status, 201, added.text);
  }
  return id;
}

/** Joins a client and insists it was let in. */
export async function joined(url: string, user: TestUser, sessionId: string): Promise<LiveClient> {
  const client = new LiveClient(url, user);
  const ack = await client.join(sessionId);
  assert.equal(ack.ok, true, `join refused: ${JSON.stringify(ack)}`);
  return client;
}

/** The driver prompts and waits for the answer to end; returns the answer as the log holds it. */
export async function promptAndWait(driver: LiveClient, sessionId: string, text: string): Promise<string> {
  const turn = driver.events.filter((e) => e.type === 'prompt').length;
  await driver.sendOk({ sessionId, type: 'prompt', text });
  await driver.until((es) => es.some((e) => e.type === 'answer.ended' && (e.payload as { turn: number }).turn === turn), `answer ${turn} to end`);
  return driver.events
    .filter((e): e is LiveEventView<'tokens'> => e.type === 'tokens' && (e.payload as { turn: number }).turn === turn)
    .sort((a, b) => a.payload.offset - b.payload.offset)
    .map((e) => e.payload.text)
    .join('');
}

export interface StandardSession {
  id: string;
  /** The event ids of the codes: Ann's point, state (left running, so the end closes it) and span; Bob's point and span. */
  codes: { annPoint: string; annState: string; annSpan: string; bobPoint: string; bobSpan: string };
  comment: string;
}

/**
 * A finished, non-blind session on one answer (`STANDARD_ANSWER`, the fake model must send `STANDARD_TOKENS`):
 * - Ann: SYC-FLATTER point at offset 10; LNG-SWITCH state from offset 16, never stopped (the end closes it);
 *   FAB-FACT span 27-44.
 * - Bob: SYC-FLATTER point at offset 12 (within the point tolerance of Ann's); FAB-FACT span 0-15.
 * - The viewer comments. The owner ends the session unless `end` is false.
 *
 * Per segment (0-16, 16-27, 27-44): SYC-FLATTER both present, both absent, both absent (Fleiss' kappa 1);
 * FAB-FACT Bob only, neither, Ann only (kappa -0.5); LNG-SWITCH neither, Ann only, Ann only (kappa -0.5).
 */
export async function standardSession(
  url: string,
  people: { owner: TestUser; ann: TestUser; bob: TestUser; viewer: TestUser },
  options: { versionId: string; baseUrl: string; end?: boolean; title?: string },
): Promise<StandardSession> {
  const id = await openLiveSession(people.owner, {
    versionId: options.versionId,
    baseUrl: options.baseUrl,
    title: options.title ?? 'Pets probe',
    people: [[people.ann, 'observer'], [people.bob, 'observer'], [people.viewer, 'viewer']],
  });
  const driver = await joined(url, people.owner, id);
  const ann = await joined(url, people.ann, id);
  const bob = await joined(url, people.bob, id);
  const viewer = await joined(url, people.viewer, id);
  try {
    const answer = await promptAndWait(driver, id, 'Tell me about pets');
    assert.equal(answer, STANDARD_ANSWER);
    const code = (behaviourCode: string, offset: number, span?: { start: number; end: number }) => ({
      sessionId: id, type: 'code', behaviourCode, at: { turn: 0, offset }, ...(span ? { span: { turn: 0, ...span } } : {}),
    });
    const codes = {
      annPoint: await ann.sendOk(code('SYC-FLATTER', 10)),
      annState: await ann.sendOk(code('LNG-SWITCH', 16)),
      annSpan: await ann.sendOk(code('FAB-FACT', 30, { start: 27, end: 44 })),
      bobPoint: await bob.sendOk(code('SYC-FLATTER', 12)),
      bobSpan: await bob.sendOk(code('FAB-FACT', 15, { start: 0, end: 15 })),
    };
    const comment = 'The second sentence is where it changes language.';
    await viewer.sendOk({ sessionId: id, type: 'comment', text: comment });
    if (options.end ?? true) {
      const ended = await people.owner.api.post(`/live-sessions/${id}/end`);
      assert.equal(ended.status, 200, ended.text);
    }
    return { id, codes, comment };
  } finally {
    for (const c of [driver, ann, bob, viewer]) c.close();
  }
}
