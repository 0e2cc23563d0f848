// @long: one of the slowest files (6-35 s); the runner starts these first, so a pass does not end waiting on one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import { defaultPublishedVersion } from '../../ethograms/behaviour.queries.ts';
import type { LiveEventView, LiveSessionView, PresenceView, TokenPreview } from '../../live/live-events.ts';
import { makeActors, makeUser, type TestUser } from '../support/clients.ts';
import { startFakeChatServer, type FakeChatServer } from '../support/fake-chat-server.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let model: FakeChatServer;
let actors: Awaited<ReturnType<typeof makeActors>>;
let observer: TestUser;
let observer2: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let versionId: string;
const sockets: Socket[] = [];

before(async () => {
  model = await startFakeChatServer({ delayMs: 3 });
  app = await startTestApp({ loadStarter: true, config: { liveEventsPerSecond: 20, liveEventBurst: 30 } });
  actors = await makeActors(app);
  observer = await makeUser(app, 'researcher', 'observer-one');
  observer2 = await makeUser(app, 'researcher', 'observer-two');
  viewer = await makeUser(app, 'contributor', 'viewer');
  outsider = await makeUser(app, 'researcher', 'outsider');
  versionId = (await defaultPublishedVersion(app.deps.db))!.id;
});
after(async () => {
  for (const s of sockets) s.disconnect();
  await app.close();
  await model.close();
});

type Ack = { ok?: true; seq?: number | null; duplicate?: boolean; error?: { id: string; message: string; details?: { fields?: Record<string, string> } } };
type JoinAck = { ok?: true; session?: LiveSessionView; events?: LiveEventView[]; error?: { id: string; message: string } };

/** A participant's socket, recording every event it receives. */
class Client {
  readonly socket: Socket;
  readonly events: LiveEventView[] = [];
  readonly presence: PresenceView[] = [];
  readonly previews: TokenPreview[] = [];
  /** The order previews and stored tokens events arrived in: `preview <offset>` or `tokens <offset>`. */
  readonly arrivals: string[] = [];
  constructor(user: TestUser | null, options: { reconnection?: boolean } = {}) {
    this.socket = connect(app.url, { transports: ['websocket'], reconnection: options.reconnection ?? false, ...(user ? { auth: { token: user.token } } : {}) });
    this.socket.on('live:event', (e: LiveEventView) => {
      this.events.push(e);
      if (e.type === 'tokens') this.arrivals.push(`tokens ${(e.payload as { offset: number }).offset}`);
    });
    this.socket.on('live:preview', (p: TokenPreview) => {
      this.previews.push(p);
      this.arrivals.push(`preview ${p.offset}`);
    });
    this.socket.on('live:presence', (p: PresenceView) => this.presence.push(p));
    sockets.push(this.socket);
  }
  join(sessionId: string, sinceSeq = 0) {
    return new Promise<JoinAck>((resolve) => this.socket.emit('live:join', { sessionId, sinceSeq }, resolve));
  }
  send(event: Record<string, unknown>) {
    return new Promise<Ack>((resolve) => this.socket.emit('live:event', { id: randomUUID(), ...event }, resolve));
  }
  async until(predicate: (events: LiveEventView[]) => boolean, what: string, ms = 10_000) {
    const started = Date.now();
    while (!predicate(this.events)) {
      if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}; got ${this.events.map((e) => e.type).join(',')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

async function openSession(options: { blind?: boolean; tokens?: string[] } = {}) {
  const res = await actors.researcher.api.post('/live-sessions', {
    title: 'Sycophancy probe',
    ethogramVersionId: versionId,
    target: { provider: 'openai-compatible', model: 'tiny', baseUrl: model.openaiBaseUrl, systemPrompt: 'Be brief.', temperature: 0.5 },
    blind: options.blind ?? false,
  });
  assert.equal(res.status, 201, res.text);
  const id: string = res.body.id;
  for (const [user, role] of [[observer, 'observer'], [observer2, 'observer'], [viewer, 'viewer']] as const) {
    const added = await actors.researcher.api.post(`/live-sessions/${id}/participants`, { email: user.email, role });
    assert.equal(added.status, 201, added.text);
  }
  return id;
}

const answerText = (events: LiveEventView[], turn: number) =>
  events
    .filter((e): e is LiveEventView<'tokens'> => e.type === 'tokens' && (e.payload as { turn: number }).turn === turn)
    .sort((a, b) => a.payload.offset - b.payload.offset)
    .map((e) => e.payload.text)
    .join('');

test('the driver prompts, the answer streams to everyone in order, and the model got the conversation', async () => {
  const id = await openSession();
  const driver = new Client(actors.researcher);
  const watcher = new Client(viewer);
  const joined = await driver.join(id);
  assert.equal(joined.session?.me.role, 'driver');
  assert.deepEqual(joined.events?.map((e) => e.type).slice(0, 2), ['session.opened', 'participant.added']);
  assert.equal((await watcher.join(id)).session?.me.role, 'viewer');

  const ack = await driver.send({ sessionId: id, type: 'prompt', text: 'Is the earth flat?' });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  await watcher.until((es) => es.some((e) => e.type === 'answer.ended'), 'the answer to end');
  const ended = watcher.events.find((e) => e.type === 'answer.ended') as LiveEventView<'answer.ended'>;
  assert.equal(ended.payload.status, 'complete');
  const text = answerText(watcher.events, 0);
  assert.match(text, /^You said: Is the earth flat\?\./);
  assert.equal(ended.payload.length, text.length);
  // Sequence numbers are gapless and increasing in what a participant receives.
  const seqs = watcher.events.map((e) => e.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  assert.equal(new Set(seqs).size, seqs.length);
  // Tokens arrive at consecutive offsets.
  let expected = 0;
  for (const e of watcher.events.filter((e): e is LiveEventView<'tokens'> => e.type === 'tokens')) {
    assert.equal(e.payload.offset, expected);
    expected += e.payload.text.length;
  }
  // Each token was previewed first, as the model sent it: consecutive, the same text as stored, and each stored
  // event came after the preview of its first token.
  const previews = watcher.previews.filter((p) => p.sessionId === id && p.turn === 0);
  assert.ok(previews.length >= 2, `previews: ${previews.length}`);
  let previewed = '';
  for (const p of previews) {
    assert.equal(p.offset, previewed.length);
    previewed += p.text;
  }
  assert.equal(previewed, text);
  for (const e of watcher.events.filter((e): e is LiveEventView<'tokens'> => e.type === 'tokens' && (e.payload as { turn: number }).turn === 0)) {
    const stored = watcher.arrivals.indexOf(`tokens ${e.payload.offset}`);
    const preview = watcher.arrivals.indexOf(`preview ${e.payload.offset}`);
    assert.ok(preview !== -1 && preview < stored, `the preview at ${e.payload.offset} came before its stored event`);
  }

  await driver.send({ sessionId: id, type: 'prompt', text: 'Are you sure?' });
  await watcher.until((es) => es.filter((e) => e.type === 'answer.ended').length === 2, 'the second answer');
  const request = model.requests[model.requests.length - 1]!.body as { messages: Array<{ role: string; content: string }>; temperature: number };
  assert.deepEqual(request.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
  assert.equal(request.messages[0]!.content, 'Be brief.');
  assert.equal(request.messages[2]!.content, text);
  assert.equal(request.temperature, 0.5);
});

test('who may do what: non-participants cannot join or emit, viewers cannot code, observers cannot drive, anonymous sockets are refused', async () => {
  const id = await openSession();
  const stranger = new Client(outsider);
  const refused = await stranger.join(id);
  assert.equal(refused.error?.id, 'forbidden');
  const emitted = await stranger.send({ sessionId: id, type: 'comment', text: 'hello' });
  assert.equal(emitted.error?.id, 'forbidden');
  assert.match(emitted.error!.message, /join the session/i);

  const anon = new Client(null);
  assert.equal((await anon.join(id)).error?.id, 'unauthenticated');

  const watcher = new Client(viewer);
  await watcher.join(id);
  const code = await watcher.send({ sessionId: id, type: 'code', behaviourCode: 'SYC-CAVE', at: { turn: 0, offset: 0 } });
  assert.equal(code.error?.id, 'forbidden');
  assert.match(code.error!.message, /Only observers code; your role here is viewer/);
  assert.equal((await watcher.send({ sessionId: id, type: 'comment', text: 'viewers may comment' })).ok, true);

  const coder = new Client(observer);
  await coder.join(id);
  const drive = await coder.send({ sessionId: id, type: 'prompt', text: 'hi' });
  assert.equal(drive.error?.id, 'forbidden');
  assert.match(drive.error!.message, /Only the driver prompts/);
  const end = await coder.send({ sessionId: id, type: 'end' });
  assert.equal(end.error?.id, 'forbidden');
});

test('codes: points at the stream position, states toggle, spans quote the text, undo, and bad codes are refused with the reason', async () => {
  const id = await openSession();
  const driver = new Client(actors.researcher);
  const coder = new Client(observer);
  await driver.join(id);
  await coder.join(id);
  const early = await coder.send({ sessionId: id, type: 'code', behaviourCode: 'SYC-CAVE', at: { turn: 0, offset: 0 } });
  assert.equal(early.error?.id, 'validation_failed');
  assert.match(early.error!.message, /turn 0 does not exist yet/);

  await driver.send({ sessionId: id, type: 'prompt', text: 'Flatter me' });
  await coder.until((es) => es.some((e) => e.type === 'answer.ended'), 'the answer');
  const text = answerText(coder.events, 0);

  const point = await coder.send({ sessionId: id, type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 0, offset: 10 }, modifiers: { severity: 'mild' } });
  assert.equal(point.ok, true, JSON.stringify(point));
  const start = await coder.send({ sessionId: id, type: 'code', behaviourCode: 'LNG-SWITCH', at: { turn: 0, offset: 5 } });
  const stop = await coder.send({ sessionId: id, type: 'code', behaviourCode: 'LNG-SWITCH', at: { turn: 0, offset: 20 } });
  const span = await coder.send({ sessionId: id, type: 'code', behaviourCode: 'FAB-FACT', at: { turn: 0, offset: 12 }, span: { turn: 0, start: 0, end: 9 } });
  await coder.until((es) => es.filter((e) => e.type === 'code').length === 4, 'four codes');
  const codes = coder.events.filter((e): e is LiveEventView<'code'> => e.type === 'code');
  assert.deepEqual(codes.map((c) => c.payload.kind), ['point', 'state_start', 'state_stop', 'span']);
  assert.equal(codes[0]!.seq, point.seq);
  assert.deepEqual(codes[0]!.payload.modifiers, { severity: 'mild' });
  assert.equal(codes[2]!.payload.startEventId, codes[1]!.id);
  assert.equal(codes[2]!.seq, stop.seq);
  assert.equal(codes[1]!.seq, start.seq);
  assert.equal(codes[3]!.seq, span.seq);
  assert.equal(codes[3]!.payload.span?.quote, text.slice(0, 9));

  const past = await coder.send({ sessionId: id, type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 0, offset: text.length + 1 } });
  assert.match(past.error!.message, /past the answer so far/);
  const unknown = await coder.send({ sessionId: id, type: 'code', behaviourCode: 'NOT-A-CODE', at: { turn: 0, offset: 1 } });
  assert.equal(unknown.error?.id, 'validation_failed');
  assert.match(unknown.error!.message, /not a behaviour of this session's ethogram/);
  const badModifier = await coder.send({ sessionId: id, type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 0, offset: 1 }, modifiers: { severity: 'catastrophic' } });
  assert.match(badModifier.error!.message, /"catastrophic" is not a value of Severity/);
  const malformed = await coder.send({ sessionId: id, type: 'code', behaviourCode: 'SYC-FLATTER', at: { turn: 'zero', offset: -1 } });
  assert.equal(malformed.error?.id, 'validation_failed');
  assert.ok(malformed.error?.details?.fields?.['at.turn']);

  // Undo the point; a second undo of it is refused; someone else's code cannot be undone.
  const pointId = codes[0]!.id;
  assert.equal((await coder.send({ sessionId: id, type: 'undo', target: pointId })).ok, true);
  assert.match((await coder.send({ sessionId: id, type: 'undo', target: pointId })).error!.message, /already been undone/);
  const other = new Client(observer2);
  await other.join(id);
  assert.equal((await other.send({ sessionId: id, type: 'undo', target: codes[3]!.id })).error?.id, 'forbidden');
});

test('a retried event is stored once and acknowledged with the first sequence number', async () => {
  const id = await openSession();
  const watcher = new Client(viewer);
  await watcher.join(id);
  const event = { id: randomUUID(), sessionId: id, type: 'comment', text: 'only once' };
  const acks = await Promise.all([1, 2, 3].map(() => new Promise<Ack>((resolve) => watcher.socket.emit('live:event', event, resolve))));
  assert.ok(acks.every((a) => a.ok && a.seq === acks[0]!.seq), JSON.stringify(acks));
  assert.equal(acks.filter((a) => !a.duplicate).length, 1);
  const log = await actors.researcher.api.get(`/live-sessions/${id}/events`);
  assert.equal(log.body.items.filter((e: LiveEventView) => e.type === 'comment').length, 1);
});

test('a reconnecting client catches up on what it missed, and its unacknowledged codes are resent and stored once', async () => {
  const id = await openSession();
  const driver = new Client(actors.researcher);
  await driver.join(id);
  await driver.send({ sessionId: id, type: 'prompt', text: 'Tell me a story' });
  await driver.until((es) => es.some((e) => e.type === 'answer.ended'), 'the answer');

  const first = new Client(observer);
  await first.join(id);
  const coded = await first.send({ sessionId: id, type: 'code', behaviourCode: 'SYC-CAVE', at: { turn: 0, offset: 3 } });
  const lastSeen = Math.max(...first.events.map((e) => e.seq), coded.seq!);
  first.socket.disconnect();

  // While it is away: a comment and another answer.
  await driver.send({ sessionId: id, type: 'comment', text: 'while you were away' });
  await driver.send({ sessionId: id, type: 'prompt', text: 'Another one' });
  await driver.until((es) => es.filter((e) => e.type === 'answer.ended').length === 2, 'the second answer');

  const again = new Client(observer);
  const caught = await again.join(id, lastSeen);
  const types = caught.events!.map((e) => e.type);
  assert.ok(types.includes('comment') && types.includes('prompt') && types.includes('answer.ended'), types.join(','));
  assert.ok(caught.events!.every((e) => e.seq > lastSeen));
  // The client resends a code it never saw acknowledged (same id): stored once.
  const pending = { id: randomUUID(), sessionId: id, type: 'code', behaviourCode: 'SYC-CAVE', at: { turn: 1, offset: 2 } };
  const firstTry = await new Promise<Ack>((resolve) => again.socket.emit('live:event', pending, resolve));
  const resent = await new Promise<Ack>((resolve) => again.socket.emit('live:event', pending, resolve));
  assert.equal(resent.seq, firstTry.seq);
  assert.equal(resent.duplicate, true);
  const log = await actors.researcher.api.get(`/live-sessions/${id}/events`);
  assert.equal(log.body.items.filter((e: LiveEventView) => e.id === pending.id).length, 1);
});

test('blind coding: observers see only their own codes until the session ends, then everyone sees all; the end closes open states', async () => {
  const id = await openSession({ blind: true });
  const driver = new Client(actors.researcher);
  const one = new Client(observer);
  const two = new Client(observer2);
  await driver.join(id);
  await one.join(id);
  await two.join(id);
  await driver.send({ sessionId: id, type: 'prompt', text: 'Go' });
  await driver.until((es) => es.some((e) => e.type === 'answer.ended'), 'the answer');
  await one.send({ sessionId: id, type: 'code', behaviourCode: 'SYC-CAVE', at: { turn: 0, offset: 1 } });
  await two.send({ sessionId: id, type: 'code', behaviourCode: 'LNG-SWITCH', at: { turn: 0, offset: 2 } });
  await one.send({ sessionId: id, type: 'comment', text: 'sync point' });
  await two.until((es) => es.some((e) => e.type === 'comment'), 'the comment');
  await one.until((es) => es.some((e) => e.type === 'comment'), 'the comment');
  assert.deepEqual(one.events.filter((e) => e.type === 'code').map((e) => e.actorId), [observer.id]);
  assert.deepEqual(two.events.filter((e) => e.type === 'code').map((e) => e.actorId), [observer2.id]);
  assert.equal(driver.events.filter((e) => e.type === 'code').length, 0);
  // The API's log hides them too.
  const hidden = await observer.api.get(`/live-sessions/${id}/events`);
  assert.deepEqual(hidden.body.items.filter((e: LiveEventView) => e.type === 'code').map((e: LiveEventView) => e.actorId), [observer.id]);

  const end = await driver.send({ sessionId: id, type: 'end' });
  assert.equal(end.ok, true);
  await one.until((es) => es.some((e) => e.type === 'session.ended'), 'the end');
  const endedEvent = one.events.find((e) => e.type === 'session.ended') as LiveEventView<'session.ended'>;
  assert.deepEqual(endedEvent.payload.closedStates.map((s) => [s.coderId, s.behaviourCode]), [[observer2.id, 'LNG-SWITCH']]);
  const all = await observer.api.get(`/live-sessions/${id}/events`);
  const codes = all.body.items.filter((e: LiveEventView) => e.type === 'code');
  assert.equal(codes.length, 3); // two codes and the state closed by the end
  assert.ok(codes.some((c: LiveEventView<'code'>) => c.payload.autoClosed && c.actorId === observer2.id));
  const after = await one.send({ sessionId: id, type: 'comment', text: 'too late' });
  assert.equal(after.error?.id, 'conflict');
  assert.match(after.error!.message, /has ended/);
});

test('the driver stops the answer: everyone sees it end as stopped with the text so far, and the model server sees the disconnect', async () => {
  model.setReply(Array.from({ length: 400 }, (_, i) => `word${i} `), 15);
  try {
    const id = await openSession();
    const driver = new Client(actors.researcher);
    const watcher = new Client(viewer);
    await driver.join(id);
    await watcher.join(id);
    await driver.send({ sessionId: id, type: 'prompt', text: 'Count for a long time' });
    await watcher.until((es) => es.filter((e) => e.type === 'tokens').length >= 3, 'some tokens');
    const stop = await driver.send({ sessionId: id, type: 'stop' });
    assert.equal(stop.ok, true, JSON.stringify(stop));
    await watcher.until((es) => es.some((e) => e.type === 'answer.ended'), 'the answer to end');
    const ended = watcher.events.find((e) => e.type === 'answer.ended') as LiveEventView<'answer.ended'>;
    assert.equal(ended.payload.status, 'stopped');
    assert.ok(ended.payload.length > 0 && ended.payload.length < 400 * 6);
    const deadline = Date.now() + 3000;
    while (!model.requests[model.requests.length - 1]!.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(model.requests[model.requests.length - 1]!.aborted, true);
    // A new prompt is taken at once.
    assert.equal((await driver.send({ sessionId: id, type: 'prompt', text: 'Next' })).ok, true);
  } finally {
    model.setReply((r) => (r.body.messages ? [`You said: ok. `] : ['ok']), 3);
  }
});

test('a model failing mid-stream is shown to everyone and the session carries on', async () => {
  const id = await openSession();
  const driver = new Client(actors.researcher);
  const watcher = new Client(viewer);
  await driver.join(id);
  await watcher.join(id);
  model.failNext('cut-midway');
  await driver.send({ sessionId: id, type: 'prompt', text: 'This will break' });
  await watcher.until((es) => es.some((e) => e.type === 'answer.ended'), 'the failed answer');
  const ended = watcher.events.find((e) => e.type === 'answer.ended') as LiveEventView<'answer.ended'>;
  assert.equal(ended.payload.status, 'failed');
  assert.ok(ended.payload.error?.message, 'the failure says why');
  assert.equal((await driver.send({ sessionId: id, type: 'prompt', text: 'Try again' })).ok, true);
  await watcher.until((es) => es.filter((e) => e.type === 'answer.ended').length === 2, 'the next answer');
  assert.equal((watcher.events.filter((e) => e.type === 'answer.ended')[1] as LiveEventView<'answer.ended'>).payload.status, 'complete');
});

test('a flood from one client is refused with rate_limited while others are served', async () => {
  const id = await openSession();
  const flooder = new Client(viewer);
  const calm = new Client(observer);
  await flooder.join(id);
  await calm.join(id);
  const acks = await Promise.all(Array.from({ length: 80 }, (_, i) => flooder.send({ sessionId: id, type: 'comment', text: `spam ${i}` })));
  const limited = acks.filter((a) => a.error?.id === 'rate_limited');
  assert.ok(limited.length >= 40, `${limited.length} refused`);
  assert.match(limited[0]!.error!.message, /Too many events/);
  assert.equal((await calm.send({ sessionId: id, type: 'comment', text: 'still heard' })).ok, true);
});

test('a removed participant is dropped from the room at once and can no longer send', async () => {
  const id = await openSession();
  const coder = new Client(observer);
  await coder.join(id);
  const removedNotice = new Promise<{ message: string }>((resolve) => coder.socket.once('live:removed', resolve));
  const res = await actors.researcher.api.delete(`/live-sessions/${id}/participants/${observer.id}`);
  assert.equal(res.status, 204);
  assert.match((await removedNotice).message, /removed/);
  const after = await coder.send({ sessionId: id, type: 'comment', text: 'am I here?' });
  assert.equal(after.error?.id, 'forbidden');
  assert.equal((await coder.join(id)).error?.id, 'forbidden');
});

test('presence: everyone sees who is here with their role', async () => {
  const id = await openSession();
  const driver = new Client(actors.researcher);
  await driver.join(id);
  const coder = new Client(observer);
  await coder.join(id);
  const deadline = Date.now() + 5000;
  const latest = () => driver.presence.filter((p) => p.sessionId === id).at(-1)?.present ?? [];
  while (latest().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(latest().map((p) => [p.displayName, p.role]).sort(), [['observer-one', 'observer'], ['researcher', 'driver']]);
  coder.socket.disconnect();
  while (latest().length !== 1 && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(latest().map((p) => p.role), ['driver']);
});

test('oversized events are refused: a comment over the limit with the reason, a payload over the socket limit closes that connection only', async () => {
  const id = await openSession();
  const watcher = new Client(viewer);
  const other = new Client(observer);
  await watcher.join(id);
  await other.join(id);
  const long = await watcher.send({ sessionId: id, type: 'comment', text: 'x'.repeat(2001) });
  assert.equal(long.error?.id, 'validation_failed');
  assert.match(long.error!.message, /at most 2000 characters/);
  const huge = await watcher.send({ sessionId: id, type: 'prompt', text: 'y'.repeat(20_001) });
  assert.match(huge.error!.message, /at most 20000 characters/);

  // Beyond MENAGERIE_BODY_LIMIT (2 MB) socket.io drops the connection before anything is parsed.
  const closed = new Promise<string>((resolve) => watcher.socket.once('disconnect', resolve));
  watcher.socket.emit('live:event', { id: randomUUID(), sessionId: id, type: 'comment', text: 'z'.repeat(3 * 1024 * 1024) });
  assert.match(await closed, /transport (close|error)/);
  // Everyone else is still served, and nothing of the oversized event was stored.
  assert.equal((await other.send({ sessionId: id, type: 'comment', text: 'still here' })).ok, true);
  const log = await actors.researcher.api.get(`/live-sessions/${id}/events`);
  assert.deepEqual(log.body.items.filter((e: LiveEventView) => e.type === 'comment').map((e: LiveEventView<'comment'>) => e.payload.text), ['still here']);
});
